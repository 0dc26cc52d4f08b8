import type { Channel } from '../domain/types.ts';
import type { DeliveryDeps } from '../handlers/channel-driver.ts';
import type { Logger } from '../ports/logger.ts';
import type { Ports } from '../ports/ports.ts';
import type { LambdaEnv } from './env.ts';

/** What both delivery consumers need from the ports, as `src/runtime/pipeline.ts` wires it locally. */
export function deliveryDeps(ports: Ports, env: LambdaEnv, logger: Logger, channel: Channel): DeliveryDeps {
  return {
    queue: ports.queues[channel],
    preferences: ports.preferences,
    preferenceCache: ports.preferenceCache,
    dedup: ports.dedup,
    audit: ports.audit,
    clock: ports.clock,
    logger,
    // A job failing on this receive is audited as dead-lettered before SQS moves it: the number
    // must be the queue's redrive maxReceiveCount, which the CDK app sets from the same value.
    maxReceiveCount: env.maxReceiveCount,
    // Tombstones of retracted events live in the inbox table (read access granted in infra/).
    retractions: ports.inbox,
  };
}

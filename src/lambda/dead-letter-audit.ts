import type { Context, ScheduledEvent } from 'aws-lambda';
import { CHANNELS, type Channel } from '../domain/types.ts';
import { auditDeadLetters, type DeadLetterAuditResult } from '../handlers/dead-letter-audit.ts';
import { FunctionKind } from './env.ts';
import { defaultDeps, type LambdaDeps, lambdaRuntime, MetricName } from './powertools.ts';

/**
 * Dead letters read per channel and run. Each is one ReceiveMessage and one visibility change per
 * 10; a DLQ holding more is covered over the next runs (SQS hands out its messages in no fixed
 * order), and its alarm has already called the operator.
 */
export const DEAD_LETTERS_PER_RUN = 500;

/**
 * The dead-letter audit, run every minute by an EventBridge schedule: for each channel's
 * dead-letter queue, writes the `dead_lettered` audit record of every message that has none (a
 * message whose last receive never reached the consumer: a throttled or timed-out invocation).
 * The messages stay in the DLQ for the operator to redrive. See `handlers/dead-letter-audit.ts`.
 */
export function createDeadLetterAuditHandler(
  deps: LambdaDeps,
): (event: ScheduledEvent, context: Context) => Promise<Record<Channel, DeadLetterAuditResult>> {
  const runtime = lambdaRuntime(deps);
  return runtime.wrap(async () => {
    const ports = await runtime.ports();
    const results = {} as Record<Channel, DeadLetterAuditResult>;
    for (const channel of CHANNELS) {
      const result = await auditDeadLetters(ports.queues[channel], DEAD_LETTERS_PER_RUN, {
        audit: ports.audit,
        dedup: ports.dedup,
        clock: ports.clock,
        logger: runtime.logger,
      });
      runtime.counters.add(MetricName.DeadLettersAudited, result.audited);
      if (result.seen > 0) runtime.logger.info('dead-letter audit', { channel, ...result });
      results[channel] = result;
    }
    return results;
  });
}

/** The entry point the CDK app points at (`dead-letter-audit.handler`). */
export const handler = createDeadLetterAuditHandler(defaultDeps(FunctionKind.DeadLetterAudit));

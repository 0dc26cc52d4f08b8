import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { consumePush } from '../handlers/push-consumer.ts';
import { deliveryDeps } from './delivery.ts';
import { FunctionKind } from './env.ts';
import { defaultDeps, type LambdaDeps, lambdaRuntime, MetricName } from './powertools.ts';

/**
 * The push consumer: SQS (push queue) → preferences, consent, quiet hours, frequency caps (on
 * MemoryDB), dedup → SNS mobile push or the direct APNs / FCM clients.
 *
 * The event-source mapping must set `FunctionResponseTypes: ['ReportBatchItemFailures']`; the
 * handler's `batchItemFailures` (message ids to retry, poison included so the redrive policy
 * dead-letters it) are returned as they are. The Powertools BatchProcessor is not used: the
 * handler claims the whole batch in the dedup store in one round-trip and appends its audit
 * records in one call, which a per-record processor cannot express.
 */
export function createPushConsumerHandler(
  deps: LambdaDeps,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const runtime = lambdaRuntime(deps);
  return runtime.wrap(async (event) => {
    const ports = await runtime.ports();
    const response = await consumePush(event, {
      ...deliveryDeps(ports, deps.env(), runtime.logger, 'push'),
      devices: ports.devices,
      push: ports.push,
      // Digests read the group's item (a GetItem on the inbox table) to show it as it is now.
      inbox: ports.inbox,
      caps: { store: ports.frequencyCaps, defaults: deps.env().frequencyCaps },
    });
    runtime.counters.add(MetricName.BatchItemFailures, response.batchItemFailures.length);
    return response;
  });
}

/** The entry point the CDK app points at (`push-consumer.handler`). */
export const handler = createPushConsumerHandler(defaultDeps(FunctionKind.PushConsumer));

import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { consumeEmail } from '../handlers/email-consumer.ts';
import { deliveryDeps } from './delivery.ts';
import { FunctionKind } from './env.ts';
import { defaultDeps, type LambdaDeps, lambdaRuntime, MetricName } from './powertools.ts';

/**
 * The email consumer: SQS (email queue) → preferences, consent, dedup → SES v2, with RFC 8058
 * one-click List-Unsubscribe links under FANOUT_PUBLIC_BASE_URL when it is set.
 *
 * Partial batch response as in the push consumer (`ReportBatchItemFailures` on the mapping), and
 * for the same reason without the Powertools BatchProcessor: one dedup round-trip per batch.
 */
export function createEmailConsumerHandler(
  deps: LambdaDeps,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const runtime = lambdaRuntime(deps);
  return runtime.wrap(async (event) => {
    const ports = await runtime.ports();
    const env = deps.env();
    const response = await consumeEmail(event, {
      ...deliveryDeps(ports, env, runtime.logger, 'email'),
      email: ports.email,
      ...(env.publicBaseUrl === undefined ? {} : { unsubscribeBaseUrl: env.publicBaseUrl }),
    });
    runtime.counters.add(MetricName.BatchItemFailures, response.batchItemFailures.length);
    return response;
  });
}

/** The entry point the CDK app points at (`email-consumer.handler`). */
export const handler = createEmailConsumerHandler(defaultDeps(FunctionKind.EmailConsumer));

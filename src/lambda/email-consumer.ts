import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createUnsubscribeTokens } from '../domain/unsubscribe.ts';
import { consumeEmail, type EmailDeps } from '../handlers/email-consumer.ts';
import { SettingsError } from '../lib/settings.ts';
import { deliveryDeps } from './delivery.ts';
import { envSubject, FunctionKind, type LambdaEnv } from './env.ts';
import { defaultDeps, type LambdaDeps, lambdaRuntime, MetricName } from './powertools.ts';

/**
 * The email consumer: SQS (email queue) → preferences, consent, dedup → SES v2, with signed RFC
 * 8058 one-click List-Unsubscribe links under FANOUT_PUBLIC_BASE_URL when it is set, signed with
 * FANOUT_UNSUBSCRIBE_SECRET (the key the API's unsubscribe route checks them with).
 *
 * Partial batch response as in the push consumer (`ReportBatchItemFailures` on the mapping), and
 * for the same reason without the Powertools BatchProcessor: one dedup round-trip per batch.
 */
export function createEmailConsumerHandler(
  deps: LambdaDeps,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const runtime = lambdaRuntime(deps);
  const unsubscribe = unsubscribeOnce();
  return runtime.wrap(async (event) => {
    const env = deps.env();
    // Before the ports: a deployment that cannot sign its links fails before it sends anything.
    const links = unsubscribe(env);
    const ports = await runtime.ports();
    const response = await consumeEmail(event, {
      ...deliveryDeps(ports, env, runtime.logger, 'email'),
      email: ports.email,
      digests: ports.digestSchedule,
      ...(links === undefined ? {} : { unsubscribe: links }),
    });
    runtime.counters.add(MetricName.BatchItemFailures, response.batchItemFailures.length);
    return response;
  });
}

/**
 * The unsubscribe links of an environment, built once per container. A public base URL without a
 * signing key is a configuration error, not "no links": email without a working unsubscribe link
 * is what mailbox providers penalise, and an unsigned link would let anyone unsubscribe anyone.
 * `readLambdaEnv` refuses that environment already; this keeps the rule where the links are made.
 */
export function unsubscribeOnce(
  kind: FunctionKind = FunctionKind.EmailConsumer,
): (env: LambdaEnv) => EmailDeps['unsubscribe'] {
  let built: { readonly env: LambdaEnv; readonly links: EmailDeps['unsubscribe'] } | undefined;
  return (env) => {
    if (built?.env === env) return built.links;
    if (env.publicBaseUrl !== undefined && env.unsubscribeSecret === undefined) {
      throw new SettingsError(
        [
          {
            variable: 'FANOUT_UNSUBSCRIBE_SECRET',
            message: 'is not set (FANOUT_PUBLIC_BASE_URL is, and its unsubscribe links must be signed)',
          },
        ],
        envSubject(kind),
      );
    }
    const links =
      env.publicBaseUrl === undefined || env.unsubscribeSecret === undefined
        ? undefined
        : { baseUrl: env.publicBaseUrl, tokens: createUnsubscribeTokens(env.unsubscribeSecret) };
    built = { env, links };
    return links;
  };
}

/** The entry point the CDK app points at (`email-consumer.handler`). */
export const handler = createEmailConsumerHandler(defaultDeps(FunctionKind.EmailConsumer));

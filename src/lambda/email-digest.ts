import type { Context, ScheduledEvent } from 'aws-lambda';
import { type EmailDigestResult, sendDueDigests } from '../handlers/email-digest.ts';
import { unsubscribeOnce } from './email-consumer.ts';
import { FunctionKind } from './env.ts';
import { defaultDeps, type LambdaDeps, lambdaRuntime, MetricName } from './powertools.ts';

/**
 * Due digests taken per run. Each costs a dedup claim, a preferences read, an inbox page or two
 * and one SES send: 200 fit in the function's timeout with room to spare; a longer backlog (every
 * user of a timezone due at 09:00) is worked off over the next minutes, earliest due first.
 */
export const DIGESTS_PER_RUN = 200;

/**
 * The email digest sender, run every minute by an EventBridge schedule: the digests due in the
 * `digestSchedule` table, one SES email per (user, period) listing the user's unread items of the
 * period, or none (audited `skipped`) when nothing is unread. See `handlers/email-digest.ts`.
 * Unsubscribe links as the email consumer signs them (FANOUT_PUBLIC_BASE_URL and
 * FANOUT_UNSUBSCRIBE_SECRET).
 */
export function createEmailDigestHandler(
  deps: LambdaDeps,
): (event: ScheduledEvent, context: Context) => Promise<EmailDigestResult> {
  const runtime = lambdaRuntime(deps);
  const unsubscribe = unsubscribeOnce(FunctionKind.EmailDigest);
  return runtime.wrap(async () => {
    const links = unsubscribe(deps.env());
    const ports = await runtime.ports();
    const result = await sendDueDigests({
      schedule: ports.digestSchedule,
      inbox: ports.inbox,
      preferences: ports.preferences,
      preferenceCache: ports.preferenceCache,
      dedup: ports.dedup,
      email: ports.email,
      audit: ports.audit,
      clock: ports.clock,
      logger: runtime.logger,
      batchSize: DIGESTS_PER_RUN,
      ...(links === undefined ? {} : { unsubscribe: links }),
    });
    runtime.counters.add(MetricName.EmailDigestsSent, result.sent);
    if (result.due > 0) runtime.logger.info('email digests', { ...result });
    return result;
  });
}

/** The entry point the CDK app points at (`email-digest.handler`). */
export const handler = createEmailDigestHandler(defaultDeps(FunctionKind.EmailDigest));

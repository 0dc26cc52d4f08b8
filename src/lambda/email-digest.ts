import type { Context, ScheduledEvent } from 'aws-lambda';
import { type EmailDigestResult, sendDueDigests } from '../handlers/email-digest.ts';
import { unsubscribeOnce } from './email-consumer.ts';
import { FunctionKind } from './env.ts';
import { defaultDeps, type LambdaDeps, lambdaRuntime, MetricName } from './powertools.ts';

/**
 * Due digests taken per round. Each costs a dedup claim, a preferences read, an inbox page or two
 * and one SES send, one after another (the audit chain takes them in order).
 */
export const DIGESTS_PER_RUN = 200;

/**
 * How long one invocation keeps taking rounds while the schedule has a full round due and the last
 * one made progress: a backlog (every user of a timezone due at 09:00) is worked off at the pace
 * of whole minutes per run, not 200 digests a minute. Leaves the rest of the function's two minutes
 * for the round in hand.
 */
export const RUN_BUDGET_MS = 60_000;

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
    const round = () =>
      sendDueDigests({
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
    const started = Date.now();
    let result = await round();
    for (let last = result; ; ) {
      const progress = last.sent + last.skipped + last.duplicate + last.failed;
      if (last.due < DIGESTS_PER_RUN || progress === 0 || Date.now() - started >= RUN_BUDGET_MS) break;
      last = await round();
      result = sum(result, last);
    }
    runtime.counters.add(MetricName.EmailDigestsSent, result.sent);
    if (result.due > 0) runtime.logger.info('email digests', { ...result });
    return result;
  });
}

function sum(a: EmailDigestResult, b: EmailDigestResult): EmailDigestResult {
  return {
    due: a.due + b.due,
    sent: a.sent + b.sent,
    skipped: a.skipped + b.skipped,
    duplicate: a.duplicate + b.duplicate,
    failed: a.failed + b.failed,
    retry: a.retry + b.retry,
  };
}

/** The entry point the CDK app points at (`email-digest.handler`). */
export const handler = createEmailDigestHandler(defaultDeps(FunctionKind.EmailDigest));

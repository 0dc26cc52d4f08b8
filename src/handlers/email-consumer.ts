import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { digestEntry, digestPeriod, EmailCadence, emailCadenceOf } from '../domain/email-digest.ts';
import { targetDigest } from '../domain/keys.ts';
import { renderEmail } from '../domain/render.ts';
import { Channel, type DeliveryJob, Outcome } from '../domain/types.ts';
import { type UnsubscribeTokens, unsubscribeUrl } from '../domain/unsubscribe.ts';
import type { DigestSchedule } from '../ports/digest-schedule.ts';
import type { EmailTransport } from '../ports/transports.ts';
import type {
  Admission,
  ChannelDriver,
  DeliveryDeps,
  DeliveryTarget,
  TargetRequest,
} from './channel-driver.ts';
import { deliverBatch } from './deliver.ts';
import { deliveryIds } from './delivery-ids.ts';

/** What the email consumer needs besides the shared delivery ports. */
export interface EmailDeps extends DeliveryDeps {
  readonly email: EmailTransport;
  /**
   * Signed one-click unsubscribe links (RFC 8058) under the HTTP API's public base URL, in the
   * List-Unsubscribe header and the footer. Without it an email carries neither.
   */
  readonly unsubscribe?: { readonly baseUrl: string; readonly tokens: UnsubscribeTokens };
  /**
   * Where the emails of a category the user gets as an hourly or daily digest are scheduled
   * (`handlers/email-digest.ts` sends the digest). Without it every email goes out at once.
   */
  readonly digests?: DigestSchedule;
}

/** Audit reason of an email held for the user's digest. */
export const EMAIL_DIGEST_REASON = 'email_digest';

interface AddressTarget extends DeliveryTarget {
  readonly address: string;
  /** The user's locale preference, for the text of the email. */
  readonly locale: string | undefined;
}

/**
 * The email consumer (SQS → SES / SMTP): one delivery to the address in the user's preferences,
 * written in the user's locale. Quiet hours do not hold email back (decideDelivery applies them
 * to push only).
 */
export async function consumeEmail(event: SQSEvent, deps: EmailDeps): Promise<SQSBatchResponse> {
  return deliverBatch(event, deps, emailDriver(deps));
}

function emailDriver(deps: EmailDeps): ChannelDriver<AddressTarget> {
  return {
    channel: Channel.Email,
    async targets(_job, prefs) {
      if (!prefs.email) return { outcome: Outcome.SuppressedNoAddress, reason: 'no_email' };
      return [{ address: prefs.email, digest: targetDigest(prefs.email), locale: prefs.locale }];
    },
    ...(deps.digests === undefined ? {} : { admit: (requests) => holdForDigest(deps.digests!, requests) }),
    async send(job, { address, digest, locale }, ambiguousRetry) {
      const url = deps.unsubscribe === undefined ? undefined : signedUnsubscribeUrl(deps.unsubscribe, job);
      const { subject, text, html } = renderEmail(job, {
        ...(locale === undefined ? {} : { locale }),
        ...(url === undefined ? {} : { unsubscribeUrl: url }),
      });
      const result = await deps.email.send({
        tenantId: job.tenantId,
        userId: job.userId,
        to: address,
        subject,
        text,
        html,
        messageId: deliveryIds(job.notificationId, digest).messageId,
        ...(url === undefined ? {} : { headers: oneClickUnsubscribeHeaders(url) }),
        ...(ambiguousRetry ? { ambiguousRetry } : {}),
      });
      return result.status === 'sent' ? result : { status: 'rejected', reason: result.reason };
    },
  };
}

/**
 * Holds back the jobs whose category the user gets as a digest: each is audited `digested` and
 * its (user, cadence, period) is scheduled, once for the whole batch. The schedule is written
 * before the audit, so a crash in between redelivers the job, whose re-add changes nothing. No
 * schedule write, no decision: the jobs are retried, nothing is sent or lost.
 */
async function holdForDigest(
  schedule: DigestSchedule,
  requests: readonly TargetRequest[],
): Promise<Admission[]> {
  const held = { outcome: Outcome.Digested, reason: EMAIL_DIGEST_REASON } as const;
  const answers: Admission[] = [];
  const entries = [];
  for (const { job, prefs } of requests) {
    const cadence = emailCadenceOf(prefs, job.category);
    if (cadence === EmailCadence.Immediate) {
      answers.push(undefined);
      continue;
    }
    entries.push(
      digestEntry(
        job.tenantId,
        job.userId,
        digestPeriod(cadence, job.createdAt, prefs.timezone, prefs.digestHour),
      ),
    );
    answers.push(held);
  }
  if (entries.length > 0) await schedule.add(entries);
  return answers;
}

/** The link that unsubscribes this job's user from this job's category, and nothing else. */
function signedUnsubscribeUrl(unsubscribe: NonNullable<EmailDeps['unsubscribe']>, job: DeliveryJob): string {
  const token = unsubscribe.tokens.sign({
    tenantId: job.tenantId,
    userId: job.userId,
    category: job.category,
  });
  return unsubscribeUrl(unsubscribe.baseUrl, token);
}

/**
 * RFC 8058: the link, and the marker that a POST to it unsubscribes without a confirmation page.
 * The marker only with an https link, as the RFC requires (an http base URL is a local set-up:
 * the link still works, through the confirmation page).
 */
function oneClickUnsubscribeHeaders(url: string): Record<string, string> {
  return {
    'List-Unsubscribe': `<${url}>`,
    ...(url.startsWith('https://') ? { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } : {}),
  };
}

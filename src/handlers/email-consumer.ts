import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { targetDigest } from '../domain/keys.ts';
import { renderEmail } from '../domain/render.ts';
import { Channel, type DeliveryJob, Outcome } from '../domain/types.ts';
import type { EmailTransport } from '../ports/transports.ts';
import type { ChannelDriver, DeliveryDeps, DeliveryTarget } from './channel-driver.ts';
import { deliverBatch } from './deliver.ts';
import { deliveryIds } from './delivery-ids.ts';

/** What the email consumer needs besides the shared delivery ports. */
export interface EmailDeps extends DeliveryDeps {
  readonly email: EmailTransport;
  /**
   * Base URL of the HTTP API for List-Unsubscribe links (RFC 8058 one-click). Without it no
   * List-Unsubscribe header is set.
   */
  readonly unsubscribeBaseUrl?: string;
}

interface AddressTarget extends DeliveryTarget {
  readonly address: string;
}

/**
 * The email consumer (SQS → SES / SMTP): one delivery to the address in the user's preferences.
 * Quiet hours do not hold email back (decideDelivery applies them to push only).
 */
export async function consumeEmail(event: SQSEvent, deps: EmailDeps): Promise<SQSBatchResponse> {
  return deliverBatch(event, deps, emailDriver(deps));
}

function emailDriver(deps: EmailDeps): ChannelDriver<AddressTarget> {
  return {
    channel: Channel.Email,
    async targets(_job, prefs) {
      if (!prefs.email) return { outcome: Outcome.SuppressedNoAddress, reason: 'no_email' };
      return [{ address: prefs.email, digest: targetDigest(prefs.email) }];
    },
    async send(job, { address, digest }, ambiguousRetry) {
      const { subject, text, html } = renderEmail(job);
      const result = await deps.email.send({
        tenantId: job.tenantId,
        userId: job.userId,
        to: address,
        subject,
        text,
        html,
        messageId: deliveryIds(job.notificationId, digest).messageId,
        ...(deps.unsubscribeBaseUrl ? { headers: unsubscribeHeaders(deps.unsubscribeBaseUrl, job) } : {}),
        ...(ambiguousRetry ? { ambiguousRetry } : {}),
      });
      return result.status === 'sent' ? result : { status: 'rejected', reason: result.reason };
    },
  };
}

/** RFC 8058 one-click unsubscribe from this job's category. */
export function unsubscribeHeaders(baseUrl: string, job: DeliveryJob): Record<string, string> {
  const query = new URLSearchParams({
    tenant: job.tenantId,
    user: job.userId,
    category: job.category,
    notification: job.notificationId,
  });
  return {
    'List-Unsubscribe': `<${baseUrl.replace(/\/+$/, '')}/v1/unsubscribe?${query}>`,
    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
  };
}

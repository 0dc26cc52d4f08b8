import type { Category, Platform, TenantId, UserId } from '../domain/types.ts';

/** One push to one device, in a provider-neutral form that renders to APNs and FCM. */
export interface PushMessage {
  readonly tenantId: TenantId;
  readonly userId: UserId;
  readonly token: string;
  readonly platform: Platform;
  readonly title: string;
  readonly body: string;
  readonly category: Category;
  /** Stable per (notification, device): APNs `apns-collapse-id`, FCM collapse key. ≤ 64 bytes. */
  readonly collapseId: string;
  /** Stable per (notification, device): APNs `apns-id`, FCM message id. */
  readonly messageId: string;
  readonly data?: Readonly<Record<string, string>>;
  /**
   * Epoch ms after which the provider should drop the message instead of storing it for an
   * offline device (APNs `apns-expiration`, FCM `ttl`). Unset: the transport's default.
   */
  readonly expiresAt?: number;
  /** This send re-tries one whose outcome was unknown. */
  readonly ambiguousRetry?: boolean;
  /**
   * A withdrawal of the push sent earlier under `collapseId`: it shows nothing (title and body may
   * be empty) and asks the app or service worker to remove that one. Web Push: `{type: 'retract',
   * tag}` under the same Topic; APNs: a background push (`content-available`, priority 5) with the
   * same `apns-collapse-id` and `fanout.retract`; FCM: a data-only message `retract` with the same
   * collapse key (docs/push.md, "Retracted notifications").
   */
  readonly withdraw?: boolean;
  /**
   * `targetDigest(token)` when the sender already computed it (the push consumer keys its dedup
   * claim by it): a transport that records the digest (the embedded recording sink) takes it
   * instead of hashing the token again. Providers never see it.
   */
  readonly targetDigest?: string;
}

export type PushResult =
  | { readonly status: 'sent'; readonly providerMessageId?: string }
  | {
      /** The provider refused for good. */
      readonly status: 'rejected';
      readonly reason: string;
      /** The token is dead: deactivate the device. */
      readonly deactivateDevice: boolean;
      /** For APNs 410: when the token stopped being valid (epoch ms). */
      readonly invalidSince?: number;
    };

/** Sends one push. Throws TransportRetryableError when the send should be tried again later. */
export interface PushTransport {
  send(message: PushMessage): Promise<PushResult>;
}

export interface EmailMessage {
  readonly tenantId: TenantId;
  readonly userId: UserId;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
  /** Extra headers, e.g. List-Unsubscribe. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Stable per (notification, address), for provider-side dedup and ambiguity tracking. */
  readonly messageId: string;
  readonly ambiguousRetry?: boolean;
}

export type EmailResult =
  | { readonly status: 'sent'; readonly providerMessageId?: string }
  | { readonly status: 'rejected'; readonly reason: string };

export interface EmailTransport {
  send(message: EmailMessage): Promise<EmailResult>;
}

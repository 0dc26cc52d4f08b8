import { parseRetryAfter } from '../backoff.ts';
import type { Http2Response } from '../http2-pool.ts';

/** What to do with one APNs answer. */
export type ApnsOutcome =
  | { readonly kind: 'sent'; readonly providerMessageId?: string }
  | {
      readonly kind: 'rejected';
      /** APNs' `reason` string (e.g. `Unregistered`), or `http_<status>` when the body has none. */
      readonly reason: string;
      readonly deactivateDevice: boolean;
      readonly invalidSince?: number;
    }
  /** Throttled or failing for now: retry (with backoff), after `retryAfterMs` when APNs said. */
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number }
  /** The provider token expired: mint a new one and re-send. */
  | { readonly kind: 'refresh'; readonly reason: string };

/** APNs' reason strings this client acts on. */
export const ApnsReason = {
  BadDeviceToken: 'BadDeviceToken',
  Unregistered: 'Unregistered',
  ExpiredToken: 'ExpiredToken',
  ExpiredProviderToken: 'ExpiredProviderToken',
  TooManyProviderTokenUpdates: 'TooManyProviderTokenUpdates',
  TooManyRequests: 'TooManyRequests',
} as const;

interface ErrorBody {
  readonly reason?: string;
  readonly timestamp?: number;
}

/**
 * Maps an answer the way Apple's "Handling notification responses from APNs" reads:
 *
 * - 200: sent; `apns-id` is the provider's message id.
 * - 410 Unregistered / ExpiredToken: the app is gone from the device; deactivate it, but only
 *   registrations older than `timestamp` (a fresh registration of the same token survives).
 * - 400 BadDeviceToken: the token is malformed or of the other environment; deactivate it.
 * - 403 ExpiredProviderToken: refresh the JWT and re-send.
 * - 429 (TooManyRequests, TooManyProviderTokenUpdates) and 5xx (InternalServerError,
 *   ServiceUnavailable, Shutdown): retry later.
 * - Anything else is final for this message and the device is KEPT. Notably DeviceTokenNotForTopic,
 *   TopicDisallowed, BadTopic, MissingTopic, BadCertificateEnvironment, InvalidProviderToken: these
 *   almost always mean our own apns-topic, key or environment is misconfigured, so every device
 *   would get the same answer; deactivating would wipe all of them. The audit keeps the reason.
 */
export function classifyApnsResponse(res: Http2Response, now: number): ApnsOutcome {
  if (res.status === 200) {
    const id = res.headers['apns-id'];
    return id === undefined ? { kind: 'sent' } : { kind: 'sent', providerMessageId: id };
  }
  const body = parseBody(res.body);
  const reason = body.reason ?? `http_${res.status}`;
  if (res.status === 410) {
    const timestamp = body.timestamp;
    return {
      kind: 'rejected',
      reason,
      deactivateDevice: true,
      ...(timestamp === undefined ? {} : { invalidSince: timestamp }),
    };
  }
  if (res.status === 400 && reason === ApnsReason.BadDeviceToken) {
    return { kind: 'rejected', reason, deactivateDevice: true };
  }
  if (res.status === 403 && reason === ApnsReason.ExpiredProviderToken) return { kind: 'refresh', reason };
  if (res.status === 429 || res.status >= 500) {
    const retryAfterMs = parseRetryAfter(res.headers['retry-after'], now);
    return { kind: 'retry', reason, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  }
  return { kind: 'rejected', reason, deactivateDevice: false };
}

/** The JSON error body, tolerating an empty or foreign one (a proxy's HTML page). */
function parseBody(text: string): ErrorBody {
  if (text === '') return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null) return {};
    const { reason, timestamp } = value as Record<string, unknown>;
    return {
      ...(typeof reason === 'string' && /^[A-Za-z0-9_]{1,64}$/.test(reason) ? { reason } : {}),
      ...(typeof timestamp === 'number' && Number.isFinite(timestamp) && timestamp > 0 ? { timestamp } : {}),
    };
  } catch {
    return {};
  }
}

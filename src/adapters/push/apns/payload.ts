import { Category } from '../../../domain/types.ts';
import type { PushMessage } from '../../../ports/transports.ts';

/** Largest payload APNs accepts for an alert notification, in UTF-8 bytes. */
export const APNS_MAX_PAYLOAD_BYTES = 4_096;
/** Largest apns-collapse-id APNs accepts, in bytes. */
export const APNS_MAX_COLLAPSE_ID_BYTES = 64;

/**
 * Categories worth waking the device for (APNs priority 10, FCM high priority); the others wait
 * for a good moment. One list for every provider's rendering.
 */
export const URGENT_CATEGORIES: ReadonlySet<string> = new Set([Category.Critical, Category.Mention]);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The APNs JSON payload: the alert, grouping by category (`thread-id` and `category`), a
 * time-sensitive interruption level for critical notifications, then the app's ids as custom
 * top-level keys. A data key named `aps` is dropped: it would replace the alert.
 */
export function apnsPayload(m: PushMessage): Record<string, unknown> {
  const { aps: _reserved, fanout: _ours, ...data } = m.data ?? {};
  return { aps: apnsAps(m), ...data, ...(m.withdraw === true ? { fanout: apnsWithdrawal(m) } : {}) };
}

/**
 * The custom key of a withdrawal (`fanout`): the collapse id of the notification to remove, which
 * is also its request identifier on the device, so the app woken by the background push calls
 * `UNUserNotificationCenter.removeDeliveredNotifications(withIdentifiers: [retract])`.
 */
export function apnsWithdrawal(m: PushMessage): { readonly retract: string } {
  return { retract: m.collapseId };
}

/** The `aps` dictionary alone (FCM's APNs override carries it; FCM adds the data keys itself). */
export function apnsAps(m: PushMessage): Record<string, unknown> {
  // A background push: no alert, sound or badge, only the flag that wakes the app (Apple:
  // "Pushing background updates to your App").
  if (m.withdraw === true) return { 'content-available': 1 };
  return {
    alert: { title: m.title, body: m.body },
    'thread-id': m.category,
    category: m.category,
    ...(m.category === Category.Critical ? { 'interruption-level': 'time-sensitive' } : {}),
  };
}

/** `apns-priority`: 10 (send now, wake the device) for urgent categories, else 5 (power-friendly). */
export function apnsPriority(m: PushMessage): '10' | '5' {
  // APNs refuses priority 10 for a background push.
  if (m.withdraw === true) return '5';
  return URGENT_CATEGORIES.has(m.category) ? '10' : '5';
}

/**
 * `apns-expiration` in epoch seconds: the message's `expiresAt`, else now + the default TTL. A
 * time already past gives 0, APNs' "deliver now or never, do not store".
 */
export function apnsExpiration(m: PushMessage, nowMs: number, defaultTtlSeconds: number): string {
  const at = m.expiresAt ?? nowMs + defaultTtlSeconds * 1_000;
  return at <= nowMs ? '0' : String(Math.ceil(at / 1_000));
}

/** `apns-push-type`: `background` for a withdrawal (it shows nothing), else `alert`. */
export function apnsPushType(m: PushMessage): 'alert' | 'background' {
  return m.withdraw === true ? 'background' : 'alert';
}

/** What the headers need besides the message. */
export interface ApnsHeaderContext {
  readonly topic: string;
  readonly nowMs: number;
  readonly defaultTtlSeconds: number;
}

/**
 * The request headers but `authorization`. `apns-collapse-id` and `apns-id` are stable per
 * (notification, device): an ambiguous re-send replaces the first copy on the device, and carries
 * the same id in APNs' logs. `apns-id` is left out when the message id is not a UUID (APNs would
 * refuse the request with BadMessageId; without it, APNs picks one).
 */
export function apnsHeaders(m: PushMessage, ctx: ApnsHeaderContext): Record<string, string> {
  return {
    'apns-topic': ctx.topic,
    'apns-push-type': apnsPushType(m),
    'apns-priority': apnsPriority(m),
    'apns-expiration': apnsExpiration(m, ctx.nowMs, ctx.defaultTtlSeconds),
    'apns-collapse-id': m.collapseId,
    ...(UUID.test(m.messageId) ? { 'apns-id': m.messageId.toLowerCase() } : {}),
    'content-type': 'application/json',
  };
}

import type { PushMessage } from '../../../ports/transports.ts';
import { apnsAps, apnsPriority, apnsPushType, URGENT_CATEGORIES } from '../apns/payload.ts';
/** FCM refuses a longer android.ttl (4 weeks). */
export const FCM_MAX_TTL_SECONDS = 2_419_200;
/** FCM's limit on a message to a token, counted over keys and values (see {@link fcmPayloadBytes}). */
export const FCM_MAX_PAYLOAD_BYTES = 4096;

/** How {@link fcmMessage} renders the parts that depend on the sender. */
export interface FcmMessageOptions {
  /** Address the message to `m.token` (the direct client); SNS adds the target itself. @default false */
  readonly withToken?: boolean;
  /**
   * Lifetime when the message has no `expiresAt`. Unset: no `ttl` and no `apns-expiration`, so
   * FCM's own default (4 weeks) applies.
   */
  readonly defaultTtlSeconds?: number;
  /** Epoch ms that `expiresAt` is measured from. @default Date.now() */
  readonly now?: number;
}

/** The FCM HTTP v1 `message` object (the subset Fanout sends). */
export interface FcmMessage {
  readonly token?: string;
  /** Absent on a withdrawal: a data-only message, which the app handles itself. */
  readonly notification?: { readonly title: string; readonly body: string };
  readonly data: Readonly<Record<string, string>>;
  readonly android: {
    readonly collapse_key: string;
    readonly priority: 'high' | 'normal';
    readonly ttl?: string;
    readonly notification?: { readonly tag: string };
  };
  readonly apns: {
    readonly headers: Readonly<Record<string, string>>;
    readonly payload: { readonly aps: Readonly<Record<string, unknown>> };
  };
}

/**
 * A PushMessage as an FCM HTTP v1 `message`. An FCM token may belong to an iOS app, so the APNs
 * overrides carry the same collapse id as the Android collapse key and tag: an ambiguous re-send
 * then replaces the first copy on either platform instead of showing twice. The data keys are not
 * repeated in the APNs payload: FCM copies `data` into it as custom keys.
 */
export function fcmMessage(m: PushMessage, opts: FcmMessageOptions = {}): FcmMessage {
  const withdraw = m.withdraw === true;
  const urgent = !withdraw && URGENT_CATEGORIES.has(m.category);
  const now = opts.now ?? Date.now();
  const ttl = ttlSeconds(m, now, opts.defaultTtlSeconds);
  return {
    ...(opts.withToken ? { token: m.token } : {}),
    // A withdrawal is data only: the app cancels the notification shown under `data.retract`
    // (its tag), which FCM cannot do from the server.
    ...(withdraw ? {} : { notification: { title: m.title, body: m.body } }),
    data: fcmData(m),
    android: {
      collapse_key: m.collapseId,
      priority: urgent ? 'high' : 'normal',
      ...(ttl === undefined ? {} : { ttl: `${ttl}s` }),
      ...(withdraw ? {} : { notification: { tag: m.collapseId } }),
    },
    apns: {
      headers: {
        'apns-collapse-id': m.collapseId,
        'apns-priority': apnsPriority(m),
        'apns-push-type': apnsPushType(m),
        ...(ttl === undefined ? {} : { 'apns-expiration': apnsExpiration(now, ttl) }),
      },
      payload: { aps: apnsAps(m) },
    },
  };
}

/** The data the app receives: the message's ids and the message id it can dedup on. */
export function fcmData(m: PushMessage): Record<string, string> {
  return { ...m.data, messageId: m.messageId, ...(m.withdraw === true ? { retract: m.collapseId } : {}) };
}

/**
 * Size of a message as FCM counts it against its 4,096-byte limit: the UTF-8 bytes of the
 * notification's title and body and of every data key and value.
 */
export function fcmPayloadBytes(m: PushMessage): number {
  let bytes = Buffer.byteLength(m.title) + Buffer.byteLength(m.body);
  for (const [key, value] of Object.entries(fcmData(m))) {
    bytes += Buffer.byteLength(key) + Buffer.byteLength(value);
  }
  return bytes;
}

/** Whole seconds the message may wait for an offline device, within FCM's bounds; undefined: FCM's default. */
function ttlSeconds(m: PushMessage, now: number, defaultTtlSeconds: number | undefined): number | undefined {
  const seconds = m.expiresAt === undefined ? defaultTtlSeconds : Math.ceil((m.expiresAt - now) / 1000);
  if (seconds === undefined) return undefined;
  // 0 s is FCM's "now or never", the right reading of a message that is already due to expire.
  return Math.min(FCM_MAX_TTL_SECONDS, Math.max(0, Math.floor(seconds)));
}

/** APNs wants an epoch-seconds deadline, where '0' (not a past date) means "now or never". */
function apnsExpiration(now: number, ttl: number): string {
  return ttl === 0 ? '0' : String(Math.floor(now / 1000) + ttl);
}

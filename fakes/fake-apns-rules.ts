import type { IncomingHttpHeaders } from 'node:http2';

/**
 * The request checks APNs applies before it accepts a notification, as pure functions, so the fake
 * server answers malformed requests the way Apple documents ("Sending notification requests to APNs",
 * "Handling notification responses from APNs").
 */

/** An APNs error answer: HTTP status and the `reason` string of the JSON body. */
export interface ApnsRejection {
  readonly status: number;
  readonly reason: string;
}

/** Largest payload APNs accepts for a regular (non-VoIP) notification, in bytes. */
export const MAX_PAYLOAD_BYTES = 4096;
/** apns-collapse-id may not exceed this many bytes. */
export const MAX_COLLAPSE_ID_BYTES = 64;
/** APNs rejects a provider token whose iat is older than one hour. */
export const PROVIDER_TOKEN_MAX_AGE_MS = 60 * 60_000;
/** APNs answers 429 TooManyProviderTokenUpdates when a connection changes token more often than this. */
export const PROVIDER_TOKEN_MIN_REFRESH_MS = 20 * 60_000;

/** The apns-push-type values Apple documents. */
export const PUSH_TYPES: ReadonlySet<string> = new Set([
  'alert',
  'background',
  'location',
  'voip',
  'complication',
  'fileprovider',
  'mdm',
  'liveactivity',
  'pushtotalk',
  'widgets',
  'controls',
]);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX = /^[0-9a-f]+$/i;
const DEVICE_PATH = '/3/device/';

/** One header as a string: HTTP/2 may hand a repeated header over as an array. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/** The device token in `:path`, or undefined when the path is not /3/device/<token>. */
export function deviceTokenOf(path: string | undefined): string | undefined {
  if (path === undefined || !path.startsWith(DEVICE_PATH)) return undefined;
  const token = path.slice(DEVICE_PATH.length);
  return token.includes('/') || token.includes('?') ? undefined : token;
}

/** `:method` and `:path`, in the order APNs reports them. */
export function checkRoute(headers: IncomingHttpHeaders): ApnsRejection | undefined {
  if (headers[':method'] !== 'POST') return { status: 405, reason: 'MethodNotAllowed' };
  const token = deviceTokenOf(headerValue(headers, ':path'));
  if (token === undefined) return { status: 404, reason: 'BadPath' };
  if (token === '') return { status: 400, reason: 'MissingDeviceToken' };
  if (!HEX.test(token)) return { status: 400, reason: 'BadDeviceToken' };
  return undefined;
}

/** The bearer JWT of `authorization`, undefined when absent or not a bearer credential. */
export function bearerOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headerValue(headers, 'authorization');
  const match = value === undefined ? null : /^bearer\s+(\S+)$/i.exec(value);
  return match?.[1];
}

/** apns-topic and the optional apns-* headers. */
export function checkHeaders(headers: IncomingHttpHeaders, topic: string): ApnsRejection | undefined {
  const requestTopic = headerValue(headers, 'apns-topic');
  if (requestTopic === undefined || requestTopic === '') return { status: 400, reason: 'MissingTopic' };
  if (requestTopic !== topic) return { status: 400, reason: 'DeviceTokenNotForTopic' };
  const pushType = headerValue(headers, 'apns-push-type');
  if (pushType !== undefined && !PUSH_TYPES.has(pushType)) return { status: 400, reason: 'InvalidPushType' };
  const priority = headerValue(headers, 'apns-priority');
  if (priority !== undefined && !['1', '5', '10'].includes(priority)) {
    return { status: 400, reason: 'BadPriority' };
  }
  const expiration = headerValue(headers, 'apns-expiration');
  if (expiration !== undefined && !/^\d+$/.test(expiration))
    return { status: 400, reason: 'BadExpirationDate' };
  const collapseId = headerValue(headers, 'apns-collapse-id');
  if (collapseId !== undefined && Buffer.byteLength(collapseId, 'utf8') > MAX_COLLAPSE_ID_BYTES) {
    return { status: 400, reason: 'BadCollapseId' };
  }
  const apnsId = headerValue(headers, 'apns-id');
  if (apnsId !== undefined && !UUID.test(apnsId)) return { status: 400, reason: 'BadMessageId' };
  return undefined;
}

/** The request's apns-id when it is a UUID (APNs echoes it), else undefined. */
export function validApnsId(headers: IncomingHttpHeaders): string | undefined {
  const apnsId = headerValue(headers, 'apns-id');
  return apnsId !== undefined && UUID.test(apnsId) ? apnsId : undefined;
}

/** The body parsed as JSON; undefined when empty, the raw text when it is not JSON. */
export function parsePayload(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  const text = body.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Size, emptiness, then shape. Apple documents no reason for a body that is not JSON or lacks `aps`;
 * a plain 400 BadRequest is the nearest to what the service answers.
 */
export function checkPayload(bytes: number, payload: unknown): ApnsRejection | undefined {
  if (bytes > MAX_PAYLOAD_BYTES) return { status: 413, reason: 'PayloadTooLarge' };
  if (bytes === 0) return { status: 400, reason: 'PayloadEmpty' };
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return { status: 400, reason: 'BadRequest' };
  }
  const aps = (payload as Record<string, unknown>).aps;
  if (typeof aps !== 'object' || aps === null || Array.isArray(aps))
    return { status: 400, reason: 'BadRequest' };
  return undefined;
}

/**
 * A background push (`apns-push-type: background`), as Apple documents it ("Pushing background
 * updates to your App"): priority 5 (10 is an error for background pushes; an absent priority
 * means 10), and an `aps` holding `content-available: 1` and no alert, sound or badge. Apple names
 * no reason for a wrong background payload; BadPriority and a plain BadRequest are the nearest.
 */
export function checkBackground(headers: IncomingHttpHeaders, payload: unknown): ApnsRejection | undefined {
  if (headerValue(headers, 'apns-push-type') !== 'background') return undefined;
  if (headerValue(headers, 'apns-priority') !== '5') return { status: 400, reason: 'BadPriority' };
  const aps = (payload as { aps: Record<string, unknown> }).aps;
  if (aps['content-available'] !== 1) return { status: 400, reason: 'BadRequest' };
  if (aps.alert !== undefined || aps.sound !== undefined || aps.badge !== undefined)
    return { status: 400, reason: 'BadRequest' };
  return undefined;
}

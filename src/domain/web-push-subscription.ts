import { ECDH } from 'node:crypto';
import { ValidationError } from './errors.ts';
import { Issues, isPlainObject, rejectUnknownKeys } from './validate.ts';

/**
 * A browser's push subscription (W3C Push API `PushSubscription.toJSON()`): where to POST
 * (RFC 8030) and the keys its messages are encrypted to (RFC 8291). A `webpush` device's token is
 * this subscription in one canonical JSON form, so the same subscription registered twice is one
 * device, and the token is all a push needs.
 */
export interface WebPushSubscription {
  /** The push service's URL for this subscription: https, or http on a loopback host (a local fake). */
  readonly endpoint: string;
  readonly keys: {
    /** The user agent's P-256 public key, uncompressed (65 bytes), base64url without padding. */
    readonly p256dh: string;
    /** The authentication secret (16 bytes), base64url without padding. */
    readonly auth: string;
  };
}

/**
 * The longest endpoint taken. Real ones are 150–500 characters; this bound keeps the whole token
 * under 1 KiB, which the AWS devices table needs (the token is in its sort key, at most 1,024 bytes).
 */
export const MAX_ENDPOINT_LENGTH = 800;
/** RFC 8291 §3.1: an uncompressed P-256 point. */
const P256DH_BYTES = 65;
/** RFC 8291 §3.2: 16 octets of authentication secret. */
const AUTH_BYTES = 16;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/**
 * Validates a subscription as a browser sends it (`{endpoint, expirationTime?, keys: {p256dh,
 * auth}}`) and returns its canonical form; throws ValidationError naming every bad field. The
 * endpoint and the keys are personal data: messages name the field, never the value.
 */
export function parseWebPushSubscription(value: unknown, path = ''): WebPushSubscription {
  const issues: Issues = new Issues();
  const at = (key: string) => (path === '' ? key : `${path}.${key}`);
  if (!isPlainObject(value)) issues.fail(path === '' ? 'subscription' : path, 'must be an object');
  rejectUnknownKeys(issues, value, new Set(['endpoint', 'expirationTime', 'keys']), path);
  const endpoint = checkEndpoint(issues, at('endpoint'), value.endpoint);
  const exp = value.expirationTime;
  if (exp !== undefined && exp !== null && !(typeof exp === 'number' && Number.isFinite(exp))) {
    issues.add(at('expirationTime'), 'must be a number or null');
  }
  const keys = value.keys;
  let p256dh = '';
  let auth = '';
  if (!isPlainObject(keys)) issues.add(at('keys'), 'must be an object {p256dh, auth}');
  else {
    rejectUnknownKeys(issues, keys, new Set(['p256dh', 'auth']), at('keys'));
    p256dh = checkKey(issues, at('keys.p256dh'), keys.p256dh, P256DH_BYTES);
    auth = checkKey(issues, at('keys.auth'), keys.auth, AUTH_BYTES);
    if (p256dh !== '' && !isP256Point(p256dh)) {
      issues.add(at('keys.p256dh'), 'must be an uncompressed P-256 public key');
    }
  }
  issues.throwIfAny();
  return { endpoint, keys: { p256dh, auth } };
}

/** The device token of a subscription: its canonical JSON (fixed key order, no padding). */
export function webPushToken(subscription: WebPushSubscription): string {
  const { endpoint, keys } = subscription;
  return JSON.stringify({ endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } });
}

/** The subscription a token holds, or undefined when the token is not one in canonical form. */
export function parseWebPushToken(token: string): WebPushSubscription | undefined {
  let value: unknown;
  try {
    value = JSON.parse(token);
  } catch {
    return undefined;
  }
  try {
    const subscription = parseWebPushSubscription(value);
    return webPushToken(subscription) === token ? subscription : undefined;
  } catch (err) {
    if (err instanceof ValidationError) return undefined;
    throw err;
  }
}

/**
 * https only: the endpoint receives our VAPID signature and the user's messages. Plain http is
 * taken for a loopback host alone, where a local push service (the tests' fake) runs; no other
 * machine can be reached that way.
 */
function checkEndpoint(issues: Issues, path: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    issues.add(path, 'must be a non-empty string');
    return '';
  }
  if (value.length > MAX_ENDPOINT_LENGTH) {
    issues.add(path, `must be at most ${MAX_ENDPOINT_LENGTH} characters`);
    return '';
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    issues.add(path, 'must be an absolute URL');
    return '';
  }
  if (url.username !== '' || url.password !== '' || url.hash !== '') {
    issues.add(path, 'must carry no credentials and no fragment');
    return '';
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackName(url.hostname))) {
    // The stored form, not the input, must fit: the parser percent-encodes non-ASCII characters
    // and writes international host names as punycode, and the token is a DynamoDB sort key.
    if (Buffer.byteLength(url.href) > MAX_ENDPOINT_LENGTH) {
      issues.add(path, `must be at most ${MAX_ENDPOINT_LENGTH} bytes once encoded`);
      return '';
    }
    return url.href;
  }
  issues.add(path, 'must be an https:// URL (http:// only on a loopback host)');
  return '';
}

/**
 * Loopback as the WHATWG URL parser leaves a host name: it has already turned `127.1` and
 * `0x7f.0.0.1` into `127.0.0.1` and shortened IPv6 literals, so these forms are all there is.
 */
function isLoopbackName(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** A base64url key of exactly `bytes` bytes; returned without padding (its canonical form). */
function checkKey(issues: Issues, path: string, value: unknown, bytes: number): string {
  if (typeof value !== 'string' || !BASE64URL.test(value)) {
    issues.add(path, 'must be base64url text');
    return '';
  }
  const decoded = Buffer.from(value, 'base64url');
  if (decoded.length !== bytes) {
    issues.add(path, `must decode to ${bytes} bytes`);
    return '';
  }
  return decoded.toString('base64url');
}

/** Whether the key is a point on P-256: encryption to anything else fails at every send. */
function isP256Point(p256dh: string): boolean {
  const key = Buffer.from(p256dh, 'base64url');
  if (key[0] !== 0x04) return false;
  try {
    ECDH.convertKey(key, 'prime256v1', undefined, undefined, 'uncompressed');
    return true;
  } catch {
    return false;
  }
}

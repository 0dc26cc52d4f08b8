import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import { EVENT_LIMITS, isValidId } from './event.ts';
import { CATEGORIES, type Category, type UserKey } from './types.ts';

/**
 * Signed unsubscribe links. An email carries one in its `List-Unsubscribe` header (RFC 8058
 * one-click) and its footer; whoever holds the link may turn email off for that user, for that
 * category or altogether, and nothing else. The link is the only credential, so it is an HMAC over
 * (tenant, user, category) with a key of its own (derived from the deployment's token secret with
 * a label, so a user token can never pass for an unsubscribe token or the reverse).
 *
 * Links carry no expiry: mail sits in inboxes for years, and an unsubscribe link that stops working
 * sends users to the spam button instead (mailbox providers count that against the sender). What a
 * leaked link can do is limited to opting its user out of email, which the user can undo.
 */

/** What an unsubscribe link names. */
export interface UnsubscribeScope extends UserKey {
  /** The category of the email it came with. */
  readonly category: Category;
}

/** Signs and checks unsubscribe tokens. */
export interface UnsubscribeTokens {
  sign(scope: UnsubscribeScope): string;
  /** The scope of a genuine token; undefined for anything forged, altered or malformed. */
  verify(token: string): UnsubscribeScope | undefined;
}

/** Longer input is refused before any decoding: a real token stays well below this. */
const MAX_TOKEN_LENGTH = 1024;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/;
/** Domain separation: the same secret also keys user tokens. */
const KEY_LABEL = 'fanout/unsubscribe/v1';
const CATEGORY_SET: ReadonlySet<string> = new Set(CATEGORIES);

/**
 * Tokens keyed from `secret` (at least 16 bytes; the deployment's token secret):
 * base64url(JSON {t, u, c}) '.' base64url(HMAC-SHA256).
 */
export function createUnsubscribeTokens(secret: string | Uint8Array): UnsubscribeTokens {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  if (bytes.length < 16) throw new RangeError('unsubscribe secret must be at least 16 bytes');
  const key = createSecretKey(createHmac('sha256', bytes).update(KEY_LABEL).digest());
  return {
    sign(scope) {
      const payload = Buffer.from(
        JSON.stringify({ t: scope.tenantId, u: scope.userId, c: scope.category }),
        'utf8',
      ).toString('base64url');
      return `${payload}.${mac(key, payload).toString('base64url')}`;
    },
    verify(token) {
      if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !TOKEN_PATTERN.test(token)) {
        return undefined;
      }
      const dot = token.indexOf('.');
      const payload = token.slice(0, dot);
      const given = Buffer.from(token.slice(dot + 1), 'base64url');
      const expected = mac(key, payload);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      return scopeOf(payload);
    },
  };
}

/** The one-click URL for a token: `<base>/v1/unsubscribe?token=…`. */
export function unsubscribeUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/v1/unsubscribe?${new URLSearchParams({ token })}`;
}

function mac(key: KeyObject, payload: string): Buffer {
  return createHmac('sha256', key).update(payload).digest();
}

function scopeOf(payload: string): UnsubscribeScope | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { t, u, c } = parsed as Record<string, unknown>;
  // Signed by us, so well-formed; checked anyway, since a key shared with an older format would
  // otherwise hand the route values it never validated.
  if (typeof t !== 'string' || !isValidId(t)) return undefined;
  if (typeof u !== 'string' || !isValidId(u, EVENT_LIMITS.userIdMaxLength)) return undefined;
  if (typeof c !== 'string' || !CATEGORY_SET.has(c)) return undefined;
  return { tenantId: t, userId: u, category: c as Category };
}

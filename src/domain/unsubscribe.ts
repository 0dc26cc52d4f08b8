import { createHmac } from 'node:crypto';
import { signedTokens } from '../lib/signed-token.ts';
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
  const signed = signedTokens(createHmac('sha256', bytes).update(KEY_LABEL).digest());
  return {
    sign: (scope) => signed.sign({ t: scope.tenantId, u: scope.userId, c: scope.category }),
    verify: (token) => scopeOf(signed.verify(token)),
  };
}

/** The one-click URL for a token: `<base>/v1/unsubscribe?token=…`. */
export function unsubscribeUrl(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/v1/unsubscribe?${new URLSearchParams({ token })}`;
}

function scopeOf(parsed: unknown): UnsubscribeScope | undefined {
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { t, u, c } = parsed as Record<string, unknown>;
  // Signed by us, so well-formed; checked anyway, since a key shared with an older format would
  // otherwise hand the route values it never validated.
  if (typeof t !== 'string' || !isValidId(t)) return undefined;
  if (typeof u !== 'string' || !isValidId(u, EVENT_LIMITS.userIdMaxLength)) return undefined;
  if (typeof c !== 'string' || !CATEGORY_SET.has(c)) return undefined;
  return { tenantId: t, userId: u, category: c as Category };
}

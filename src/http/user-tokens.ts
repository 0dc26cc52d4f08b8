import { isValidId } from '../domain/event.ts';
import type { UserKey } from '../domain/types.ts';
import { looksSigned, signedTokens } from '../lib/signed-token.ts';

/** A signed user token and when it stops working. */
export interface IssuedToken {
  readonly token: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

/** The user a valid token names, and when it stops being valid (a stream must end then). */
export interface TokenUser extends UserKey {
  /** Epoch ms. */
  readonly expiresAt: number;
}

/** Short-lived tokens that let one end user of one tenant read their own inbox. */
export interface UserTokens {
  issue(user: UserKey, now: number): IssuedToken;
  /** The user the token was issued to, or undefined when it is forged, altered or expired. */
  verify(token: string, now: number): TokenUser | undefined;
}

/** Shortest accepted HMAC key: below 128 bits a key is guessable offline from one token. */
export const MIN_TOKEN_SECRET_BYTES = 16;

/**
 * Compact signed tokens: base64url(JSON {t: tenant, u: user, exp}) '.' base64url(HMAC-SHA256).
 * Stateless, so any process with the same secret verifies them; they cannot be revoked, which is
 * why they are short-lived.
 */
export function createUserTokens(secret: string | Uint8Array, ttlMs: number): UserTokens {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  if (bytes.length < MIN_TOKEN_SECRET_BYTES) {
    throw new RangeError(`token secret must be at least ${MIN_TOKEN_SECRET_BYTES} bytes`);
  }
  if (!(ttlMs > 0)) throw new RangeError('token ttl must be > 0');
  const signed = signedTokens(bytes, 'fanout.user-token.v1.');
  return {
    issue(user, now) {
      const expiresAt = now + ttlMs;
      return { token: signed.sign({ t: user.tenantId, u: user.userId, exp: expiresAt }), expiresAt };
    },
    verify(token, now) {
      const claims = claimsOf(signed.verify(token));
      if (claims === undefined || claims.exp <= now) return undefined;
      return { tenantId: claims.t, userId: claims.u, expiresAt: claims.exp };
    },
  };
}

/**
 * True when the text has the shape of a user token. API keys start with `fo_` and may contain a
 * dot (a tenant id may), so the prefix decides first.
 */
export function looksLikeUserToken(text: string): boolean {
  return !text.startsWith(API_KEY_PREFIX) && looksSigned(text);
}

/** How every API key starts (see `newApiKey`). */
export const API_KEY_PREFIX = 'fo_';

function claimsOf(claims: unknown): { t: string; u: string; exp: number } | undefined {
  if (typeof claims !== 'object' || claims === null) return undefined;
  const { t, u, exp } = claims as Record<string, unknown>;
  if (!isValidId(t) || !isValidId(u) || typeof exp !== 'number' || !Number.isSafeInteger(exp)) {
    return undefined;
  }
  return { t, u, exp };
}

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

/** How many verified tokens `createUserTokens` remembers by default. */
export const VERIFIED_TOKEN_CACHE_SIZE = 10_000;

/** Options of `createUserTokens`. */
export interface UserTokensOptions {
  /**
   * Verified tokens remembered, least recently used out first; 0 verifies every time.
   * @default VERIFIED_TOKEN_CACHE_SIZE
   */
  readonly cacheSize?: number;
}

/**
 * Compact signed tokens: base64url(JSON {t: tenant, u: user, exp}) '.' base64url(HMAC-SHA256).
 * Stateless, so any process with the same secret verifies them; they cannot be revoked, which is
 * why they are short-lived.
 *
 * A token that verified is remembered (bounded, least recently used out first) until its own
 * expiry: a client reads its inbox with one token many times, and the HMAC, base64 and JSON of a
 * verification cost more than the rest of an inbox request's authentication. Nothing can revoke
 * a token before its expiry, so a remembered answer is the one verifying again would give; a
 * forged or expired token is never remembered, so made-up tokens cannot push real ones out.
 */
export function createUserTokens(
  secret: string | Uint8Array,
  ttlMs: number,
  opts: UserTokensOptions = {},
): UserTokens {
  const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret;
  if (bytes.length < MIN_TOKEN_SECRET_BYTES) {
    throw new RangeError(`token secret must be at least ${MIN_TOKEN_SECRET_BYTES} bytes`);
  }
  if (!(ttlMs > 0)) throw new RangeError('token ttl must be > 0');
  const cacheSize = opts.cacheSize ?? VERIFIED_TOKEN_CACHE_SIZE;
  if (!Number.isSafeInteger(cacheSize) || cacheSize < 0) throw new RangeError('token cache size must be ≥ 0');
  const signed = signedTokens(bytes, 'fanout.user-token.v1.');
  /** Verified tokens in recency order: the first key is the least recently used. */
  const verified = new Map<string, TokenUser>();
  return {
    issue(user, now) {
      const expiresAt = now + ttlMs;
      return { token: signed.sign({ t: user.tenantId, u: user.userId, exp: expiresAt }), expiresAt };
    },
    verify(token, now) {
      const known = verified.get(token);
      if (known !== undefined) {
        verified.delete(token);
        if (known.expiresAt <= now) return undefined;
        verified.set(token, known);
        return known;
      }
      const claims = claimsOf(signed.verify(token));
      if (claims === undefined || claims.exp <= now) return undefined;
      const user: TokenUser = Object.freeze({ tenantId: claims.t, userId: claims.u, expiresAt: claims.exp });
      if (cacheSize > 0) {
        if (verified.size >= cacheSize) verified.delete(verified.keys().next().value!);
        verified.set(token, user);
      }
      return user;
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

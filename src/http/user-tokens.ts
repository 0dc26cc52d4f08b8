import { createHmac, createSecretKey, type KeyObject, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isValidId } from '../domain/event.ts';
import type { UserKey } from '../domain/types.ts';

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

/** Where a generated token secret is kept when FANOUT_TOKEN_SECRET is unset. */
export const TOKEN_SECRET_FILE = 'token-secret';
/** Shortest accepted HMAC key: below 128 bits a key is guessable offline from one token. */
export const MIN_TOKEN_SECRET_BYTES = 16;
/** Longer input is refused before any decoding: real tokens stay well below this. */
const MAX_TOKEN_LENGTH = 1024;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/;

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
  // A KeyObject made once: a raw key would be converted again on every HMAC.
  const key = createSecretKey(bytes);
  return {
    issue(user, now) {
      const expiresAt = now + ttlMs;
      const payload = Buffer.from(
        JSON.stringify({ t: user.tenantId, u: user.userId, exp: expiresAt }),
        'utf8',
      ).toString('base64url');
      return { token: `${payload}.${sign(key, payload).toString('base64url')}`, expiresAt };
    },
    verify(token, now) {
      if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !TOKEN_PATTERN.test(token)) {
        return undefined;
      }
      const dot = token.indexOf('.');
      const payload = token.slice(0, dot);
      const given = Buffer.from(token.slice(dot + 1), 'base64url');
      const expected = sign(key, payload);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      const claims = parseClaims(payload);
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
  return !text.startsWith(API_KEY_PREFIX) && TOKEN_PATTERN.test(text);
}

/** How every API key starts (see `newApiKey`). */
export const API_KEY_PREFIX = 'fo_';

function sign(key: KeyObject, payload: string): Buffer {
  return createHmac('sha256', key).update('fanout.user-token.v1.').update(payload).digest();
}

function parseClaims(payload: string): { t: string; u: string; exp: number } | undefined {
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const { t, u, exp } = claims;
    if (!isValidId(t) || !isValidId(u) || typeof exp !== 'number' || !Number.isSafeInteger(exp)) {
      return undefined;
    }
    return { t, u, exp };
  } catch {
    return undefined;
  }
}

/**
 * The token secret of a data dir: read, or generated once (owner-only file). `wx` makes two
 * processes opening a fresh dir at once agree on the first secret written.
 */
export function tokenSecretOf(dataDir: string): string {
  if (dataDir === ':memory:') return randomBytes(32).toString('hex');
  const file = join(dataDir, TOKEN_SECRET_FILE);
  try {
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readFileSync(file, 'utf8').trim();
}

import { createPrivateKey, type KeyObject, sign } from 'node:crypto';
import type { Clock } from '../../../ports/clock.ts';

const MINUTE = 60_000;
/**
 * APNs refuses a token switch on a connection more often than every 20 minutes
 * (TooManyProviderTokenUpdates) and a token older than 60 minutes (ExpiredProviderToken); the
 * 5-minute margin below 60 leaves room for clock skew and a slow request.
 */
export const MIN_REFRESH_AFTER_MS = 20 * MINUTE;
export const MAX_REFRESH_AFTER_MS = 55 * MINUTE;
export const DEFAULT_REFRESH_AFTER_MS = 50 * MINUTE;

/** Options of {@link ProviderTokens}. */
export interface ProviderTokenOptions {
  /** A parsed .p8 key: EC P-256 (see {@link parseSigningKey}). */
  readonly key: KeyObject;
  readonly keyId: string;
  readonly teamId: string;
  readonly clock: Clock;
  /** Age at which a token is replaced, clamped to [20, 55] min. @default 50 min */
  readonly refreshAfterMs?: number;
}

/**
 * The .p8 file's PEM as a private key, or undefined when it is not an EC P-256 private key. The
 * caller reports the problem; the text is never echoed (it is a secret).
 */
export function parseSigningKey(pem: string): KeyObject | undefined {
  try {
    const key = createPrivateKey({ key: pem, format: 'pem' });
    const ok = key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
    return ok ? key : undefined;
  } catch {
    return undefined;
  }
}

/** `refreshAfterMs` within what APNs tolerates. */
export function clampRefreshAfter(ms: number | undefined): number {
  if (ms === undefined || !Number.isFinite(ms)) return DEFAULT_REFRESH_AFTER_MS;
  return Math.min(MAX_REFRESH_AFTER_MS, Math.max(MIN_REFRESH_AFTER_MS, ms));
}

/**
 * The provider authentication token (an ES256 JWT: header {alg, kid}, claims {iss, iat}) shared
 * by every request, minted with node:crypto alone.
 *
 * A token lives `refreshAfterMs`, never less, except when APNs answers ExpiredProviderToken: then
 * {@link replace} mints a new one, once for all the requests that failed with the same token.
 * Minting is synchronous, so no two callers can interleave inside it: the first caller to report
 * an expired token replaces it, and every later report of that (already replaced) token just gets
 * the current one.
 */
export class ProviderTokens {
  readonly #key: KeyObject;
  readonly #header: string;
  readonly #teamId: string;
  readonly #clock: Clock;
  readonly #refreshAfterMs: number;
  #token: string | undefined;
  #issuedAt = 0;

  constructor(opts: ProviderTokenOptions) {
    this.#key = opts.key;
    this.#header = base64url(JSON.stringify({ alg: 'ES256', kid: opts.keyId }));
    this.#teamId = opts.teamId;
    this.#clock = opts.clock;
    this.#refreshAfterMs = clampRefreshAfter(opts.refreshAfterMs);
  }

  /** The token to send now: the current one, or a new one when it reached its refresh age. */
  current(): string {
    const now = this.#clock.now();
    if (this.#token === undefined || now - this.#issuedAt >= this.#refreshAfterMs) return this.#mint(now);
    return this.#token;
  }

  /**
   * After APNs answered ExpiredProviderToken to a request sent with `rejected`: the token to
   * re-send with. A new one only when `rejected` is still the current token.
   */
  replace(rejected: string): string {
    if (this.#token !== undefined && this.#token !== rejected) return this.#token;
    return this.#mint(this.#clock.now());
  }

  #mint(now: number): string {
    const claims = base64url(JSON.stringify({ iss: this.#teamId, iat: Math.floor(now / 1000) }));
    const input = `${this.#header}.${claims}`;
    // JWS wants the raw r‖s signature (RFC 7518 §3.4), not DER.
    const signature = sign('sha256', Buffer.from(input), { key: this.#key, dsaEncoding: 'ieee-p1363' });
    this.#token = `${input}.${signature.toString('base64url')}`;
    this.#issuedAt = now;
    return this.#token;
  }
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

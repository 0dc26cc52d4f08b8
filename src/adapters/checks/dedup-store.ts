import { ValidationError } from '../../domain/errors.ts';
import type { ClaimRequest } from '../../ports/dedup-store.ts';

/**
 * Argument checks and the default key lifetime of the DedupStore port, shared by its adapters
 * (SQLite, in memory, Redis) so all of them refuse the same input with the same path and message.
 */

/** How long a confirmed key answers Done: the seed's 30-day window. */
export const DEDUP_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** Throws a ValidationError unless every request has a non-empty key and a whole, positive lease. */
export function checkClaimRequests(requests: readonly ClaimRequest[]): void {
  if (!Array.isArray(requests))
    throw new ValidationError([{ path: 'requests', message: 'must be an array' }]);
  requests.forEach((request, i) => {
    if (typeof request?.key !== 'string' || request.key.length === 0) {
      throw new ValidationError([{ path: `requests[${i}].key`, message: 'must be a non-empty string' }]);
    }
    const lease = request.leaseMs;
    if (typeof lease !== 'number' || !Number.isSafeInteger(lease) || lease < 1) {
      throw new ValidationError([{ path: `requests[${i}].leaseMs`, message: 'must be an integer ≥ 1' }]);
    }
  });
}

/** Throws a ValidationError unless `keys` is an array of non-empty strings. */
export function checkDedupKeys(keys: readonly string[]): void {
  if (!Array.isArray(keys)) throw new ValidationError([{ path: 'keys', message: 'must be an array' }]);
  keys.forEach((key, i) => {
    if (typeof key !== 'string' || key.length === 0) {
      throw new ValidationError([{ path: `keys[${i}]`, message: 'must be a non-empty string' }]);
    }
  });
}

/** Throws a ValidationError unless `ttlMs` is a whole, positive number of ms. */
export function checkTtl(ttlMs: unknown): asserts ttlMs is number {
  if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs) || ttlMs < 1) {
    throw new ValidationError([{ path: 'ttlMs', message: 'must be an integer ≥ 1' }]);
  }
}

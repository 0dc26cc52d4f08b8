import { fullJitter } from '../../lib/backoff.ts';

/** How a push transport retries a throttled or failing provider within one send. */
export interface BackoffPolicy {
  /** Tries in all, the first included. @default 3 */
  readonly attempts: number;
  /** Ceiling of the first retry's delay; doubles per retry. @default 200 */
  readonly baseMs: number;
  /** Ceiling of any one delay (a provider's Retry-After may still ask for more). @default 5_000 */
  readonly maxMs: number;
}

/** Three tries, delays drawn below 200 ms, then 400 ms, never above 5 s. */
export const DEFAULT_BACKOFF: BackoffPolicy = { attempts: 3, baseMs: 200, maxMs: 5_000 };

/**
 * The delay before retry number `retry` (1-based): the code base's one backoff (full jitter,
 * `lib/backoff.ts`) under this policy, so many senders throttled at once spread their retries.
 * Never below `retryAfterMs`: the provider's word wins over our guess.
 */
export function backoffDelay(
  retry: number,
  policy: BackoffPolicy,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  return Math.max(
    fullJitter(retry, { baseMs: policy.baseMs, capMs: policy.maxMs }, random),
    retryAfterMs ?? 0,
  );
}

const SECONDS = /^\d+(\.\d+)?$/;

/**
 * Retry-After as delay-seconds or an HTTP-date (RFC 9110 §10.2.3) → ms from `now`; a date in the
 * past is 0. Undefined when absent or unparsable, so the caller falls back to its own backoff.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  const text = value?.trim();
  if (text === undefined || text === '') return undefined;
  if (SECONDS.test(text)) return Math.round(Number(text) * 1_000);
  // Only a real date: a bare number with a sign or garbage must not be read as a year.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The one retry delay of the code base, used by the AWS adapters' retries, the local pollers and
 * the APNs / FCM clients alike: exponential backoff with full jitter. A random wait in
 * [0, min(capMs, baseMs·2^(attempt-1))] spreads the retries of many callers that failed together
 * (the "full jitter" of AWS's backoff study), where a fixed floor would bunch them up again.
 */
export interface Backoff {
  /** Ceiling of the first retry's delay; it doubles per attempt. */
  readonly baseMs: number;
  /** Ceiling of any one delay. */
  readonly capMs: number;
}

/** The delay before retry number `attempt` (1-based), in whole ms. */
export function fullJitter(attempt: number, backoff: Backoff, random: () => number = Math.random): number {
  const ceiling = Math.min(backoff.capMs, backoff.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * Math.max(0, ceiling));
}

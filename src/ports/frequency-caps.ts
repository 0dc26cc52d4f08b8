import type { CapBucket } from '../domain/frequency-cap.ts';
import type { UserKey } from '../domain/types.ts';

/** What a take found. */
export const CapAnswer = {
  /** Every window had room (or this slot already held its place): the push may go. */
  Granted: 'granted',
  /** A window is full: nothing was taken, the push is held back. */
  Capped: 'capped',
} as const;
export type CapAnswer = (typeof CapAnswer)[keyof typeof CapAnswer];

/** One push asking for a place in each of its user's windows. */
export interface CapRequest extends UserKey {
  /**
   * The delivery's own id (tenant, notification, channel), the same on every receive of the job:
   * a re-delivered job finds its place taken by itself and is granted without taking a second.
   */
  readonly slotId: string;
  /** The windows to fit in (`capBuckets`); never empty. */
  readonly buckets: readonly CapBucket[];
}

/**
 * Rolling-window counters of pushes per user (a sliding log: the time of every place taken in the
 * window). A take is atomic per request: a place is taken in every window at once, or in none.
 * Requests of one call are decided in order, so two pushes to one user in one batch never both
 * take the last place. Time comes from the store's clock. Any failure throws
 * StoreUnavailableError (or ValidationError for bad input): the caller retries the job.
 */
export interface FrequencyCaps {
  /** One answer per request, in order. */
  take(requests: readonly CapRequest[]): Promise<CapAnswer[]>;
}

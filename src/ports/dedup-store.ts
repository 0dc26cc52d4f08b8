/** What a claim found. */
export const ClaimState = {
  /** Nobody held the key: it is ours now, send. */
  Acquired: 'acquired',
  /**
   * A previous claim was never confirmed and its lease ran out: its holder died, maybe after
   * sending. The key is ours now; the send is ambiguous and must re-use the same collapse id.
   */
  AcquiredStale: 'acquired_stale',
  /** Another consumer holds a live lease (a concurrent duplicate message): retry later. */
  Busy: 'busy',
  /** Confirmed as sent before: a duplicate, send nothing. */
  Done: 'done',
} as const;
export type ClaimState = (typeof ClaimState)[keyof typeof ClaimState];

/** What a key holds, as `peek` reads it without taking it. */
export const KeyState = {
  /** Never claimed, released, or expired. */
  Absent: 'absent',
  /** Claimed under a live lease: a send may be in flight. */
  Pending: 'pending',
  /** Claimed, never confirmed, lease run out: its holder may have sent before dying. */
  Stale: 'stale',
  /** Confirmed: the send was made (or refused for good by the provider). */
  Done: 'done',
} as const;
export type KeyState = (typeof KeyState)[keyof typeof KeyState];

export interface ClaimRequest {
  readonly key: string;
  /** How long the claim protects an in-flight send before it counts as stale. */
  readonly leaseMs: number;
}

/**
 * Effectively-once guard (MemoryDB SET NX in AWS). Any failure throws DedupUnavailableError:
 * callers fail closed and send nothing.
 */
export interface DedupStore {
  /** One state per request, same order. Keys live `ttlMs` (default 30 days) once confirmed. */
  claim(requests: readonly ClaimRequest[]): Promise<ClaimState[]>;
  /** Marks keys as sent; they answer Done until their TTL ends. */
  confirm(keys: readonly string[]): Promise<void>;
  /** Drops claims (the send certainly did not happen), so a retry can claim again. */
  release(keys: readonly string[]): Promise<void>;
  /**
   * One state per key, same order, changing nothing: whether a delivery was made (a push
   * withdrawal asks whether the original reached a device before sending anything to it).
   */
  peek(keys: readonly string[]): Promise<KeyState[]>;
}

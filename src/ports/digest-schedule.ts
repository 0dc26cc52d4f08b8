import type { DigestEntry } from '../domain/email-digest.ts';

export type { DigestEntry } from '../domain/email-digest.ts';

/**
 * The pending email digests, by due time: the email consumer adds one entry per (tenant, user,
 * cadence, period) it holds an email for, the digest sender takes the due ones and marks them
 * done once their digest is decided. Any failure throws StoreUnavailableError.
 */
export interface DigestSchedule {
  /**
   * Records pending digests. Idempotent per (tenant, user, cadence, dueAt): adding an entry that
   * is pending already changes nothing, however many emails of the period were held.
   */
  add(entries: readonly DigestEntry[]): Promise<void>;
  /**
   * Up to `limit` pending entries due at or before `now`, the earliest due first (a backlog is
   * worked off oldest first). Entries stay pending until `done`: a sender that dies before it
   * finishes leaves them to the next round.
   */
  due(now: number, limit: number): Promise<DigestEntry[]>;
  /** Removes entries; removing one that is not there is no error. */
  done(entries: readonly DigestEntry[]): Promise<void>;
}

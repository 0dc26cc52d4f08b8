import type { Preferences, UserKey } from '../domain/types.ts';
import type { FreshnessOptions } from './read-freshness.ts';

/** A change to one user's preferences, as a stream record carries it (DynamoDB Streams). */
export interface PreferenceChange {
  /** Increasing position in the change feed. */
  readonly sequence: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly user: UserKey;
  readonly oldImage?: Preferences;
  readonly newImage?: Preferences;
  /** Epoch ms. */
  readonly at: number;
}

/** Conditions of a preferences put; at most one of them. */
export interface PutPreferencesOptions {
  readonly ifUpdatedAt?: number;
  readonly ifAbsent?: boolean;
}

/** The source of truth for preferences (DynamoDB with Streams in AWS). */
export interface PreferenceStore {
  get(user: UserKey, opts?: FreshnessOptions): Promise<Preferences | undefined>;
  /**
   * Replaces the whole record; emits one change. With `ifUpdatedAt`, only when a record is stored
   * whose `updatedAt` is that one (a read-modify-write that must not undo a write made since);
   * otherwise throws ConflictError and changes nothing. With `ifAbsent`, only when no record is
   * stored for the user (a first write that must not replace one made since it read nothing).
   */
  put(prefs: Preferences, opts?: PutPreferencesOptions): Promise<void>;
  /** Bulk load (seeding, import); emits one change per record. */
  putMany(prefs: readonly Preferences[]): Promise<void>;
  delete(user: UserKey): Promise<void>;
  /** Changes strictly after `after` (from the start when undefined), oldest first. */
  changes(after: string | undefined, limit: number): Promise<PreferenceChange[]>;
}

/** Hot copy of preferences (ElastiCache in AWS). A miss is `undefined`; `null` caches "no record". */
export interface PreferenceCache {
  get(user: UserKey): Promise<Preferences | null | undefined>;
  set(user: UserKey, prefs: Preferences | null): Promise<void>;
  invalidate(users: readonly UserKey[]): Promise<void>;
}

import { ValidationError } from '../../domain/errors.ts';
import { userPartition } from '../../domain/keys.ts';
import type { Preferences, UserKey } from '../../domain/types.ts';
import type { PreferenceCache } from '../../ports/preferences.ts';
import { requireArray, requireUser } from '../checks/input.ts';

export interface LruPreferenceCacheOptions {
  /** Users kept; the least recently used one goes first. @default 100_000 */
  readonly maxEntries?: number;
}

const DEFAULT_MAX_ENTRIES = 100_000;

/**
 * The in-process preference cache: a Map kept in recency order (a hit moves its key to the end
 * unless it is among the most recent half already, so the first key is always a least recently
 * used one of the older half). Keys are `tenant#user`, the same key
 * ElastiCache holds in AWS. `null` remembers "this user has no record", which spares the store a
 * read per delivery for the many users who never saved preferences. Entries live until evicted or
 * invalidated by the preference change feed.
 */
export class LruPreferenceCache implements PreferenceCache {
  readonly #max: number;
  /** In recency order; `stamp` counts the moves to the end, so a larger one is more recent. */
  readonly #entries = new Map<string, { readonly value: Preferences | null; readonly stamp: number }>();
  #stamp = 0;

  constructor(opts: LruPreferenceCacheOptions = {}) {
    const max = opts.maxEntries ?? DEFAULT_MAX_ENTRIES;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new ValidationError([{ path: 'maxEntries', message: 'must be an integer ≥ 1' }]);
    }
    this.#max = max;
  }

  /** How many users are cached. */
  get size(): number {
    return this.#entries.size;
  }

  async get(user: UserKey): Promise<Preferences | null | undefined> {
    requireUser(user);
    const key = userPartition(user);
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    // A hit among the most recent half stays where it is: it is evicted after every entry of the
    // older half either way, and a Map delete and set per hit (the delivery path reads a user's
    // preferences per job) cost several times the look-up.
    if (entry.stamp <= this.#stamp - this.#max / 2) {
      this.#entries.delete(key);
      this.#entries.set(key, { value: entry.value, stamp: ++this.#stamp });
    }
    return entry.value;
  }

  async set(user: UserKey, prefs: Preferences | null): Promise<void> {
    requireUser(user);
    if (prefs === undefined)
      throw new ValidationError([{ path: 'prefs', message: 'must be preferences or null' }]);
    const key = userPartition(user);
    this.#entries.delete(key);
    this.#entries.set(key, { value: prefs, stamp: ++this.#stamp });
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }

  async invalidate(users: readonly UserKey[]): Promise<void> {
    requireArray(users, 'users');
    users.forEach((user, i) => {
      requireUser(user, `users[${i}]`);
    });
    for (const user of users) this.#entries.delete(userPartition(user));
  }
}

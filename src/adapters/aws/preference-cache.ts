import type { Redis } from 'ioredis';
import { StoreUnavailableError, ValidationError } from '../../domain/errors.ts';
import { userPartition } from '../../domain/keys.ts';
import type { Preferences, UserKey } from '../../domain/types.ts';
import { type Logger, silentLogger } from '../../ports/logger.ts';
import type { PreferenceCache } from '../../ports/preferences.ts';
import { requireArray, requireUser } from '../checks/input.ts';
import { redisReady } from './dedup-store.ts';

export interface RedisPreferenceCacheOptions {
  /** ElastiCache (or any Redis); a Cluster works too, every command names one key. */
  readonly redis: Redis;
  /**
   * How long an entry lives. Invalidation by the stream is the main way out; the TTL bounds the
   * damage of a fill that raced an invalidation. @default 300
   */
  readonly ttlSeconds?: number;
  /** @default 'fanout' */
  readonly keyPrefix?: string;
  /** How long a call waits for a connection still being opened (a cold start). @default 2000 */
  readonly connectTimeoutMs?: number;
  /** Told about Redis failures the cache absorbs: error names and counts, never keys. */
  readonly logger?: Logger;
}

/** Stored for "this user has no record"; never valid JSON of a Preferences object. */
const NO_RECORD = 'null';

/**
 * The preference cache on Redis (ElastiCache): one string per user at
 * `${prefix}:{tenant#user}:prefs`, the Preferences as JSON (or the `null` sentinel), with a TTL.
 * The braces are the Redis Cluster hash tag, so the key's slot follows the user.
 *
 * A cache may lose reads and fills, but not invalidations: `get` and `set` absorb Redis errors
 * (a miss sends the caller to DynamoDB, which is the truth), while `invalidate` throws, because a
 * dropped invalidation would serve stale preferences (a revoked consent, say) until the TTL.
 * The stream record is then retried by the Pipe / poller.
 */
export class RedisPreferenceCache implements PreferenceCache {
  readonly #redis: Redis;
  readonly #ttlSeconds: number;
  readonly #prefix: string;
  readonly #logger: Logger;
  readonly #connectTimeoutMs: number;

  constructor(opts: RedisPreferenceCacheOptions) {
    const ttl = opts.ttlSeconds ?? 300;
    if (!Number.isSafeInteger(ttl) || ttl < 1) {
      throw new ValidationError([{ path: 'ttlSeconds', message: 'must be an integer ≥ 1' }]);
    }
    this.#redis = opts.redis;
    this.#ttlSeconds = ttl;
    this.#prefix = opts.keyPrefix ?? 'fanout';
    this.#logger = opts.logger ?? silentLogger;
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? 2_000;
  }

  /** The Redis key of `user`'s entry. */
  keyOf(user: UserKey): string {
    return `${this.#prefix}:{${userPartition(user)}}:prefs`;
  }

  async get(user: UserKey): Promise<Preferences | null | undefined> {
    requireUser(user);
    let value: string | null;
    try {
      await redisReady(this.#redis, this.#connectTimeoutMs);
      value = await this.#redis.get(this.keyOf(user));
    } catch (err) {
      this.#logger.warn('preference cache read failed; reading the store', { error: nameOf(err) });
      return undefined;
    }
    if (value === null) return undefined;
    if (value === NO_RECORD) return null;
    try {
      return JSON.parse(value) as Preferences;
    } catch {
      // Not ours (a foreign writer, a truncated value): a miss re-reads the truth.
      return undefined;
    }
  }

  async set(user: UserKey, prefs: Preferences | null): Promise<void> {
    requireUser(user);
    if (prefs === undefined)
      throw new ValidationError([{ path: 'prefs', message: 'must be preferences or null' }]);
    const value = prefs === null ? NO_RECORD : JSON.stringify(prefs);
    try {
      await redisReady(this.#redis, this.#connectTimeoutMs);
      await this.#redis.set(this.keyOf(user), value, 'EX', this.#ttlSeconds);
    } catch (err) {
      // A lost fill costs one more store read later, nothing else.
      this.#logger.warn('preference cache fill failed', { error: nameOf(err) });
    }
  }

  /**
   * One DEL per user, all sent at once (they travel pipelined on one connection). Not one
   * multi-key DEL: in cluster mode the users' keys live in different slots, and a multi-key
   * command across slots is refused. Throws StoreUnavailableError if any DEL failed.
   */
  async invalidate(users: readonly UserKey[]): Promise<void> {
    requireArray(users, 'users');
    users.forEach((user, i) => {
      requireUser(user, `users[${i}]`);
    });
    if (users.length === 0) return;
    const keys = [...new Set(users.map((user) => this.keyOf(user)))];
    try {
      await redisReady(this.#redis, this.#connectTimeoutMs);
    } catch (err) {
      throw new StoreUnavailableError('preference cache is not connected', { cause: err });
    }
    const results = await Promise.allSettled(keys.map((key) => this.#redis.del(key)));
    const failed = results.filter((r) => r.status === 'rejected');
    if (failed.length > 0) {
      throw new StoreUnavailableError(`preference cache invalidation failed for ${failed.length} user(s)`, {
        cause: failed[0]!.reason,
      });
    }
  }
}

/** An error's class name: messages may quote keys, which name users. */
function nameOf(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}

import type { Redis } from 'ioredis';
import { StoreUnavailableError } from '../../domain/errors.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import { CapAnswer, type CapRequest, type FrequencyCaps } from '../../ports/frequency-caps.ts';
import { checkCapRequests } from '../checks/frequency-caps.ts';
import { redisReady } from './dedup-store.ts';

export interface RedisFrequencyCapsOptions {
  /** MemoryDB (or any Redis); a Cluster works too: one script names the keys of one user only. */
  readonly redis: Redis;
  /** @default 'fanout' */
  readonly keyPrefix?: string;
  /** Windows are judged by this clock, passed to every script. @default systemClock */
  readonly clock?: Clock;
  /** How long a call waits for a connection still being opened (a cold start). @default 2000 */
  readonly connectTimeoutMs?: number;
}

/**
 * KEYS: one sorted set per window of the user (member: slot id, score: the time it took its
 * place). ARGV: now, slot, then per key its limit, its cutoff (now − window: places at or before
 * it have left the window) and its PX. Returns 1 granted, 0 capped. Times arrive as strings
 * computed in JavaScript, so Lua never formats a 13-digit number.
 */
const TAKE_LUA = `
local n = #KEYS
for i = 1, n do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[2 + 3 * i - 1])
end
for i = 1, n do
  if redis.call('ZSCORE', KEYS[i], ARGV[2]) then return 1 end
end
for i = 1, n do
  if redis.call('ZCARD', KEYS[i]) >= tonumber(ARGV[2 + 3 * i - 2]) then return 0 end
end
for i = 1, n do
  redis.call('ZADD', KEYS[i], ARGV[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[i], ARGV[2 + 3 * i])
end
return 1
`;

interface CapCommands {
  fanoutCapTake(numberOfKeys: number, ...args: string[]): Promise<unknown>;
}

/**
 * Frequency caps on Redis (MemoryDB): a sorted set per (tenant, user, window) at
 * `${prefix}:{fc#tenant#user}:${window}`, the hash tag keeping a user's windows in one cluster
 * slot. A take is one Lua script per request (drop the places that left each window, grant when
 * the slot already holds a place, else count and add to every window or none), so the check and
 * the take are atomic on the server. A set holds at most `limit` members, and expires a window
 * after its newest place. The requests of one call go out in order on one connection, so two
 * pushes to one user in one batch are decided one after the other.
 */
export class RedisFrequencyCaps implements FrequencyCaps {
  readonly #redis: Redis & CapCommands;
  readonly #prefix: string;
  readonly #clock: Clock;
  readonly #connectTimeoutMs: number;

  constructor(opts: RedisFrequencyCapsOptions) {
    this.#prefix = opts.keyPrefix ?? 'fanout';
    this.#clock = opts.clock ?? systemClock;
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? 2_000;
    // No fixed key count: a request names one to four windows.
    opts.redis.defineCommand('fanoutCapTake', { lua: TAKE_LUA });
    this.#redis = opts.redis as Redis & CapCommands;
  }

  /** The Redis key of one window of one user. */
  keyOf(tenantId: string, userId: string, bucket: string): string {
    return `${this.#prefix}:{fc#${tenantId}#${userId}}:${bucket}`;
  }

  async take(requests: readonly CapRequest[]): Promise<CapAnswer[]> {
    checkCapRequests(requests);
    if (requests.length === 0) return [];
    try {
      await redisReady(this.#redis, this.#connectTimeoutMs);
    } catch (err) {
      throw new StoreUnavailableError('frequency caps store is not connected', { cause: err });
    }
    let now: number;
    try {
      now = this.#clock.now();
    } catch (err) {
      throw new StoreUnavailableError('frequency caps store did not answer', { cause: err });
    }
    const settled = await Promise.allSettled(
      requests.map(({ tenantId, userId, slotId, buckets }) => {
        const keys = buckets.map((b) => this.keyOf(tenantId, userId, b.name));
        const args = buckets.flatMap((b) => [String(b.limit), String(now - b.windowMs), String(b.windowMs)]);
        return Promise.resolve().then(() =>
          this.#redis.fanoutCapTake(keys.length, ...keys, String(now), slotId, ...args),
        );
      }),
    );
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed !== undefined) {
      throw new StoreUnavailableError('frequency caps store did not answer', { cause: failed.reason });
    }
    return settled.map((s) => {
      const answer = (s as PromiseFulfilledResult<unknown>).value;
      if (answer === 1) return CapAnswer.Granted;
      if (answer === 0) return CapAnswer.Capped;
      throw new StoreUnavailableError('frequency caps store gave an unknown answer');
    });
  }
}

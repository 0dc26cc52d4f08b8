import type { Redis } from 'ioredis';
import { StoreUnavailableError } from '../../domain/errors.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import type { BucketAnswer, BucketTake, RequestBuckets } from '../../ports/request-buckets.ts';
import { redisReady } from './dedup-store.ts';

export interface RedisRequestBucketsOptions {
  /** Any Redis the API's processes share (ElastiCache in AWS); a Cluster works too. */
  readonly redis: Redis;
  /** @default 'fanout' */
  readonly keyPrefix?: string;
  /**
   * Times are this clock's, passed to every script. Lambda hosts keep their clocks in sync with
   * Amazon Time Sync, so containers agree to well under a millisecond: far finer than a bucket.
   * @default systemClock
   */
  readonly clock?: Clock;
  /** How long a call waits for a connection still being opened (a cold start). @default 2000 */
  readonly connectTimeoutMs?: number;
}

/**
 * GCRA (the generic cell rate algorithm, a token bucket kept as one number): each key holds the
 * theoretical arrival time (TAT) of the next request, in ms. A request is allowed while
 * TAT + interval − now ≤ interval × burst, and moves TAT on by one interval. KEYS: the buckets
 * of one call. ARGV: now, 1 to take (0 to only look), then per key its interval and
 * interval × burst. Every key is checked before any is written, so a call takes from all its
 * buckets or from none. Returns {0, '0'} when allowed, else {index, ms to wait}. Times are
 * formatted by string.format, never by Lua's tostring, which would round a 13-digit time.
 */
const TAKE_LUA = `
local now = tonumber(ARGV[1])
local tats = {}
for i = 1, #KEYS do
  local interval = tonumber(ARGV[1 + 2 * i])
  local limit = tonumber(ARGV[2 + 2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  local next = tat + interval
  local wait = next - limit - now
  if wait > 0 then return {i, string.format('%.3f', wait)} end
  tats[i] = next
end
if ARGV[2] == '1' then
  for i = 1, #KEYS do
    redis.call('SET', KEYS[i], string.format('%.3f', tats[i]), 'PX', math.ceil(tats[i] - now))
  end
end
return {0, '0'}
`;

interface BucketCommands {
  fanoutBucketTake(numberOfKeys: number, ...args: string[]): Promise<unknown>;
}

/**
 * The HTTP API's request limits in Redis, shared by every process that serves the API: in AWS
 * each Lambda container sees a sliver of a tenant's traffic, so only a shared bucket makes the
 * tenant's limit one limit. A bucket is one string key, `${prefix}:{rl#group}:name`, that expires
 * once it is full again, so idle tenants and users cost nothing; the hash tag keeps a tenant's
 * buckets (its own and its users') in one cluster slot, so one script decides them together.
 * One round trip per call.
 */
export class RedisRequestBuckets implements RequestBuckets {
  readonly #redis: Redis & BucketCommands;
  readonly #prefix: string;
  readonly #clock: Clock;
  readonly #connectTimeoutMs: number;

  constructor(opts: RedisRequestBucketsOptions) {
    this.#prefix = opts.keyPrefix ?? 'fanout';
    this.#clock = opts.clock ?? systemClock;
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? 2_000;
    opts.redis.defineCommand('fanoutBucketTake', { lua: TAKE_LUA });
    this.#redis = opts.redis as Redis & BucketCommands;
  }

  /** The Redis key of one bucket. */
  keyOf(bucket: Pick<BucketTake, 'group' | 'name'>): string {
    return `${this.#prefix}:{rl#${bucket.group}}:${bucket.name}`;
  }

  async take(takes: readonly BucketTake[]): Promise<BucketAnswer> {
    if (takes.length === 0) return { allowed: true };
    const group = (takes[0] as BucketTake).group;
    if (takes.some((t) => t.group !== group)) throw new RangeError('the buckets of one take share a group');
    const [index, waitMs] = await this.#run(takes, true);
    if (index === 0) return { allowed: true };
    return { allowed: false, index: index - 1, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
  }

  async peek(bucket: BucketTake): Promise<number> {
    const [index, waitMs] = await this.#run([bucket], false);
    return index === 0 ? 0 : Math.max(1, Math.ceil(waitMs / 1000));
  }

  async #run(takes: readonly BucketTake[], write: boolean): Promise<[number, number]> {
    for (const { rate } of takes) {
      if (!(rate.perSecond > 0) || !(rate.burst >= 1))
        throw new RangeError('a rate needs perSecond > 0 and burst >= 1');
    }
    try {
      await redisReady(this.#redis, this.#connectTimeoutMs);
    } catch (err) {
      throw new StoreUnavailableError('request limit store is not connected', { cause: err });
    }
    const keys = takes.map((t) => this.keyOf(t));
    const args = takes.flatMap(({ rate }) => {
      const interval = 1000 / rate.perSecond;
      return [interval.toFixed(6), (interval * rate.burst).toFixed(6)];
    });
    let answer: unknown;
    try {
      answer = await this.#redis.fanoutBucketTake(
        keys.length,
        ...keys,
        String(this.#clock.now()),
        write ? '1' : '0',
        ...args,
      );
    } catch (err) {
      throw new StoreUnavailableError('request limit store did not answer', { cause: err });
    }
    if (!Array.isArray(answer) || typeof answer[0] !== 'number' || !Number.isFinite(Number(answer[1]))) {
      throw new StoreUnavailableError('request limit store gave an unknown answer');
    }
    return [answer[0], Number(answer[1])];
  }
}

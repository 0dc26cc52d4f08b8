import type { Redis } from 'ioredis';
import { DedupUnavailableError } from '../../domain/errors.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import { type ClaimRequest, ClaimState, type DedupStore, KeyState } from '../../ports/dedup-store.ts';
import { checkClaimRequests, checkDedupKeys, checkTtl, DEDUP_TTL_MS } from '../checks/dedup-store.ts';

export interface RedisDedupStoreOptions {
  /** MemoryDB (or any Redis); a Cluster works too, every command and script names one key. */
  readonly redis: Redis;
  /** @default 'fanout' */
  readonly keyPrefix?: string;
  /** How long a key is remembered once confirmed (or once its lease ran out). @default 30 days */
  readonly ttlMs?: number;
  /** Leases and expiry are judged by this clock, passed to every script. @default systemClock */
  readonly clock?: Clock;
  /** How long a call waits for a connection still being opened (a cold start). @default 2000 */
  readonly connectTimeoutMs?: number;
}

/** Script answers, in the order of the states they stand for. */
const STATES = [ClaimState.Acquired, ClaimState.AcquiredStale, ClaimState.Busy, ClaimState.Done] as const;

/**
 * KEYS[1] the dedup key; ARGV now, leaseUntil, expiresAt, px (all ms, from the caller's clock).
 * Values: `d:<expiresAt>` confirmed, `c:<leaseUntil>:<expiresAt>` claimed. An entry whose
 * expiresAt has passed is as if absent, whatever Redis's own expiry (real time) did with it.
 * Returns 0 Acquired, 1 AcquiredStale, 2 Busy, 3 Done. Times arrive as strings computed in
 * JavaScript, so Lua never formats a 13-digit number (its `..` would use %.14g).
 */
const CLAIM_LUA = `
local now = tonumber(ARGV[1])
local v = redis.call('GET', KEYS[1])
local state = 0
if v then
  local kind = string.sub(v, 1, 1)
  if kind == 'd' then
    if tonumber(string.sub(v, 3)) > now then return 3 end
  else
    local sep = string.find(v, ':', 3, true)
    if tonumber(string.sub(v, sep + 1)) > now then
      if tonumber(string.sub(v, 3, sep - 1)) > now then return 2 end
      state = 1
    end
  end
end
redis.call('SET', KEYS[1], 'c:' .. ARGV[2] .. ':' .. ARGV[3], 'PX', ARGV[4])
return state
`;

/** Deletes the key only while it is a claim: a confirmed key must keep answering Done. */
const RELEASE_LUA = `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 1) == 'c' then return redis.call('DEL', KEYS[1]) end
return 0
`;

interface DedupCommands {
  fanoutDedupClaim(
    key: string,
    now: string,
    leaseUntil: string,
    expiresAt: string,
    px: string,
  ): Promise<unknown>;
  fanoutDedupRelease(key: string): Promise<unknown>;
}

/**
 * The dedup store on Redis (MemoryDB, durable with a multi-AZ log): one string per key at
 * `${prefix}:{tenant#notification}:d:${key}`; the hash tag keeps a job's keys (one per device)
 * in one slot. A claim is one Lua script per key (GET, then SET with the lease deadline in the
 * value), so the check and the take are atomic on the server; confirm is a plain SET, release a
 * script. Cost: one command per key, all of a batch sent at once on the connection.
 *
 * Claims are not left to Redis to expire at the lease's end: a claim whose lease ran out must
 * answer AcquiredStale (its holder may have sent before dying), so the claim lives as long as a
 * confirmed key (lease + TTL) and its lease deadline lives in its value. The injected clock
 * judges leases and expiry, as in the embedded stores; Redis's own PX, in real time, only
 * reclaims memory once the same span has passed.
 *
 * Fail-closed: any Redis error, timeout or lost connection throws DedupUnavailableError, and no
 * state is answered unless Redis answered it. A batch cut off midway may leave some claims taken
 * and unreported; the retry finds them Busy, then AcquiredStale, and re-sends as ambiguous.
 */
export class RedisDedupStore implements DedupStore {
  readonly #redis: Redis & DedupCommands;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #clock: Clock;
  readonly #connectTimeoutMs: number;

  constructor(opts: RedisDedupStoreOptions) {
    const ttlMs = opts.ttlMs ?? DEDUP_TTL_MS;
    checkTtl(ttlMs);
    this.#prefix = opts.keyPrefix ?? 'fanout';
    this.#ttlMs = ttlMs;
    this.#clock = opts.clock ?? systemClock;
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? 2_000;
    // EVALSHA with a fallback to EVAL on NOSCRIPT (a failover to a node without the script).
    opts.redis.defineCommand('fanoutDedupClaim', { numberOfKeys: 1, lua: CLAIM_LUA });
    opts.redis.defineCommand('fanoutDedupRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
    this.#redis = opts.redis as Redis & DedupCommands;
  }

  /**
   * The Redis key of a dedup key. Delivery keys are `tenant#notification#channel#digest`
   * (see `deliveryKey`); the tag is their first two parts, or the whole key when it has fewer.
   */
  keyOf(key: string): string {
    const parts = key.split('#');
    const tag = parts.length > 2 ? `${parts[0]}#${parts[1]}` : key;
    return `${this.#prefix}:{${tag}}:d:${key}`;
  }

  async claim(requests: readonly ClaimRequest[]): Promise<ClaimState[]> {
    checkClaimRequests(requests);
    if (requests.length === 0) return [];
    const now = this.#now();
    // One connection runs commands in the order sent, so a key repeated in the batch finds the
    // claim its first occurrence took (Busy), as the port asks.
    const answers = await this.#all(requests, ({ key, leaseMs }) => {
      const leaseUntil = now + leaseMs;
      const expiresAt = leaseUntil + this.#ttlMs;
      return this.#redis.fanoutDedupClaim(
        this.keyOf(key),
        String(now),
        String(leaseUntil),
        String(expiresAt),
        String(expiresAt - now),
      );
    });
    return answers.map((answer) => {
      const state = typeof answer === 'number' ? STATES[answer] : undefined;
      if (state === undefined) throw new DedupUnavailableError('dedup store gave an unknown answer');
      return state;
    });
  }

  /** SET `d:<expiresAt>` PX ttl: Done for the TTL, whatever the key held before. */
  async confirm(keys: readonly string[]): Promise<void> {
    checkDedupKeys(keys);
    if (keys.length === 0) return;
    const expiresAt = this.#now() + this.#ttlMs;
    await this.#all(keys, (key) => this.#redis.set(this.keyOf(key), `d:${expiresAt}`, 'PX', this.#ttlMs));
  }

  async release(keys: readonly string[]): Promise<void> {
    checkDedupKeys(keys);
    if (keys.length === 0) return;
    await this.#all(keys, (key) => this.#redis.fanoutDedupRelease(this.keyOf(key)));
  }

  /** GET per key, read as the claim script reads it (`d:`/`c:` values, times by our clock). */
  async peek(keys: readonly string[]): Promise<KeyState[]> {
    checkDedupKeys(keys);
    if (keys.length === 0) return [];
    const now = this.#now();
    const values = await this.#all(keys, (key) => this.#redis.get(this.keyOf(key)));
    return values.map((value) => {
      if (value === null) return KeyState.Absent;
      if (typeof value !== 'string') throw new DedupUnavailableError('dedup store gave an unknown answer');
      return redisKeyState(value, now);
    });
  }

  #now(): number {
    try {
      return this.#clock.now();
    } catch (err) {
      throw new DedupUnavailableError('dedup store did not answer', { cause: err });
    }
  }

  /**
   * Sends one single-key command per item, all at once, and waits for every answer. Not a
   * MULTI or a Redis pipeline object: a Cluster pipeline must stay within one slot, while
   * separate commands are routed per key and still travel back to back on each connection.
   */
  async #all<T>(items: readonly T[], send: (item: T) => Promise<unknown>): Promise<unknown[]> {
    try {
      await redisReady(this.#redis, this.#connectTimeoutMs);
    } catch (err) {
      throw new DedupUnavailableError('dedup store is not connected', { cause: err });
    }
    const settled = await Promise.allSettled(items.map((item) => Promise.resolve().then(() => send(item))));
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed !== undefined) {
      throw new DedupUnavailableError('dedup store did not answer', { cause: failed.reason });
    }
    return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value);
  }
}

/** A stored value (`d:<expiresAt>` or `c:<leaseUntil>:<expiresAt>`) at `now`. */
function redisKeyState(value: string, now: number): KeyState {
  if (value.startsWith('d:')) return Number(value.slice(2)) > now ? KeyState.Done : KeyState.Absent;
  const [, leaseUntil, expiresAt] = value.split(':');
  if (leaseUntil === undefined || expiresAt === undefined)
    throw new DedupUnavailableError('dedup store gave an unknown answer');
  if (Number(expiresAt) <= now) return KeyState.Absent;
  return Number(leaseUntil) > now ? KeyState.Pending : KeyState.Stale;
}

/**
 * Resolves once `redis` is connected. The shared client has no offline queue (so a lost
 * connection fails at once), which would also fail every command of a cold start while the
 * first connection is still opening; this waits for that one, up to `timeoutMs`. A client that
 * already failed to connect, was closed or is reconnecting is refused at once.
 */
export async function redisReady(redis: Redis, timeoutMs: number): Promise<void> {
  const status = redis.status;
  if (status === 'ready') return;
  if (status !== 'wait' && status !== 'connecting' && status !== 'connect') {
    throw new Error(`connection is ${status}`);
  }
  await new Promise<void>((resolve, reject) => {
    const finish = (err?: unknown) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', finish);
      redis.off('close', onClose);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onReady = () => finish();
    const onClose = () => finish(new Error('connection closed'));
    const timer = setTimeout(() => finish(new Error('connect timed out')), timeoutMs);
    redis.on('ready', onReady);
    redis.on('error', finish);
    redis.on('close', onClose);
    if (status === 'wait') redis.connect().catch(() => {});
  });
}

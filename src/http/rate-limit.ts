import { ApiError, ApiErrorCode } from './errors.ts';

/** Requests a tenant may make: a sustained rate and a burst above it. */
export interface RateLimitOptions {
  readonly perSecond: number;
  readonly burst: number;
  /** Time source, ms. @default performance.now */
  readonly now?: () => number;
}

interface Bucket {
  tokens: number;
  last: number;
}

/** Buckets kept before full (idle) ones are dropped: a full bucket is the same as no bucket. */
const MAX_BUCKETS = 100_000;

/**
 * One token bucket per key (a tenant, an end user, a source address), taken from without
 * waiting: an HTTP request over the limit is refused at once (429) rather than queued. There is a
 * bucket per active end user and address, so past MAX_BUCKETS the full ones are dropped.
 */
export class TenantRateLimiter {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(opts: RateLimitOptions) {
    if (!(opts.perSecond > 0)) throw new RangeError('perSecond must be > 0');
    if (!(opts.burst >= 1)) throw new RangeError('burst must be >= 1');
    this.#perMs = opts.perSecond / 1000;
    this.#burst = opts.burst;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Takes one request from the tenant's bucket: 0 when allowed, else seconds until one is. */
  take(tenantId: string): number {
    const now = this.#now();
    let bucket = this.#buckets.get(tenantId);
    if (bucket === undefined) {
      if (this.#buckets.size >= MAX_BUCKETS) this.#dropFull(now);
      bucket = { tokens: this.#burst, last: now };
      this.#buckets.set(tenantId, bucket);
    }
    bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.last) * this.#perMs);
    bucket.last = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.#perMs / 1000));
  }

  /** 0 when `key`'s bucket holds a request, else seconds until it will; takes nothing. */
  peek(key: string): number {
    const bucket = this.#buckets.get(key);
    if (bucket === undefined) return 0;
    const tokens = Math.min(this.#burst, bucket.tokens + (this.#now() - bucket.last) * this.#perMs);
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.#perMs / 1000));
  }

  /** Buckets held now. */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Drops the full buckets; if most are still busy (very many active users), the oldest half goes
   * too, forgiving those users part of their debt. Amortised, so no request pays a scan each time.
   */
  #dropFull(now: number): void {
    for (const [key, b] of this.#buckets) {
      if (b.tokens + (now - b.last) * this.#perMs >= this.#burst) this.#buckets.delete(key);
    }
    if (this.#buckets.size < MAX_BUCKETS * 0.9) return;
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size < MAX_BUCKETS / 2) break;
      this.#buckets.delete(key);
    }
  }
}

/** A rate and the burst above it. */
export interface Rate {
  readonly perSecond: number;
  readonly burst: number;
}

export interface RequestLimitsOptions {
  /** Requests of one tenant, whatever the credential (its API keys and all its user tokens). */
  readonly tenant?: Rate;
  /** Requests of one end user of a tenant, within the tenant's (so no user takes it all). */
  readonly user?: Rate;
  /** Wrong credentials from one source address (request.ip; see FANOUT_TRUST_PROXY). */
  readonly failures?: Rate;
  /** Time source, ms. @default performance.now */
  readonly now?: () => number;
}

/**
 * The API's request limits, each refused with 429 and Retry-After. A tenant has one bucket for
 * all its traffic: minting user tokens for many user ids does not multiply its allowance. Each
 * end user also has a smaller bucket of their own, taken from first, so one user looping on the
 * inbox spends at most their share. Wrong credentials are counted per source address, and an
 * address over its limit is refused before its credential is even looked at, so keys and tokens
 * cannot be guessed at speed.
 */
export class RequestLimits {
  readonly #tenant: TenantRateLimiter | undefined;
  readonly #user: TenantRateLimiter | undefined;
  readonly #failures: TenantRateLimiter | undefined;

  constructor(opts: RequestLimitsOptions) {
    const make = (rate: Rate | undefined) =>
      rate === undefined
        ? undefined
        : new TenantRateLimiter({ ...rate, ...(opts.now ? { now: opts.now } : {}) });
    this.#tenant = make(opts.tenant);
    this.#user = make(opts.user);
    this.#failures = make(opts.failures);
  }

  /** Takes one request of the tenant (and of its end user); throws ApiError 429 when over. */
  request(tenantId: string, userId?: string): void {
    if (userId !== undefined) {
      const wait = this.#user?.take(`${tenantId}\u0000${userId}`) ?? 0;
      if (wait > 0)
        throw new ApiError(429, ApiErrorCode.RateLimited, 'too many requests for this user', wait);
    }
    const wait = this.#tenant?.take(tenantId) ?? 0;
    if (wait > 0)
      throw new ApiError(429, ApiErrorCode.RateLimited, 'too many requests for this tenant', wait);
  }

  /** Throws ApiError 429 when `address` sent too many wrong credentials lately. */
  checkAddress(address: string): void {
    const wait = this.#failures?.peek(address) ?? 0;
    if (wait > 0) {
      throw new ApiError(
        429,
        ApiErrorCode.RateLimited,
        'too many failed authentications from this address',
        wait,
      );
    }
  }

  /** Counts a wrong credential from `address`. */
  failed(address: string): void {
    this.#failures?.take(address);
  }
}

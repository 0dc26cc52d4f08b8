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
 * One token bucket per key (a tenant's server traffic, or one end user's), taken from without
 * waiting: an HTTP request over the limit is refused at once (429) rather than queued. There is a
 * bucket per active end user, so past MAX_BUCKETS the full ones are dropped.
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

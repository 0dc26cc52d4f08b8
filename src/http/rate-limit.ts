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

/**
 * One token bucket per tenant, taken from without waiting: an HTTP request over the limit is
 * refused at once (429) rather than queued. Buckets are a few numbers each and there is one per
 * tenant, so they are never evicted.
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
}

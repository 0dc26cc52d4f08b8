import type { BucketAnswer, BucketTake, Rate, RequestBuckets } from '../ports/request-buckets.ts';

interface Bucket {
  tokens: number;
  last: number;
  /** The rate it was last taken at, so an idle bucket can be judged full when it is dropped. */
  perMs: number;
  burst: number;
}

/** Buckets kept before full (idle) ones are dropped: a full bucket is the same as no bucket. */
const MAX_BUCKETS = 100_000;

export interface MemoryRequestBucketsOptions {
  /** Time source, ms. @default performance.now */
  readonly now?: () => number;
}

/**
 * Token buckets in this process's memory: the limits of one `fanout serve`. A bucket exists per
 * active tenant, end user and address, so past MAX_BUCKETS the full ones are dropped. Never fails.
 */
export class MemoryRequestBuckets implements RequestBuckets {
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(opts: MemoryRequestBucketsOptions = {}) {
    this.#now = opts.now ?? (() => performance.now());
  }

  async take(takes: readonly BucketTake[]): Promise<BucketAnswer> {
    return this.takeNow(takes);
  }

  async peek(bucket: BucketTake): Promise<number> {
    const found = this.#buckets.get(keyOf(bucket));
    if (found === undefined) return 0;
    return secondsUntilOne(refilled(found, this.#now(), bucket.rate), bucket.rate);
  }

  /** {@link take} without the promise. */
  takeNow(takes: readonly BucketTake[]): BucketAnswer {
    const now = this.#now();
    const buckets = takes.map((take) => this.#bucket(take, now));
    for (const [index, bucket] of buckets.entries()) {
      const rate = (takes[index] as BucketTake).rate;
      bucket.tokens = refilled(bucket, now, rate);
      bucket.last = now;
      bucket.perMs = rate.perSecond / 1000;
      bucket.burst = rate.burst;
      if (bucket.tokens < 1)
        return { allowed: false, index, retryAfterSeconds: secondsUntilOne(bucket.tokens, rate) };
    }
    for (const bucket of buckets) bucket.tokens -= 1;
    return { allowed: true };
  }

  /** Buckets held now. */
  get size(): number {
    return this.#buckets.size;
  }

  #bucket(take: BucketTake, now: number): Bucket {
    const key = keyOf(take);
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= MAX_BUCKETS) this.#dropFull(now);
      bucket = {
        tokens: take.rate.burst,
        last: now,
        perMs: take.rate.perSecond / 1000,
        burst: take.rate.burst,
      };
      this.#buckets.set(key, bucket);
    }
    return bucket;
  }

  /**
   * Drops the full buckets; if most are still busy (very many active users), the oldest half goes
   * too, forgiving those users part of their debt. Amortised, so no request pays a scan each time.
   */
  #dropFull(now: number): void {
    for (const [key, b] of this.#buckets) {
      if (b.tokens + (now - b.last) * b.perMs >= b.burst) this.#buckets.delete(key);
    }
    if (this.#buckets.size < MAX_BUCKETS * 0.9) return;
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size < MAX_BUCKETS / 2) break;
      this.#buckets.delete(key);
    }
  }
}

function keyOf(take: BucketTake): string {
  return `${take.group}\u0000${take.name}`;
}

function refilled(bucket: Bucket, now: number, rate: Rate): number {
  return Math.min(rate.burst, bucket.tokens + (now - bucket.last) * (rate.perSecond / 1000));
}

function secondsUntilOne(tokens: number, rate: Rate): number {
  return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / rate.perSecond));
}

/** A sustained rate of requests per second and the burst a full bucket allows above it. */
export interface Rate {
  readonly perSecond: number;
  readonly burst: number;
}

/** The HTTP API's request limits; a limit left out is not enforced. */
export interface RequestRates {
  /** FANOUT_RATE_LIMIT / FANOUT_RATE_BURST: requests of one tenant, all its credentials together. */
  readonly tenant?: Rate;
  /** FANOUT_USER_RATE_LIMIT / FANOUT_USER_RATE_BURST: one end user's share of their tenant's. */
  readonly user?: Rate;
  /** FANOUT_AUTH_FAILURE_RATE / FANOUT_AUTH_FAILURE_BURST: wrong credentials per source address. */
  readonly failures?: Rate;
}

/** One bucket to take a request from. */
export interface BucketTake {
  /**
   * What the bucket belongs to: a tenant id, or `addr#<address>`. Every take of one call names the
   * same group, so a shared store can keep them together (one Redis Cluster slot) and decide them
   * in one atomic step.
   */
  readonly group: string;
  /** The bucket within its group: `tenant`, `user#<id>`, `failures`. */
  readonly name: string;
  readonly rate: Rate;
}

/** What a take found. */
export type BucketAnswer =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      /** The position in the call of the first bucket that was empty. */
      readonly index: number;
      /** Whole seconds until that bucket holds a request again (at least 1). */
      readonly retryAfterSeconds: number;
    };

/**
 * Token buckets for the HTTP API's request limits. In one process (`fanout serve`) they live in
 * its memory; where many processes serve one API (Lambda containers, several `fanout serve`
 * behind a balancer) they live in a store all of them share, or each would grant the whole limit.
 * Any store failure throws StoreUnavailableError; the caller decides whether to let the request
 * through.
 */
export interface RequestBuckets {
  /** Takes one request from every bucket, or from none when one of them is empty. */
  take(takes: readonly BucketTake[]): Promise<BucketAnswer>;
  /** Seconds until the bucket holds a request (0: it does now); takes nothing. */
  peek(bucket: BucketTake): Promise<number>;
}

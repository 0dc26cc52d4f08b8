import { StoreUnavailableError } from '../domain/errors.ts';
import type { BucketTake, Rate, RequestBuckets, RequestRates } from '../ports/request-buckets.ts';
import { ApiError, ApiErrorCode } from './errors.ts';

export type { Rate, RequestRates } from '../ports/request-buckets.ts';

/** The app options (`AppOptions`) that carry `rates`. */
export function rateOptions(rates: RequestRates) {
  return {
    ...(rates.tenant ? { rateLimit: rates.tenant } : {}),
    ...(rates.user ? { userRateLimit: rates.user } : {}),
    ...(rates.failures ? { authFailureLimit: rates.failures } : {}),
  };
}

export interface RequestLimitsOptions {
  /** Where the buckets live: this process's memory, or a store every API process shares. */
  readonly buckets: RequestBuckets;
  /** Requests of one tenant, whatever the credential (its API keys and all its user tokens). */
  readonly tenant?: Rate;
  /** Requests of one end user of a tenant, within the tenant's (so no user takes it all). */
  readonly user?: Rate;
  /** Wrong credentials from one source address (request.ip; see FANOUT_TRUST_PROXY). */
  readonly failures?: Rate;
  /**
   * Called when the bucket store fails; the request is let through. A limit protects the service
   * from a noisy tenant; refusing every tenant while the store is down would be the larger outage.
   */
  readonly onStoreError?: (err: StoreUnavailableError) => void;
}

/**
 * The API's request limits, each refused with 429 and Retry-After. A tenant has one bucket for
 * all its traffic: minting user tokens for many user ids does not multiply its allowance. Each
 * end user also has a smaller bucket of their own, taken together with the tenant's (both or
 * neither), so one user looping on the inbox spends at most their share. Wrong credentials are
 * counted per source address, and an address over its limit is refused before its credential is
 * even looked at, so keys and tokens cannot be guessed at speed.
 */
export class RequestLimits {
  readonly #opts: RequestLimitsOptions;

  constructor(opts: RequestLimitsOptions) {
    this.#opts = opts;
  }

  /** Takes one request of the tenant (and of its end user); throws ApiError 429 when over. */
  async request(tenantId: string, userId?: string): Promise<void> {
    const { tenant, user } = this.#opts;
    const takes: BucketTake[] = [];
    const whose: string[] = [];
    if (userId !== undefined && user !== undefined) {
      takes.push({ group: tenantId, name: `user#${userId}`, rate: user });
      whose.push('user');
    }
    if (tenant !== undefined) {
      takes.push({ group: tenantId, name: 'tenant', rate: tenant });
      whose.push('tenant');
    }
    if (takes.length === 0) return;
    const answer = await this.#guarded(() => this.#opts.buckets.take(takes));
    if (answer === undefined || answer.allowed) return;
    throw new ApiError(
      429,
      ApiErrorCode.RateLimited,
      `too many requests for this ${whose[answer.index]}`,
      answer.retryAfterSeconds,
    );
  }

  /** Throws ApiError 429 when `address` sent too many wrong credentials lately. */
  async checkAddress(address: string): Promise<void> {
    const bucket = this.#failureBucket(address);
    if (bucket === undefined) return;
    const wait = (await this.#guarded(() => this.#opts.buckets.peek(bucket))) ?? 0;
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
  async failed(address: string): Promise<void> {
    const bucket = this.#failureBucket(address);
    if (bucket !== undefined) await this.#guarded(() => this.#opts.buckets.take([bucket]));
  }

  #failureBucket(address: string): BucketTake | undefined {
    const rate = this.#opts.failures;
    return rate === undefined ? undefined : { group: `addr#${address}`, name: 'failures', rate };
  }

  /** The store's answer, or undefined (let through) when it failed. */
  async #guarded<T>(call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      this.#opts.onStoreError?.(err);
      return undefined;
    }
  }
}

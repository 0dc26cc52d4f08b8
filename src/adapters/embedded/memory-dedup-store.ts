import { ClosedError, DedupUnavailableError } from '../../domain/errors.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import { type ClaimRequest, ClaimState, type DedupStore, type KeyState } from '../../ports/dedup-store.ts';
import { checkClaimRequests, checkDedupKeys, checkTtl, DEDUP_TTL_MS } from '../checks/dedup-store.ts';
import { claimStateOf, type DedupEntry, keyStateOf } from './dedup-store.ts';

export interface MemoryDedupStoreOptions {
  /** @default systemClock */
  readonly clock?: Clock;
  /** How long a key is remembered once confirmed (or once its lease ran out). @default 30 days */
  readonly ttlMs?: number;
}

/** Expired keys dropped from the oldest end per write call: bounded work, amortised clean-up. */
const SWEEP_PER_CALL = 64;

/**
 * The dedup store in process memory, with the same states and expiry as the SQLite one. It holds
 * only while the process lives, so it suits tests and single-process runs that keep no data file.
 *
 * Expiry is lazy: a claim treats an expired key as absent and overwrites it. Every write re-inserts its
 * key, so the Map's order is roughly the order of expiry; each write call also drops a bounded
 * number of expired keys from the oldest end. Memory therefore follows the keys written within
 * the TTL, with no size bound of its own: a bound would forget live keys and let duplicates
 * through, which is worse than growing.
 */
export class MemoryDedupStore implements DedupStore {
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #keys = new Map<string, DedupEntry>();
  #closed = false;

  constructor(opts: MemoryDedupStoreOptions = {}) {
    const ttlMs = opts.ttlMs ?? DEDUP_TTL_MS;
    checkTtl(ttlMs);
    this.#clock = opts.clock ?? systemClock;
    this.#ttlMs = ttlMs;
  }

  async claim(requests: readonly ClaimRequest[]): Promise<ClaimState[]> {
    checkClaimRequests(requests);
    const now = this.#open();
    const states = requests.map(({ key, leaseMs }) => {
      const state = claimStateOf(this.#keys.get(key), now);
      if (state === ClaimState.Acquired || state === ClaimState.AcquiredStale) {
        this.#put(key, { done: false, leaseUntil: now + leaseMs, expiresAt: now + leaseMs + this.#ttlMs });
      }
      return state;
    });
    this.#sweep(now);
    return states;
  }

  async confirm(keys: readonly string[]): Promise<void> {
    checkDedupKeys(keys);
    const now = this.#open();
    const entry: DedupEntry = { done: true, leaseUntil: 0, expiresAt: now + this.#ttlMs };
    for (const key of keys) this.#put(key, entry);
    this.#sweep(now);
  }

  async release(keys: readonly string[]): Promise<void> {
    checkDedupKeys(keys);
    this.#open();
    for (const key of keys) if (this.#keys.get(key)?.done === false) this.#keys.delete(key);
  }

  async peek(keys: readonly string[]): Promise<KeyState[]> {
    checkDedupKeys(keys);
    const now = this.#open();
    return keys.map((key) => keyStateOf(this.#keys.get(key), now));
  }

  /** Number of keys held, expired ones not yet dropped included. */
  get size(): number {
    return this.#keys.size;
  }

  /** Forgets every key; later calls fail closed with DedupUnavailableError, as a lost store does. */
  close(): void {
    this.#closed = true;
    this.#keys.clear();
  }

  /** The current time, or a DedupUnavailableError once closed. */
  #open(): number {
    if (this.#closed) throw new DedupUnavailableError('dedup store is closed', { cause: new ClosedError() });
    try {
      return this.#clock.now();
    } catch (err) {
      throw new DedupUnavailableError('dedup store did not answer', { cause: err });
    }
  }

  #put(key: string, entry: DedupEntry): void {
    // Delete first so the key moves to the newest end: the sweep relies on that order.
    this.#keys.delete(key);
    this.#keys.set(key, entry);
  }

  #sweep(now: number): void {
    let budget = SWEEP_PER_CALL;
    for (const [key, entry] of this.#keys) {
      if (budget-- === 0 || entry.expiresAt > now) return;
      this.#keys.delete(key);
    }
  }
}

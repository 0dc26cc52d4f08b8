import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DedupUnavailableError, ValidationError } from '../../src/domain/errors.ts';
import { type ClaimRequest, ClaimState, type DedupStore, KeyState } from '../../src/ports/dedup-store.ts';

/** The store's notion of time, which the suite can move forward. */
export interface DedupClock {
  /** Epoch ms as the store sees it. */
  now(): number;
  /** Moves time forward: a fake clock steps, a harness on a real store waits. */
  advance(ms: number): Promise<void>;
}

/** A clock that moves only when told to, for stores that take their time from the clock given. */
export function manualClock(start = 1_800_000_000_000): DedupClock {
  let now = start;
  return {
    now: () => now,
    advance: async (ms) => {
      now += ms;
    },
  };
}

/** What a suite run needs: a fresh, empty store per test. */
export interface DedupStoreHarness {
  readonly store: DedupStore;
  /** How long the store keeps a confirmed key. */
  readonly ttlMs: number;
  readonly clock: DedupClock;
  /** Makes the store fail from now on (closed connection, closed database). */
  breakStore(): Promise<void>;
  close(): Promise<void>;
}

const LEASE_MS = 1_000;

function claims(...keys: string[]): ClaimRequest[] {
  return keys.map((key) => ({ key, leaseMs: LEASE_MS }));
}

/**
 * The DedupStore port's contract: the effectively-once guard the consumers rely on, including
 * failing closed, run against every adapter.
 */
export function dedupStoreContract(name: string, make: () => Promise<DedupStoreHarness>): void {
  describe(`DedupStore contract: ${name}`, () => {
    let h: DedupStoreHarness;
    let store: DedupStore;
    beforeEach(async () => {
      h = await make();
      store = h.store;
    });
    afterEach(async () => {
      await h.close();
    });

    it('acquires a key nobody holds', async () => {
      // Act
      const states = await store.claim(claims('t1#n1#push#d1', 't1#n2#push#d1'));
      // Assess
      expect(states).toEqual([ClaimState.Acquired, ClaimState.Acquired]);
    });

    it('answers Busy while another claim holds a live lease', async () => {
      // Prepare
      await store.claim(claims('k1'));
      await h.clock.advance(LEASE_MS - 1);
      // Act
      const states = await store.claim(claims('k1'));
      // Assess
      expect(states).toEqual([ClaimState.Busy]);
    });

    it('takes over a claim whose lease ran out, as AcquiredStale with a new lease', async () => {
      // Prepare
      await store.claim(claims('k1'));
      await h.clock.advance(LEASE_MS);
      // Act
      const takeover = await store.claim([{ key: 'k1', leaseMs: 5_000 }]);
      await h.clock.advance(LEASE_MS);
      const whileNewLeaseLives = await store.claim(claims('k1'));
      await h.clock.advance(4_000);
      const afterNewLease = await store.claim(claims('k1'));
      // Assess
      expect(takeover).toEqual([ClaimState.AcquiredStale]);
      expect(whileNewLeaseLives).toEqual([ClaimState.Busy]);
      expect(afterNewLease).toEqual([ClaimState.AcquiredStale]);
    });

    it('answers Done for a confirmed key, whatever its lease did', async () => {
      // Prepare
      await store.claim(claims('k1'));
      await store.confirm(['k1']);
      // Act
      const atOnce = await store.claim(claims('k1'));
      await h.clock.advance(LEASE_MS * 10);
      const afterLease = await store.claim(claims('k1'));
      // Assess
      expect(atOnce).toEqual([ClaimState.Done]);
      expect(afterLease).toEqual([ClaimState.Done]);
    });

    it('forgets a confirmed key when its TTL ends', async () => {
      // Prepare
      await store.claim(claims('k1'));
      await store.confirm(['k1']);
      // Act
      await h.clock.advance(h.ttlMs - 1);
      const justBefore = await store.claim(claims('k1'));
      await h.clock.advance(1);
      const atExpiry = await store.claim(claims('k1'));
      // Assess
      expect(justBefore).toEqual([ClaimState.Done]);
      expect(atExpiry).toEqual([ClaimState.Acquired]);
    });

    it('remembers an abandoned claim as AcquiredStale for the TTL after its lease', async () => {
      // Prepare
      await store.claim(claims('k1'));
      // Act
      await h.clock.advance(LEASE_MS + h.ttlMs - 1);
      const justBefore = await store.claim(claims('k1'));
      await h.clock.advance(LEASE_MS + h.ttlMs);
      const long = await store.claim(claims('k1'));
      // Assess
      expect(justBefore).toEqual([ClaimState.AcquiredStale]);
      expect(long).toEqual([ClaimState.Acquired]);
    });

    it('records a confirm of a key that was never claimed as Done', async () => {
      // Act
      await store.confirm(['k1']);
      // Assess
      expect(await store.claim(claims('k1'))).toEqual([ClaimState.Done]);
    });

    it('treats a repeated confirm as one', async () => {
      // Prepare
      await store.claim(claims('k1'));
      // Act
      await store.confirm(['k1']);
      await store.confirm(['k1', 'k1']);
      // Assess
      expect(await store.claim(claims('k1'))).toEqual([ClaimState.Done]);
    });

    it('lets a retry acquire a key again once its claim is released', async () => {
      // Prepare
      await store.claim(claims('k1', 'k2'));
      // Act
      await store.release(['k1']);
      const states = await store.claim(claims('k1', 'k2'));
      // Assess
      expect(states).toEqual([ClaimState.Acquired, ClaimState.Busy]);
    });

    it('does not release a confirmed key', async () => {
      // Prepare
      await store.claim(claims('k1'));
      await store.confirm(['k1']);
      // Act
      await store.release(['k1']);
      // Assess
      expect(await store.claim(claims('k1'))).toEqual([ClaimState.Done]);
    });

    it('releases a key nobody holds without complaint', async () => {
      // Act
      await store.release(['never-claimed']);
      // Assess
      expect(await store.claim(claims('never-claimed'))).toEqual([ClaimState.Acquired]);
    });

    it('gives a key repeated in one call to its first occurrence only', async () => {
      // Prepare
      await store.claim(claims('stale'));
      await store.confirm(['done']);
      await h.clock.advance(LEASE_MS);
      // Act
      const states = await store.claim(claims('new', 'new', 'stale', 'done', 'stale', 'new'));
      // Assess
      expect(states).toEqual([
        ClaimState.Acquired,
        ClaimState.Busy,
        ClaimState.AcquiredStale,
        ClaimState.Done,
        ClaimState.Busy,
        ClaimState.Busy,
      ]);
    });

    it('answers every state of one batch in request order', async () => {
      // Prepare
      await store.claim(claims('busy'));
      await store.confirm(['done']);
      await store.claim([{ key: 'stale', leaseMs: 1 }]);
      await h.clock.advance(1);
      // Act
      const states = await store.claim(claims('done', 'fresh', 'stale', 'busy'));
      // Assess
      expect(states).toEqual([
        ClaimState.Done,
        ClaimState.Acquired,
        ClaimState.AcquiredStale,
        ClaimState.Busy,
      ]);
    });

    it('accepts empty batches', async () => {
      // Act
      const states = await store.claim([]);
      await store.confirm([]);
      await store.release([]);
      const peeked = await store.peek([]);
      // Assess
      expect(states).toEqual([]);
      expect(peeked).toEqual([]);
    });

    it('peeks every state in key order, and takes nothing', async () => {
      // Prepare
      await store.claim(claims('busy'));
      await store.confirm(['done']);
      await store.claim([{ key: 'stale', leaseMs: 1 }]);
      await h.clock.advance(1);
      // Act
      const peeked = await store.peek(['done', 'fresh', 'stale', 'busy', 'fresh']);
      const claimed = await store.claim(claims('fresh', 'stale'));
      // Assess
      expect(peeked).toEqual([
        KeyState.Done,
        KeyState.Absent,
        KeyState.Stale,
        KeyState.Pending,
        KeyState.Absent,
      ]);
      expect(claimed).toEqual([ClaimState.Acquired, ClaimState.AcquiredStale]);
    });

    it('peeks a released claim and an expired key as absent', async () => {
      // Prepare
      await store.claim(claims('released'));
      await store.release(['released']);
      await store.confirm(['old']);
      await h.clock.advance(h.ttlMs);
      // Act
      const peeked = await store.peek(['released', 'old']);
      // Assess
      expect(peeked).toEqual([KeyState.Absent, KeyState.Absent]);
    });

    it('rejects bad input as a ValidationError and applies nothing', async () => {
      // Prepare
      const bad = (value: unknown) => value as never;
      // Act / Assess
      await expect(store.claim(bad('k1'))).rejects.toBeInstanceOf(ValidationError);
      await expect(store.claim([{ key: '', leaseMs: LEASE_MS }])).rejects.toBeInstanceOf(ValidationError);
      for (const leaseMs of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        await expect(store.claim([{ key: 'k1', leaseMs }])).rejects.toBeInstanceOf(ValidationError);
      }
      await expect(store.claim([...claims('k2'), bad(null)])).rejects.toBeInstanceOf(ValidationError);
      await expect(store.confirm(bad('k1'))).rejects.toBeInstanceOf(ValidationError);
      await expect(store.confirm(['k3', ''])).rejects.toBeInstanceOf(ValidationError);
      await expect(store.release(bad(undefined))).rejects.toBeInstanceOf(ValidationError);
      await expect(store.release([bad(7)])).rejects.toBeInstanceOf(ValidationError);
      await expect(store.peek(bad('k1'))).rejects.toBeInstanceOf(ValidationError);
      await expect(store.peek(['k1', ''])).rejects.toBeInstanceOf(ValidationError);
      expect(await store.claim(claims('k1', 'k2', 'k3'))).toEqual([
        ClaimState.Acquired,
        ClaimState.Acquired,
        ClaimState.Acquired,
      ]);
    });

    it('fails closed: every call rejects with DedupUnavailableError once the store is broken', async () => {
      // Prepare
      await store.claim(claims('k1'));
      await h.breakStore();
      // Act
      const claim = store.claim(claims('k1', 'k2'));
      const confirm = store.confirm(['k1']);
      const release = store.release(['k1']);
      const peek = store.peek(['k1']);
      // Assess
      await expect(peek).rejects.toBeInstanceOf(DedupUnavailableError);
      await expect(claim).rejects.toBeInstanceOf(DedupUnavailableError);
      await expect(confirm).rejects.toBeInstanceOf(DedupUnavailableError);
      await expect(release).rejects.toBeInstanceOf(DedupUnavailableError);
    });

    it('answers like the reference model for any sequence of calls', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 30 }), async (steps) => {
          // Prepare
          const run = await make();
          const model = new Map<string, { done: boolean; leaseUntil: number; expiresAt: number }>();
          try {
            for (const s of steps) {
              const now = run.clock.now();
              // Act
              if (s.op === 'claim') {
                const states = await run.store.claim(s.keys.map((key) => ({ key, leaseMs: s.leaseMs })));
                // Assess
                expect(states).toEqual(
                  s.keys.map((key) => {
                    const entry = model.get(key);
                    let state: ClaimState = ClaimState.Acquired;
                    if (entry !== undefined && entry.expiresAt > now) {
                      if (entry.done) state = ClaimState.Done;
                      else state = entry.leaseUntil > now ? ClaimState.Busy : ClaimState.AcquiredStale;
                    }
                    if (state === ClaimState.Acquired || state === ClaimState.AcquiredStale) {
                      const leaseUntil = now + s.leaseMs;
                      model.set(key, { done: false, leaseUntil, expiresAt: leaseUntil + run.ttlMs });
                    }
                    return state;
                  }),
                );
              } else if (s.op === 'confirm') {
                await run.store.confirm(s.keys);
                for (const key of s.keys)
                  model.set(key, { done: true, leaseUntil: 0, expiresAt: now + run.ttlMs });
              } else if (s.op === 'release') {
                await run.store.release(s.keys);
                for (const key of s.keys) if (model.get(key)?.done === false) model.delete(key);
              } else if (s.op === 'advance') {
                await run.clock.advance(s.ms);
              } else if (s.op === 'peek') {
                const peeked = await run.store.peek(s.keys);
                expect(peeked).toEqual(
                  s.keys.map((key) => {
                    const entry = model.get(key);
                    if (entry === undefined || entry.expiresAt <= now) return KeyState.Absent;
                    if (entry.done) return KeyState.Done;
                    return entry.leaseUntil > now ? KeyState.Pending : KeyState.Stale;
                  }),
                );
              }
            }
          } finally {
            await run.close();
          }
        }),
        { numRuns: 60 },
      );
    });
  });
}

const key = fc.constantFrom('a', 'b', 'c', 'd');
const keys = fc.array(key, { minLength: 1, maxLength: 4 });

/** One call of the model property; times are in units the suite's own TTL tests also use. */
type Step =
  | { readonly op: 'claim'; readonly keys: string[]; readonly leaseMs: number }
  | { readonly op: 'confirm'; readonly keys: string[] }
  | { readonly op: 'release'; readonly keys: string[] }
  | { readonly op: 'peek'; readonly keys: string[] }
  | { readonly op: 'advance'; readonly ms: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('claim' as const), keys, leaseMs: fc.constantFrom(1, 500, LEASE_MS) }),
  fc.record({ op: fc.constantFrom('confirm' as const, 'release' as const, 'peek' as const), keys }),
  fc.record({ op: fc.constant('advance' as const), ms: fc.constantFrom(1, 499, 500, LEASE_MS, 5_000) }),
);

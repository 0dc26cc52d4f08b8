import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BucketTake, Rate, RequestBuckets } from '../../src/ports/request-buckets.ts';
import type { DedupClock } from './dedup-store.contract.ts';

/** What a suite run needs: a fresh store per test, and a second one on the same data. */
export interface RequestBucketsHarness {
  readonly store: RequestBuckets;
  /**
   * Another process's view. For a shared store, the same buckets (a second Lambda container);
   * for one process's memory, undefined: there is nothing to share.
   */
  readonly twin?: RequestBuckets;
  readonly clock: DedupClock;
  close(): Promise<void>;
}

const take = (group: string, name: string, rate: Rate): BucketTake => ({ group, name, rate });

/** Calls `store.take` `n` times, one after the other, and counts the allowed ones. */
async function allowedOf(store: RequestBuckets, n: number, takes: readonly BucketTake[]): Promise<number> {
  let allowed = 0;
  for (let i = 0; i < n; i++) if ((await store.take(takes)).allowed) allowed++;
  return allowed;
}

/**
 * The RequestBuckets port's contract, run against every adapter: a burst, then the sustained rate;
 * takes over several buckets are all-or-nothing; a refusal says which bucket and how long to
 * wait; peeking takes nothing; buckets of different groups and names never mix.
 */
export function requestBucketsContract(name: string, make: () => Promise<RequestBucketsHarness>): void {
  describe(`RequestBuckets contract: ${name}`, () => {
    let h: RequestBucketsHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    it('allows a full burst at once, then refuses with the seconds until one request fits', async () => {
      // Prepare
      const bucket = take('t1', 'tenant', { perSecond: 2, burst: 5 });
      // Act
      const allowed = await allowedOf(h.store, 5, [bucket]);
      const refused = await h.store.take([bucket]);
      // Assess
      expect(allowed).toBe(5);
      expect(refused).toEqual({ allowed: false, index: 0, retryAfterSeconds: 1 });
    });

    it('refills at the sustained rate, never above the burst', async () => {
      // Prepare
      const bucket = take('t1', 'tenant', { perSecond: 2, burst: 4 });
      await allowedOf(h.store, 4, [bucket]);
      // Act: 1.5 s refills 3 requests; an hour refills only the burst.
      await h.clock.advance(1_500);
      const afterRefill = await allowedOf(h.store, 10, [bucket]);
      await h.clock.advance(3_600_000);
      const afterIdle = await allowedOf(h.store, 10, [bucket]);
      // Assess
      expect(afterRefill).toBe(3);
      expect(afterIdle).toBe(4);
    });

    it('says how long to wait at a slow rate', async () => {
      // Prepare: one request every 10 s.
      const bucket = take('t1', 'tenant', { perSecond: 0.1, burst: 1 });
      await h.store.take([bucket]);
      // Act
      const refused = await h.store.take([bucket]);
      await h.clock.advance(4_000);
      const later = await h.store.take([bucket]);
      // Assess
      expect(refused).toEqual({ allowed: false, index: 0, retryAfterSeconds: 10 });
      expect(later).toEqual({ allowed: false, index: 0, retryAfterSeconds: 6 });
    });

    it('takes from every bucket of a call or from none, naming the empty one', async () => {
      // Prepare: the user's share is 2, the tenant's 3.
      const user = (id: string) => take('t1', `user#${id}`, { perSecond: 1, burst: 2 });
      const tenant = take('t1', 'tenant', { perSecond: 1, burst: 3 });
      // Act
      const ana = await allowedOf(h.store, 3, [user('ana'), tenant]);
      const anaRefused = await h.store.take([user('ana'), tenant]);
      const bo = await allowedOf(h.store, 1, [user('bo'), tenant]);
      const boRefused = await h.store.take([user('bo'), tenant]);
      const cy = await h.store.take([user('cy'), tenant]);
      // Assess: ana's third request took from neither bucket, so the tenant still had one for bo.
      expect(ana).toBe(2);
      expect(anaRefused).toMatchObject({ allowed: false, index: 0 });
      expect(bo).toBe(1);
      expect(boRefused).toMatchObject({ allowed: false, index: 1 });
      expect(cy).toMatchObject({ allowed: false, index: 1 });
    });

    it('peeks without taking', async () => {
      // Prepare
      const bucket = take('addr#192.0.2.7', 'failures', { perSecond: 1, burst: 2 });
      // Act
      const before = await h.store.peek(bucket);
      const peekedTwice = [await h.store.peek(bucket), await h.store.peek(bucket)];
      await allowedOf(h.store, 2, [bucket]);
      const after = await h.store.peek(bucket);
      // Assess
      expect(before).toBe(0);
      expect(peekedTwice).toEqual([0, 0]);
      expect(after).toBe(1);
    });

    it('keeps groups and names apart', async () => {
      // Prepare
      const rate = { perSecond: 1, burst: 1 };
      await h.store.take([take('t1', 'tenant', rate)]);
      // Act
      const answers = await Promise.all([
        h.store.take([take('t2', 'tenant', rate)]),
        h.store.take([take('t1', 'user#tenant', rate)]),
        h.store.take([take('t1', 'tenant', rate)]),
      ]);
      // Assess
      expect(answers.map((a) => a.allowed)).toEqual([true, true, false]);
    });

    it('grants a burst once however many callers race for it', async () => {
      // Prepare
      const bucket = take('t1', 'tenant', { perSecond: 1, burst: 10 });
      const stores = h.twin === undefined ? [h.store] : [h.store, h.twin];
      // Act
      const answers = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (stores[i % stores.length] as RequestBuckets).take([bucket])),
      );
      // Assess
      expect(answers.filter((a) => a.allowed)).toHaveLength(10);
    });

    it('shares buckets between processes when the store is shared', async (ctx) => {
      if (h.twin === undefined) ctx.skip();
      // Prepare
      const bucket = take('t1', 'tenant', { perSecond: 1, burst: 4 });
      // Act
      const here = await allowedOf(h.store, 2, [bucket]);
      const there = await allowedOf(h.twin as RequestBuckets, 4, [bucket]);
      // Assess
      expect(here + there).toBe(4);
      expect(await h.store.peek(bucket)).toBe(1);
    });
  });
}

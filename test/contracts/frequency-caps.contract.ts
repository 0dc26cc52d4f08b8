import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreUnavailableError, ValidationError } from '../../src/domain/errors.ts';
import type { CapBucket } from '../../src/domain/frequency-cap.ts';
import { CapAnswer, type CapRequest, type FrequencyCaps } from '../../src/ports/frequency-caps.ts';
import type { DedupClock } from './dedup-store.contract.ts';

/** What a suite run needs: a fresh, empty store per test, and a second one on the same data. */
export interface FrequencyCapsHarness {
  readonly store: FrequencyCaps;
  /** Another store over the same data, as a second consumer has. */
  readonly twin: FrequencyCaps;
  readonly clock: DedupClock;
  /** Makes the store fail from now on (closed connection, closed database). */
  breakStore(): Promise<void>;
  close(): Promise<void>;
}

const HOUR = 3_600_000;
const hourly = (limit: number, name = 'push'): CapBucket => ({ name, limit, windowMs: HOUR });

function ask(slotId: string, buckets: readonly CapBucket[], userId = 'u1', tenantId = 't1'): CapRequest {
  return { tenantId, userId, slotId, buckets };
}

const { Granted, Capped } = CapAnswer;

/** True when no rolling window of `windowMs` holds more than `limit` of the sorted times. */
function fitsEveryWindow(times: readonly number[], limit: number, windowMs: number): boolean {
  for (let i = limit; i < times.length; i++) if (times[i]! - times[i - limit]! < windowMs) return false;
  return true;
}

/**
 * The FrequencyCaps port's contract, run against every adapter: rolling windows, atomic takes
 * over several windows, a slot counted once however often it is re-taken, and isolation.
 */
export function frequencyCapsContract(name: string, make: () => Promise<FrequencyCapsHarness>): void {
  describe(`FrequencyCaps contract: ${name}`, () => {
    let h: FrequencyCapsHarness;
    let store: FrequencyCaps;
    beforeEach(async () => {
      h = await make();
      store = h.store;
    });
    afterEach(async () => {
      await h.close();
    });

    it('grants up to the limit, then caps, deciding the requests of one call in order', async () => {
      // Act
      const answers = await store.take(['s1', 's2', 's3', 's4', 's5'].map((s) => ask(s, [hourly(3)])));
      // Assess
      expect(answers).toEqual([Granted, Granted, Granted, Capped, Capped]);
    });

    it('grants a slot that holds a place again without taking a second one', async () => {
      // Prepare
      await store.take([ask('s1', [hourly(2)])]);
      // Act
      const again = await store.take([ask('s1', [hourly(2)]), ask('s1', [hourly(2)])]);
      const next = await store.take([ask('s2', [hourly(2)]), ask('s3', [hourly(2)])]);
      // Assess
      expect(again).toEqual([Granted, Granted]);
      expect(next).toEqual([Granted, Capped]);
    });

    it('frees a place exactly one window after it was taken', async () => {
      // Prepare
      await store.take([ask('s1', [hourly(2)])]);
      await h.clock.advance(HOUR / 2);
      await store.take([ask('s2', [hourly(2)])]);
      // Act
      await h.clock.advance(HOUR / 2 - 1);
      const before = await store.take([ask('s3', [hourly(2)])]);
      await h.clock.advance(1);
      const at = await store.take([ask('s3', [hourly(2)]), ask('s4', [hourly(2)])]);
      // Assess
      expect(before).toEqual([Capped]);
      expect(at).toEqual([Granted, Capped]);
    });

    it('takes a place in every window or in none', async () => {
      // Prepare: the social window holds 1, the window over every push 3.
      const social = [hourly(3), hourly(1, 'push:social')];
      const content = [hourly(3), hourly(1, 'push:content')];
      // Act
      const answers = await store.take([
        ask('s1', social),
        ask('s2', social),
        ask('s3', content),
        ask('s4', content),
      ]);
      const last = await store.take([ask('s5', [hourly(3)]), ask('s6', [hourly(3)])]);
      // Assess: s2 took nothing, so the window over every push still had room for s5.
      expect(answers).toEqual([Granted, Capped, Granted, Capped]);
      expect(last).toEqual([Granted, Capped]);
    });

    it('keeps users and tenants apart', async () => {
      // Prepare
      await store.take([ask('s1', [hourly(1)], 'u1', 't1')]);
      // Act
      const answers = await store.take([
        ask('s2', [hourly(1)], 'u1', 't1'),
        ask('s2', [hourly(1)], 'u2', 't1'),
        ask('s2', [hourly(1)], 'u1', 't2'),
      ]);
      // Assess
      expect(answers).toEqual([Capped, Granted, Granted]);
    });

    it('never lets two consumers taking at once exceed the limit', async () => {
      // Prepare
      const calls = Array.from({ length: 10 }, (_, c) =>
        Array.from({ length: 4 }, (_, i) => ask(`s${c}-${i}`, [hourly(7)])),
      );
      // Act
      const answers = await Promise.all(calls.map((requests, c) => (c % 2 ? h.twin : store).take(requests)));
      // Assess
      expect(answers.flat().filter((a) => a === Granted)).toHaveLength(7);
    });

    it('holds a burst of 2,000 pushes to at most 10 in any rolling hour', async () => {
      // Prepare: one push every 9 s for 5 hours, each asked twice (the second: a re-delivery).
      const start = h.clock.now();
      const granted: number[] = [];
      // Act
      for (let call = 0; call < 40; call++) {
        const requests = Array.from({ length: 50 }, (_, i) => ask(`s${call * 50 + i}`, [hourly(10)]));
        for (let i = 0; i < requests.length; i++) {
          const [first] = await store.take([requests[i]!]);
          const [again] = await store.take([requests[i]!]);
          expect(again).toBe(first);
          if (first === Granted) granted.push(h.clock.now());
          await h.clock.advance(9_000);
        }
      }
      // Assess
      expect(fitsEveryWindow(granted, 10, HOUR)).toBe(true);
      // Each hour's 10 places are used: the cap holds pushes back, it does not starve the user.
      expect(granted.length).toBe(50);
      expect(granted[0]).toBe(start);
    });

    it('refuses bad requests with a ValidationError and takes nothing', async () => {
      // Prepare
      const bad: unknown[] = [
        [ask('', [hourly(1)])],
        [ask('s1', [])],
        [ask('s1', [hourly(0)])],
        [ask('s1', [{ name: 'push', limit: 1, windowMs: 0 }])],
        [ask('s1', [hourly(1), hourly(1)])],
        [{ tenantId: '', userId: 'u1', slotId: 's1', buckets: [hourly(1)] }],
        [ask('s1', [hourly(1)]), ask('s2', [hourly(1.5)])],
        'nope',
      ];
      // Act / Assess
      for (const requests of bad) {
        await expect(store.take(requests as CapRequest[])).rejects.toBeInstanceOf(ValidationError);
      }
      expect(await store.take([ask('s1', [hourly(1)])])).toEqual([Granted]);
      expect(await store.take([])).toEqual([]);
    });

    it('fails with StoreUnavailableError when its store is gone', async () => {
      // Prepare
      await h.breakStore();
      // Act
      const take = store.take([ask('s1', [hourly(1)])]);
      // Assess
      await expect(take).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });
}

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreUnavailableError, ValidationError } from '../../src/domain/errors.ts';
import type { DigestEntry, DigestSchedule } from '../../src/ports/digest-schedule.ts';

/** What a suite run needs: a fresh, empty schedule per test. */
export interface DigestScheduleHarness {
  readonly schedule: DigestSchedule;
  /** Makes the store fail from now on (closed database, missing table). */
  breakStore(): Promise<void>;
  close(): Promise<void>;
}

const HOUR = 3_600_000;
const T0 = 1_800_000_000_000 - (1_800_000_000_000 % HOUR);

function entry(userId: string, dueAt: number, over: Partial<DigestEntry> = {}): DigestEntry {
  return { tenantId: 't1', userId, cadence: 'hourly', periodStart: dueAt - HOUR, dueAt, ...over };
}

/**
 * The DigestSchedule port's contract, run against every adapter: only due entries, earliest
 * first, idempotent adds, done removes, isolation of tenants and cadences, and our errors.
 */
export function digestScheduleContract(name: string, make: () => Promise<DigestScheduleHarness>): void {
  describe(`DigestSchedule contract: ${name}`, () => {
    let h: DigestScheduleHarness;
    let schedule: DigestSchedule;
    beforeEach(async () => {
      h = await make();
      schedule = h.schedule;
    });
    afterEach(async () => {
      await h.close();
    });

    it('returns only the entries due by now, the earliest due first', async () => {
      // Prepare
      await schedule.add([entry('late', T0 + 3 * HOUR), entry('b', T0 + HOUR), entry('a', T0)]);
      // Act
      const due = await schedule.due(T0 + HOUR, 10);
      // Assess
      expect(due).toEqual([entry('a', T0), entry('b', T0 + HOUR)]);
      expect(await schedule.due(T0 - 1, 10)).toEqual([]);
    });

    it('keeps one entry however often it is added', async () => {
      // Act
      await schedule.add([entry('a', T0), entry('a', T0)]);
      await schedule.add([entry('a', T0)]);
      // Assess
      expect(await schedule.due(T0, 10)).toEqual([entry('a', T0)]);
    });

    it('keeps the periods, cadences and tenants of one user apart', async () => {
      // Prepare
      const entries = [
        entry('a', T0),
        entry('a', T0 + HOUR),
        entry('a', T0, { cadence: 'daily', periodStart: T0 - 24 * HOUR }),
        entry('a', T0, { tenantId: 't2' }),
      ];
      // Act
      await schedule.add(entries);
      // Assess
      const due = await schedule.due(T0 + HOUR, 10);
      expect(due).toHaveLength(4);
      expect(new Set(due.map((e) => JSON.stringify(e)))).toEqual(
        new Set(entries.map((e) => JSON.stringify(e))),
      );
    });

    it('returns at most `limit` entries, and the rest once the first are done', async () => {
      // Prepare
      const entries = Array.from({ length: 7 }, (_, i) => entry(`u${i}`, T0 + i));
      await schedule.add(entries);
      // Act
      const first = await schedule.due(T0 + HOUR, 3);
      await schedule.done(first);
      const rest = await schedule.due(T0 + HOUR, 10);
      // Assess
      expect(first).toEqual(entries.slice(0, 3));
      expect(rest).toEqual(entries.slice(3));
    });

    it('stays pending until done, and done twice is no error', async () => {
      // Prepare
      await schedule.add([entry('a', T0), entry('b', T0)]);
      // Act
      const again = await schedule.due(T0, 10);
      await schedule.done([entry('a', T0)]);
      await schedule.done([entry('a', T0), entry('never', T0)]);
      // Assess
      expect(again).toHaveLength(2);
      expect(await schedule.due(T0, 10)).toEqual([entry('b', T0)]);
    });

    it('takes more than one write batch of entries in one call', async () => {
      // Prepare
      const entries = Array.from({ length: 60 }, (_, i) => entry(`u${String(i).padStart(2, '0')}`, T0));
      // Act
      await schedule.add(entries);
      const due = await schedule.due(T0, 100);
      await schedule.done(due);
      // Assess
      expect(due).toHaveLength(60);
      expect(await schedule.due(T0, 100)).toEqual([]);
    });

    it('refuses malformed entries and queries with ValidationError, storing nothing', async () => {
      // Act / Assess
      await expect(schedule.add([entry('', T0)])).rejects.toBeInstanceOf(ValidationError);
      await expect(
        schedule.add([entry('a', T0), { ...entry('b', T0), cadence: 'weekly' as 'daily' }]),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(schedule.add([entry('a', T0, { periodStart: T0 })])).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(schedule.due(T0, 0)).rejects.toBeInstanceOf(ValidationError);
      await expect(schedule.due(Number.NaN, 10)).rejects.toBeInstanceOf(ValidationError);
      expect(await schedule.due(T0 + HOUR, 10)).toEqual([]);
    });

    it('fails with StoreUnavailableError when the store is gone', async () => {
      // Prepare
      await h.breakStore();
      // Act / Assess
      await expect(schedule.add([entry('a', T0)])).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(schedule.due(T0, 10)).rejects.toBeInstanceOf(StoreUnavailableError);
    });
  });
}

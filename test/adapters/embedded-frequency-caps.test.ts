import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedFrequencyCaps } from '../../src/adapters/embedded/frequency-caps.ts';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { CapAnswer } from '../../src/ports/frequency-caps.ts';
import { type DedupClock, manualClock } from '../contracts/dedup-store.contract.ts';
import { frequencyCapsContract } from '../contracts/frequency-caps.contract.ts';

frequencyCapsContract('embedded (SQLite)', async () => {
  const db = new EmbeddedDb({ path: ':memory:' });
  const clock = manualClock();
  return {
    store: new EmbeddedFrequencyCaps({ db, clock }),
    twin: new EmbeddedFrequencyCaps({ db, clock }),
    clock,
    breakStore: async () => db.close(),
    close: async () => db.close(),
  };
});

describe('EmbeddedFrequencyCaps', () => {
  let db: EmbeddedDb;
  let clock: DedupClock;
  beforeEach(() => {
    db = new EmbeddedDb({ path: ':memory:' });
    clock = manualClock();
  });
  afterEach(() => {
    db.close();
  });

  const ask = (slotId: string, userId: string) => ({
    tenantId: 't1',
    userId,
    slotId,
    buckets: [{ name: 'push', limit: 1, windowMs: 60_000 }],
  });

  it('purges places that left their window in bounded batches, and keeps live ones', async () => {
    // Prepare
    const caps = new EmbeddedFrequencyCaps({ db, clock });
    await caps.take(Array.from({ length: 9 }, (_, i) => ask('old', `u${i}`)));
    await clock.advance(60_000);
    await caps.take([ask('live', 'v1')]);
    // Act
    const purged = await caps.purgeExpired(clock.now(), { batchSize: 4 });
    const again = await caps.purgeExpired(clock.now(), { batchSize: 4 });
    // Assess
    expect(purged).toBe(9);
    expect(again).toBe(0);
    expect(await caps.take([ask('other', 'v1'), ask('new', 'u0')])).toEqual([
      CapAnswer.Capped,
      CapAnswer.Granted,
    ]);
  });

  it('rolls a failed take back as a whole', async () => {
    // Prepare
    const caps = new EmbeddedFrequencyCaps({ db, clock });
    db.sqlite.exec(
      "CREATE TRIGGER no_u2 BEFORE INSERT ON frequency_cap_places WHEN NEW.user_id = 'u2' BEGIN SELECT RAISE(ABORT, 'refused'); END",
    );
    // Act
    const failed = caps.take([ask('s1', 'u1'), ask('s1', 'u2')]);
    // Assess
    await expect(failed).rejects.toBeInstanceOf(StoreUnavailableError);
    db.sqlite.exec('DROP TRIGGER no_u2');
    expect(await caps.take([ask('s2', 'u1')])).toEqual([CapAnswer.Granted]);
  });

  it('fails with StoreUnavailableError when it cannot create its table', () => {
    // Prepare
    db.close();
    // Act / Assess
    expect(() => new EmbeddedFrequencyCaps({ db, clock })).toThrow(StoreUnavailableError);
  });
});

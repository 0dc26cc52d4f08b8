import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEDUP_TTL_MS } from '../../src/adapters/checks/dedup-store.ts';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedDedupStore } from '../../src/adapters/embedded/dedup-store.ts';
import { MemoryDedupStore } from '../../src/adapters/embedded/memory-dedup-store.ts';
import { DedupUnavailableError, StoreUnavailableError, ValidationError } from '../../src/domain/errors.ts';
import { ClaimState } from '../../src/ports/dedup-store.ts';
import { type DedupClock, dedupStoreContract, manualClock } from '../contracts/dedup-store.contract.ts';

const TTL_MS = 60_000;

dedupStoreContract('embedded (SQLite)', async () => {
  const db = new EmbeddedDb({ path: ':memory:' });
  const clock = manualClock();
  return {
    store: new EmbeddedDedupStore({ db, clock, ttlMs: TTL_MS }),
    ttlMs: TTL_MS,
    clock,
    breakStore: async () => db.close(),
    close: async () => db.close(),
  };
});

dedupStoreContract('in-memory', async () => {
  const clock = manualClock();
  const store = new MemoryDedupStore({ clock, ttlMs: TTL_MS });
  return {
    store,
    ttlMs: TTL_MS,
    clock,
    breakStore: async () => store.close(),
    close: async () => store.close(),
  };
});

describe('EmbeddedDedupStore', () => {
  let db: EmbeddedDb;
  let clock: DedupClock;
  beforeEach(() => {
    db = new EmbeddedDb({ path: ':memory:' });
    clock = manualClock();
  });
  afterEach(() => {
    db.close();
  });

  it('keeps 30 days by default', async () => {
    // Prepare
    const store = new EmbeddedDedupStore({ db, clock });
    await store.confirm(['k1']);
    // Act
    await clock.advance(DEDUP_TTL_MS - 1);
    const before = await store.claim([{ key: 'k1', leaseMs: 1_000 }]);
    await clock.advance(1);
    const after = await store.claim([{ key: 'k1', leaseMs: 1_000 }]);
    // Assess
    expect(DEDUP_TTL_MS).toBe(30 * 24 * 60 * 60 * 1000);
    expect(before).toEqual([ClaimState.Done]);
    expect(after).toEqual([ClaimState.Acquired]);
  });

  it('shares claims between two stores on one database, as two consumers do', async () => {
    // Prepare
    const first = new EmbeddedDedupStore({ db, clock });
    const second = new EmbeddedDedupStore({ db, clock });
    // Act
    const [a, b] = await Promise.all([
      first.claim([{ key: 'k1', leaseMs: 1_000 }]),
      second.claim([{ key: 'k1', leaseMs: 1_000 }]),
    ]);
    // Assess
    expect([...a!, ...b!].sort()).toEqual([ClaimState.Acquired, ClaimState.Busy].sort());
  });

  it('purges expired keys in bounded batches and keeps live ones', async () => {
    // Prepare
    const store = new EmbeddedDedupStore({ db, clock, ttlMs: 10_000 });
    const old = Array.from({ length: 25 }, (_, i) => `old-${i}`);
    await store.confirm(old);
    await store.claim([{ key: 'old-pending', leaseMs: 1 }]);
    await clock.advance(10_001);
    await store.confirm(['live']);
    await store.claim([{ key: 'live-pending', leaseMs: 1_000 }]);
    // Act
    const purged = await store.purgeExpired(clock.now(), { batchSize: 4 });
    const again = await store.purgeExpired(clock.now(), { batchSize: 4 });
    // Assess
    expect(purged).toBe(26);
    expect(again).toBe(0);
    expect(await store.claim([{ key: 'live', leaseMs: 1 }])).toEqual([ClaimState.Done]);
    expect(await store.claim([{ key: 'live-pending', leaseMs: 1 }])).toEqual([ClaimState.Busy]);
    expect(await store.claim([{ key: 'old-0', leaseMs: 1 }])).toEqual([ClaimState.Acquired]);
  });

  it('keeps a key confirmed after its lease ran out until its own expiry, then purges it', async () => {
    // Prepare
    const store = new EmbeddedDedupStore({ db, clock, ttlMs: 10_000 });
    await store.claim([{ key: 'late', leaseMs: 1_000 }]);
    await clock.advance(5_000);
    await store.confirm(['late']);
    // Past the expiry its claim gave it (11 s), short of its confirm's (15 s).
    await clock.advance(9_999);
    // Act
    const early = await store.purgeExpired(clock.now());
    const stillDone = await store.peek(['late']);
    await clock.advance(1);
    const onTime = await store.purgeExpired(clock.now());
    // Assess
    expect(early).toBe(0);
    expect(stillDone).toEqual(['done']);
    expect(onTime).toBe(1);
  });

  it('takes a mixed-lease batch key by key, each under its own lease', async () => {
    // Prepare
    const store = new EmbeddedDedupStore({ db, clock });
    // Act
    const states = await store.claim([
      { key: 'short', leaseMs: 100 },
      { key: 'long', leaseMs: 10_000 },
      { key: 'short', leaseMs: 10_000 },
    ]);
    await clock.advance(100);
    const later = await store.claim([
      { key: 'short', leaseMs: 1 },
      { key: 'long', leaseMs: 1 },
    ]);
    // Assess
    expect(states).toEqual([ClaimState.Acquired, ClaimState.Acquired, ClaimState.Busy]);
    expect(later).toEqual([ClaimState.AcquiredStale, ClaimState.Busy]);
  });

  it('adds the purge column to a table from before it, and purges the keys already there', async () => {
    // Prepare
    db.sqlite.exec(`${OLDER_TABLE}
      CREATE INDEX dedup_keys_expiry ON dedup_keys (expires_at);`);
    const now = clock.now();
    db.sqlite.prepare('INSERT INTO dedup_keys VALUES (?, 1, 0, ?)').run('old-done', now + 1_000);
    db.sqlite.prepare('INSERT INTO dedup_keys VALUES (?, 1, 0, ?)').run('old-live', now + 60_000);
    // Act
    const store = new EmbeddedDedupStore({ db, clock });
    await clock.advance(1_000);
    const purged = await store.purgeExpired(clock.now());
    // Assess
    expect(purged).toBe(1);
    expect(await store.peek(['old-done', 'old-live'])).toEqual(['absent', 'done']);
    const indexes = db.sqlite.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'dedup_keys'",
    );
    expect(indexes.all().map((r) => r.name)).toEqual(['dedup_keys_purge']);
  });

  it('gives a purge time to keys an older build wrote after the upgrade, and drops its index', async () => {
    // Prepare: upgraded once, then an older build (no purge_at) wrote a key and its index back.
    new EmbeddedDedupStore({ db, clock });
    const now = clock.now();
    db.sqlite.exec('CREATE INDEX dedup_keys_expiry ON dedup_keys (expires_at)');
    db.sqlite
      .prepare('INSERT INTO dedup_keys (key, done, lease_until, expires_at) VALUES (?, 1, 0, ?)')
      .run('rolled-back', now + 1_000);
    // Act
    const store = new EmbeddedDedupStore({ db, clock });
    await clock.advance(1_000);
    const purged = await store.purgeExpired(clock.now());
    // Assess
    expect(purged).toBe(1);
    expect(await store.peek(['rolled-back'])).toEqual(['absent']);
    const indexes = db.sqlite.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'dedup_keys'",
    );
    expect(indexes.all().map((r) => r.name)).toEqual(['dedup_keys_purge']);
  });

  it('opens an older file twice without adding the purge column twice', async () => {
    // Prepare
    db.sqlite.exec(OLDER_TABLE);
    // Act
    const first = new EmbeddedDedupStore({ db, clock });
    const second = new EmbeddedDedupStore({ db, clock });
    // Assess
    expect(await first.claim([{ key: 'k', leaseMs: 1_000 }])).toEqual([ClaimState.Acquired]);
    expect(await second.claim([{ key: 'k', leaseMs: 1_000 }])).toEqual([ClaimState.Busy]);
  });

  it('fails closed with DedupUnavailableError, never StoreUnavailableError, keeping the cause', async () => {
    // Prepare
    const store = new EmbeddedDedupStore({ db, clock });
    db.close();
    // Act
    const error = await store.claim([{ key: 'k1', leaseMs: 1_000 }]).catch((err: unknown) => err);
    const purge = store.purgeExpired(clock.now());
    // Assess
    expect(error).toBeInstanceOf(DedupUnavailableError);
    expect(error).not.toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).cause).toBeInstanceOf(Error);
    await expect(purge).rejects.toBeInstanceOf(DedupUnavailableError);
  });

  it('fails closed when it cannot even create its table', () => {
    // Prepare
    db.close();
    // Act / Assess
    expect(() => new EmbeddedDedupStore({ db, clock })).toThrow(DedupUnavailableError);
  });

  it('rejects a TTL that is not a whole number of ms from 1', () => {
    // Act / Assess
    for (const ttlMs of [0, -1, 1.5]) {
      expect(() => new EmbeddedDedupStore({ db, clock, ttlMs })).toThrow(ValidationError);
    }
  });

  it('rolls a failed claim back as a whole', async () => {
    // Prepare
    const store = new EmbeddedDedupStore({ db, clock });
    await store.claim([{ key: 'k1', leaseMs: 1_000 }]);
    db.sqlite.exec(
      "CREATE TRIGGER no_k2 BEFORE INSERT ON dedup_keys WHEN NEW.key = 'k2' BEGIN SELECT RAISE(ABORT, 'refused'); END",
    );
    // Act
    const failed = store.claim([
      { key: 'k0', leaseMs: 1_000 },
      { key: 'k2', leaseMs: 1_000 },
    ]);
    // Assess
    await expect(failed).rejects.toBeInstanceOf(DedupUnavailableError);
    db.sqlite.exec('DROP TRIGGER no_k2');
    expect(await store.claim([{ key: 'k0', leaseMs: 1_000 }])).toEqual([ClaimState.Acquired]);
  });
});

describe('MemoryDedupStore', () => {
  it('drops expired keys as later writes come in', async () => {
    // Prepare
    const clock = manualClock();
    const store = new MemoryDedupStore({ clock, ttlMs: 1_000 });
    await store.confirm(Array.from({ length: 10 }, (_, i) => `old-${i}`));
    await clock.advance(1_000);
    // Act
    await store.confirm(['new']);
    // Assess
    expect(store.size).toBe(1);
    expect(await store.claim([{ key: 'old-3', leaseMs: 1 }])).toEqual([ClaimState.Acquired]);
  });

  it('keeps a key whose confirm was refreshed, even when it was written first', async () => {
    // Prepare
    const clock = manualClock();
    const store = new MemoryDedupStore({ clock, ttlMs: 1_000 });
    await store.confirm(['first', 'second']);
    await clock.advance(500);
    await store.confirm(['first']);
    await clock.advance(500);
    // Act
    await store.confirm(['third']);
    // Assess
    expect(store.size).toBe(2);
    expect(await store.claim([{ key: 'first', leaseMs: 1 }])).toEqual([ClaimState.Done]);
  });

  it('fails closed with DedupUnavailableError when its clock throws', async () => {
    // Prepare
    const store = new MemoryDedupStore({
      clock: {
        now: () => {
          throw new Error('clock lost');
        },
      },
    });
    // Act / Assess
    await expect(store.claim([{ key: 'k1', leaseMs: 1 }])).rejects.toBeInstanceOf(DedupUnavailableError);
  });
});

/** The dedup table as builds before its purge column made it. */
const OLDER_TABLE = `
  CREATE TABLE dedup_keys (
    key TEXT NOT NULL PRIMARY KEY, done INTEGER NOT NULL, lease_until INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;`;

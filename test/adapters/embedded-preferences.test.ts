import { describe, expect, it } from 'vitest';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedPreferenceStore } from '../../src/adapters/embedded/preferences.ts';
import { StoreUnavailableError, ValidationError } from '../../src/domain/errors.ts';
import type { Preferences } from '../../src/domain/types.ts';
import { preferenceStoreContract } from '../contracts/preferences.contract.ts';

preferenceStoreContract('embedded', async () => {
  const db = new EmbeddedDb({ path: ':memory:' });
  return {
    store: new EmbeddedPreferenceStore({ db }),
    async close() {
      db.close();
    },
  };
});

function prefs(userId: string): Preferences {
  return {
    tenantId: 'tenant-1',
    userId,
    timezone: 'UTC',
    consent: { push: true },
    channels: {},
    categories: {},
    updatedAt: 1,
  };
}

describe('EmbeddedPreferenceStore', () => {
  it('stamps changes with its clock and gives them fixed-width sequences', async () => {
    // Prepare
    const db = new EmbeddedDb({ path: ':memory:' });
    const store = new EmbeddedPreferenceStore({ db, clock: { now: () => 42_000 } });
    // Act
    await store.put(prefs('alice'));
    const [change] = await store.changes(undefined, 1);
    // Assess
    expect(change!.at).toBe(42_000);
    expect(change!.sequence).toBe('00000000000000000001');
    db.close();
  });

  it('purges changes older than a time and never reuses their positions', async () => {
    // Prepare
    const db = new EmbeddedDb({ path: ':memory:' });
    let now = 1_000;
    const store = new EmbeddedPreferenceStore({ db, clock: { now: () => now } });
    await store.put(prefs('alice'));
    await store.put(prefs('bob'));
    now = 5_000;
    await store.put(prefs('carol'));
    // Act
    const purged = await store.purgeChanges(2_000);
    await store.delete({ tenantId: 'tenant-1', userId: 'carol' });
    // Assess
    expect(purged).toBe(2);
    const changes = await store.changes(undefined, 10);
    expect(changes.map((c) => [c.sequence.slice(-1), c.eventName])).toEqual([
      ['3', 'INSERT'],
      ['4', 'REMOVE'],
    ]);
    await expect(store.purgeChanges(Number.NaN)).rejects.toBeInstanceOf(ValidationError);
    db.close();
  });

  it('keeps its data and feed across reopening the same database', async () => {
    // Prepare
    const db = new EmbeddedDb({ path: ':memory:' });
    await new EmbeddedPreferenceStore({ db }).put(prefs('alice'));
    // Act
    const again = new EmbeddedPreferenceStore({ db });
    await again.put(prefs('bob'));
    // Assess
    expect(await again.get({ tenantId: 'tenant-1', userId: 'alice' })).toEqual(prefs('alice'));
    expect((await again.changes(undefined, 10)).map((c) => c.sequence.slice(-1))).toEqual(['1', '2']);
    db.close();
  });

  it('turns a failing database into StoreUnavailableError', async () => {
    // Prepare
    const db = new EmbeddedDb({ path: ':memory:' });
    const store = new EmbeddedPreferenceStore({ db });
    db.close();
    // Act / Assess
    await expect(store.get({ tenantId: 'tenant-1', userId: 'alice' })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await expect(store.put(prefs('alice'))).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.changes(undefined, 10)).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

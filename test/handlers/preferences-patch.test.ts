import { describe, expect, it } from 'vitest';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedPreferenceStore } from '../../src/adapters/embedded/preferences.ts';
import { ConflictError } from '../../src/domain/errors.ts';
import type { Preferences } from '../../src/domain/types.ts';
import { PATCH_ATTEMPTS, patchPreferences } from '../../src/handlers/preferences-patch.ts';
import type { PreferenceStore } from '../../src/ports/preferences.ts';

const user = { tenantId: 'acme', userId: 'taylor' } as const;
const clock = { now: () => Date.UTC(2026, 0, 15, 12) };

function tenantRecord(updatedAt: number, timezone: string): Preferences {
  return { ...user, timezone, consent: { push: true }, channels: {}, categories: {}, updatedAt };
}

/** A store whose first `count` conditional puts each see a tenant write land just before them. */
function racedBy(store: PreferenceStore, count: number): PreferenceStore & { readonly raced: number } {
  let raced = 0;
  return {
    get raced() {
      return raced;
    },
    get: (u) => store.get(u),
    putMany: (p) => store.putMany(p),
    delete: (u) => store.delete(u),
    changes: (after, limit) => store.changes(after, limit),
    async put(prefs, opts) {
      if (opts?.ifUpdatedAt !== undefined && raced < count) {
        raced++;
        await store.put(tenantRecord(opts.ifUpdatedAt + 1000, `Etc/GMT-${raced}`));
      } else if (opts?.ifAbsent === true && raced < count) {
        raced++;
        await store.put(tenantRecord(1_000, `Etc/GMT-${raced}`));
      }
      return store.put(prefs, opts);
    },
  };
}

describe('patchPreferences', () => {
  it('applies the patch again on top of a tenant write that landed in between, losing neither', async () => {
    // Prepare
    const db = new EmbeddedDb({ path: ':memory:' });
    const store = new EmbeddedPreferenceStore({ db });
    await store.put(tenantRecord(1_000, 'Europe/Paris'));
    const raced = racedBy(store, 1);
    // Act
    const result = await patchPreferences(
      user,
      { channels: { email: false } },
      { preferences: raced, clock },
    );
    const stored = await store.get(user);
    // Assess
    expect(raced.raced).toBe(1);
    expect(stored).toEqual(result);
    expect(stored).toMatchObject({
      timezone: 'Etc/GMT-1',
      channels: { email: false },
      consent: { push: true },
    });
    db.close();
  });

  it("keeps a tenant's first record created between the read of nothing and the write", async () => {
    // Prepare
    const db = new EmbeddedDb({ path: ':memory:' });
    const store = new EmbeddedPreferenceStore({ db });
    const raced = racedBy(store, 1);
    // Act
    await patchPreferences(user, { channels: { push: false } }, { preferences: raced, clock });
    // Assess
    expect(raced.raced).toBe(1);
    expect(await store.get(user)).toMatchObject({
      timezone: 'Etc/GMT-1',
      consent: { push: true },
      channels: { push: false },
    });
    db.close();
  });

  it(`gives up with ConflictError after ${PATCH_ATTEMPTS} lost rounds, leaving the last tenant write`, async () => {
    // Prepare
    const db = new EmbeddedDb({ path: ':memory:' });
    const store = new EmbeddedPreferenceStore({ db });
    await store.put(tenantRecord(1_000, 'Europe/Paris'));
    const raced = racedBy(store, PATCH_ATTEMPTS);
    // Act
    const attempt = patchPreferences(user, { channels: { email: false } }, { preferences: raced, clock });
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ConflictError);
    expect(await store.get(user)).toMatchObject({ timezone: `Etc/GMT-${PATCH_ATTEMPTS}`, channels: {} });
    db.close();
  });

  it('stamps the write later than the record it replaces, even when the clock lags', async () => {
    // Prepare
    const db = new EmbeddedDb({ path: ':memory:' });
    const store = new EmbeddedPreferenceStore({ db });
    const ahead = clock.now() + 60_000;
    await store.put(tenantRecord(ahead, 'Europe/Paris'));
    // Act
    const result = await patchPreferences(user, { timezone: 'Asia/Tokyo' }, { preferences: store, clock });
    // Assess
    expect(result.updatedAt).toBe(ahead + 1);
    db.close();
  });
});

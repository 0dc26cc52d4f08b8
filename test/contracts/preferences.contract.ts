import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, ValidationError } from '../../src/domain/errors.ts';
import type { Preferences, UserKey } from '../../src/domain/types.ts';
import { compareSequence } from '../../src/ports/event-log.ts';
import type { PreferenceChange, PreferenceStore } from '../../src/ports/preferences.ts';

/** What a suite run needs: a fresh, empty store (and change feed) per test. */
export interface PreferenceStoreHarness {
  readonly store: PreferenceStore;
  close(): Promise<void>;
}

const T1 = 'tenant-1';
const T2 = 'tenant-2';

function prefs(tenantId: string, userId: string, extra: Partial<Preferences> = {}): Preferences {
  return {
    tenantId,
    userId,
    timezone: 'Europe/Paris',
    consent: { push: true, email: true },
    channels: { push: true },
    categories: { social: { email: false } },
    quietHours: { start: '22:00', end: '07:00', actions: { social: 'suppress' } },
    updatedAt: 1_700_000_000_000,
    ...extra,
  };
}

function user(tenantId: string, userId: string): UserKey {
  return { tenantId, userId };
}

/** Every change of the feed, read in pages of `pageSize`. */
async function allChanges(store: PreferenceStore, pageSize = 100): Promise<PreferenceChange[]> {
  const changes: PreferenceChange[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await store.changes(after, pageSize);
    if (page.length === 0) return changes;
    changes.push(...page);
    after = page.at(-1)!.sequence;
  }
}

/** The PreferenceStore port's contract: whole-record writes, each mirrored once in the change feed. */
export function preferenceStoreContract(name: string, make: () => Promise<PreferenceStoreHarness>): void {
  describe(`PreferenceStore contract: ${name}`, () => {
    let h: PreferenceStoreHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    it('has no record for a user who never saved preferences', async () => {
      // Act / Assess
      expect(await h.store.get(user(T1, 'nobody'))).toBeUndefined();
    });

    it('returns what was put', async () => {
      // Prepare
      const saved = prefs(T1, 'alice', { email: 'alice@example.com', locale: 'fr-FR' });
      // Act
      await h.store.put(saved);
      // Assess
      expect(await h.store.get(user(T1, 'alice'))).toEqual(saved);
    });

    it('returns what was put when a recent read is enough, once writes have settled', async () => {
      // Prepare
      const saved = prefs(T1, 'alice', { locale: 'fr-FR' });
      await h.store.put(saved);
      // Act / Assess
      expect(await h.store.get(user(T1, 'alice'), { freshness: 'recent' })).toEqual(saved);
      expect(await h.store.get(user(T1, 'nobody'), { freshness: 'recent' })).toBeUndefined();
    });

    it('replaces the whole record on put, dropping fields the new one lacks', async () => {
      // Prepare
      await h.store.put(prefs(T1, 'alice', { email: 'alice@example.com' }));
      const { quietHours: _q, ...withoutQuietHours } = prefs(T1, 'alice', { updatedAt: 1_700_000_001_000 });
      // Act
      await h.store.put(withoutQuietHours);
      // Assess
      expect(await h.store.get(user(T1, 'alice'))).toEqual(withoutQuietHours);
    });

    it('writes a conditional put only over the record it was read from', async () => {
      // Prepare
      const first = prefs(T1, 'alice', { email: 'alice@example.com', updatedAt: 1_000 });
      await h.store.put(first);
      const changesBefore = (await allChanges(h.store)).length;
      // Act
      await h.store.put({ ...first, locale: 'fr', updatedAt: 2_000 }, { ifUpdatedAt: 1_000 });
      const stale = h.store.put({ ...first, locale: 'de', updatedAt: 3_000 }, { ifUpdatedAt: 1_000 });
      await expect(stale).rejects.toBeInstanceOf(ConflictError);
      const absent = h.store.put(prefs(T1, 'nobody', { updatedAt: 3_000 }), { ifUpdatedAt: 1_000 });
      await expect(absent).rejects.toBeInstanceOf(ConflictError);
      // Assess: the stale write and the write over nothing changed nothing and emitted nothing
      expect(await h.store.get(user(T1, 'alice'))).toMatchObject({ locale: 'fr', updatedAt: 2_000 });
      expect(await h.store.get(user(T1, 'nobody'))).toBeUndefined();
      expect((await allChanges(h.store)).length).toBe(changesBefore + 1);
    });

    it('writes an if-absent put only where no record is stored', async () => {
      // Prepare
      const stored = prefs(T1, 'alice', { timezone: 'Asia/Tokyo', updatedAt: 1_000 });
      await h.store.put(stored);
      const changesBefore = (await allChanges(h.store)).length;
      // Act
      const over = h.store.put(prefs(T1, 'alice', { updatedAt: 2_000 }), { ifAbsent: true });
      await expect(over).rejects.toBeInstanceOf(ConflictError);
      await h.store.put(prefs(T1, 'newcomer', { timezone: 'Europe/Paris', updatedAt: 2_000 }), {
        ifAbsent: true,
      });
      // Assess: the record in place was kept; the first write landed, with its one change
      expect(await h.store.get(user(T1, 'alice'))).toMatchObject({
        timezone: 'Asia/Tokyo',
        updatedAt: 1_000,
      });
      expect(await h.store.get(user(T1, 'newcomer'))).toMatchObject({ timezone: 'Europe/Paris' });
      expect((await allChanges(h.store)).length).toBe(changesBefore + 1);
    });

    it('keeps tenants apart for the same user id', async () => {
      // Prepare
      await h.store.put(prefs(T1, 'alice', { timezone: 'Asia/Tokyo' }));
      await h.store.put(prefs(T2, 'alice', { timezone: 'America/New_York' }));
      // Act
      await h.store.delete(user(T2, 'alice'));
      // Assess
      expect((await h.store.get(user(T1, 'alice')))?.timezone).toBe('Asia/Tokyo');
      expect(await h.store.get(user(T2, 'alice'))).toBeUndefined();
    });

    it('emits INSERT, MODIFY and REMOVE with old and new images, oldest first', async () => {
      // Prepare
      const first = prefs(T1, 'alice');
      const second = prefs(T1, 'alice', { timezone: 'UTC', updatedAt: 1_700_000_001_000 });
      // Act
      await h.store.put(first);
      await h.store.put(second);
      await h.store.delete(user(T1, 'alice'));
      // Assess
      const changes = await allChanges(h.store);
      expect(changes.map((c) => c.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
      expect(changes.map((c) => c.user)).toEqual([user(T1, 'alice'), user(T1, 'alice'), user(T1, 'alice')]);
      expect(changes[0]!.oldImage).toBeUndefined();
      expect(changes[0]!.newImage).toEqual(first);
      expect(changes[1]!.oldImage).toEqual(first);
      expect(changes[1]!.newImage).toEqual(second);
      expect(changes[2]!.oldImage).toEqual(second);
      expect(changes[2]!.newImage).toBeUndefined();
      for (const c of changes) expect(typeof c.at).toBe('number');
    });

    it('gives changes increasing sequences and pages through them without gaps or repeats', async () => {
      // Prepare
      for (let i = 0; i < 7; i++) await h.store.put(prefs(T1, `user-${i}`));
      // Act
      const onePage = await h.store.changes(undefined, 100);
      const inPairs = await allChanges(h.store, 2);
      // Assess
      expect(onePage).toHaveLength(7);
      expect(inPairs).toEqual(onePage);
      const sequences = onePage.map((c) => c.sequence);
      expect([...sequences].sort(compareSequence)).toEqual(sequences);
      expect(new Set(sequences).size).toBe(7);
      expect(onePage.map((c) => c.user.userId)).toEqual(Array.from({ length: 7 }, (_, i) => `user-${i}`));
    });

    it('returns nothing after the newest change, then only what came later', async () => {
      // Prepare
      await h.store.put(prefs(T1, 'alice'));
      const [last] = await h.store.changes(undefined, 10);
      // Act
      const none = await h.store.changes(last!.sequence, 10);
      await h.store.put(prefs(T1, 'bob'));
      const later = await h.store.changes(last!.sequence, 10);
      // Assess
      expect(none).toEqual([]);
      expect(later.map((c) => [c.eventName, c.user.userId])).toEqual([['INSERT', 'bob']]);
    });

    it('emits nothing when deleting a user who has no record', async () => {
      // Act
      await h.store.delete(user(T1, 'ghost'));
      // Assess
      expect(await h.store.changes(undefined, 10)).toEqual([]);
    });

    it('writes every record of putMany, one change each', async () => {
      // Prepare
      const batch = [prefs(T1, 'alice'), prefs(T1, 'bob'), prefs(T2, 'alice')];
      // Act
      await h.store.putMany(batch);
      // Assess
      for (const p of batch) expect(await h.store.get(user(p.tenantId, p.userId))).toEqual(p);
      const changes = await allChanges(h.store);
      expect(changes.map((c) => c.eventName)).toEqual(['INSERT', 'INSERT', 'INSERT']);
      expect(changes.map((c) => `${c.user.tenantId}/${c.user.userId}`).sort()).toEqual([
        'tenant-1/alice',
        'tenant-1/bob',
        'tenant-2/alice',
      ]);
    });

    it('rejects a putMany with one invalid record and applies none of it', async () => {
      // Prepare
      const batch = [prefs(T1, 'alice'), prefs(T1, '')];
      // Act
      const result = h.store.putMany(batch);
      // Assess
      await expect(result).rejects.toBeInstanceOf(ValidationError);
      expect(await h.store.get(user(T1, 'alice'))).toBeUndefined();
      expect(await h.store.changes(undefined, 10)).toEqual([]);
    });

    it('rejects records and keys without a tenant or user, and malformed shapes', async () => {
      // Act / Assess
      await expect(h.store.put(prefs('', 'alice'))).rejects.toBeInstanceOf(ValidationError);
      await expect(h.store.get(user(T1, ''))).rejects.toBeInstanceOf(ValidationError);
      await expect(h.store.delete(user('', 'alice'))).rejects.toBeInstanceOf(ValidationError);
      await expect(
        h.store.put({ ...prefs(T1, 'alice'), consent: 'yes' } as unknown as Preferences),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(
        h.store.put({ ...prefs(T1, 'alice'), updatedAt: 'now' } as unknown as Preferences),
      ).rejects.toBeInstanceOf(ValidationError);
      expect(await h.store.changes(undefined, 10)).toEqual([]);
    });

    it('rejects a limit below one and a position it never issued', async () => {
      // Act / Assess
      await expect(h.store.changes(undefined, 0)).rejects.toBeInstanceOf(ValidationError);
      await expect(h.store.changes('not-a-sequence', 10)).rejects.toBeInstanceOf(ValidationError);
    });
  });
}

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.ts';
import type { Preferences, UserKey } from '../../src/domain/types.ts';
import type { PreferenceCache } from '../../src/ports/preferences.ts';

/** What a suite run needs: a fresh, empty cache per test, holding at least a few hundred users. */
export interface PreferenceCacheHarness {
  readonly cache: PreferenceCache;
  close(): Promise<void>;
}

function user(tenantId: string, userId: string): UserKey {
  return { tenantId, userId };
}

function prefs(tenantId: string, userId: string, timezone = 'Europe/Paris'): Preferences {
  return {
    tenantId,
    userId,
    timezone,
    consent: { push: true, email: false },
    channels: { email: false },
    categories: { mention: { push: true } },
    quietHours: { start: '23:00', end: '06:30' },
    updatedAt: 1_700_000_000_000,
  };
}

/** The PreferenceCache port's contract: undefined on a miss, null for a cached "no record". */
export function preferenceCacheContract(name: string, make: () => Promise<PreferenceCacheHarness>): void {
  describe(`PreferenceCache contract: ${name}`, () => {
    let h: PreferenceCacheHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    it('misses with undefined for a user never cached', async () => {
      // Act / Assess
      expect(await h.cache.get(user('tenant-1', 'alice'))).toBeUndefined();
    });

    it('returns what was set', async () => {
      // Prepare
      const saved = prefs('tenant-1', 'alice');
      // Act
      await h.cache.set(user('tenant-1', 'alice'), saved);
      // Assess
      expect(await h.cache.get(user('tenant-1', 'alice'))).toEqual(saved);
    });

    it('caches "no record" as null, distinct from a miss', async () => {
      // Act
      await h.cache.set(user('tenant-1', 'alice'), null);
      // Assess
      expect(await h.cache.get(user('tenant-1', 'alice'))).toBeNull();
      expect(await h.cache.get(user('tenant-1', 'bob'))).toBeUndefined();
    });

    it('replaces a cached value on set', async () => {
      // Prepare
      await h.cache.set(user('tenant-1', 'alice'), null);
      // Act
      await h.cache.set(user('tenant-1', 'alice'), prefs('tenant-1', 'alice', 'UTC'));
      // Assess
      expect((await h.cache.get(user('tenant-1', 'alice')))?.timezone).toBe('UTC');
    });

    it('misses again after invalidation, for exactly the users named', async () => {
      // Prepare
      await h.cache.set(user('tenant-1', 'alice'), prefs('tenant-1', 'alice'));
      await h.cache.set(user('tenant-1', 'bob'), null);
      await h.cache.set(user('tenant-1', 'carol'), prefs('tenant-1', 'carol'));
      // Act
      await h.cache.invalidate([
        user('tenant-1', 'alice'),
        user('tenant-1', 'bob'),
        user('tenant-1', 'nobody'),
      ]);
      // Assess
      expect(await h.cache.get(user('tenant-1', 'alice'))).toBeUndefined();
      expect(await h.cache.get(user('tenant-1', 'bob'))).toBeUndefined();
      expect(await h.cache.get(user('tenant-1', 'carol'))).toEqual(prefs('tenant-1', 'carol'));
    });

    it('keeps the same user id of two tenants apart', async () => {
      // Prepare
      await h.cache.set(user('tenant-1', 'alice'), prefs('tenant-1', 'alice', 'Asia/Tokyo'));
      await h.cache.set(user('tenant-2', 'alice'), null);
      // Act
      await h.cache.invalidate([user('tenant-2', 'alice')]);
      // Assess
      expect((await h.cache.get(user('tenant-1', 'alice')))?.timezone).toBe('Asia/Tokyo');
      expect(await h.cache.get(user('tenant-2', 'alice'))).toBeUndefined();
    });

    it('accepts an empty invalidation', async () => {
      // Prepare
      await h.cache.set(user('tenant-1', 'alice'), null);
      // Act
      await h.cache.invalidate([]);
      // Assess
      expect(await h.cache.get(user('tenant-1', 'alice'))).toBeNull();
    });

    it('rejects keys without a tenant or user', async () => {
      // Act / Assess
      await expect(h.cache.get(user('', 'alice'))).rejects.toBeInstanceOf(ValidationError);
      await expect(h.cache.set(user('tenant-1', ''), null)).rejects.toBeInstanceOf(ValidationError);
      await expect(h.cache.invalidate([user('tenant-1', 'a'), user('', 'b')])).rejects.toBeInstanceOf(
        ValidationError,
      );
    });
  });
}

import { describe, expect, it } from 'vitest';
import { LruPreferenceCache } from '../../src/adapters/embedded/preference-cache.ts';
import { ValidationError } from '../../src/domain/errors.ts';
import type { UserKey } from '../../src/domain/types.ts';
import { preferenceCacheContract } from '../contracts/preference-cache.contract.ts';

preferenceCacheContract('in-process LRU', async () => ({
  cache: new LruPreferenceCache(),
  async close() {},
}));

function user(userId: string): UserKey {
  return { tenantId: 'tenant-1', userId };
}

describe('LruPreferenceCache', () => {
  it('evicts the least recently used user once full', async () => {
    // Prepare
    const cache = new LruPreferenceCache({ maxEntries: 3 });
    await cache.set(user('a'), null);
    await cache.set(user('b'), null);
    await cache.set(user('c'), null);
    await cache.get(user('a'));
    // Act
    await cache.set(user('d'), null);
    // Assess
    expect(cache.size).toBe(3);
    expect(await cache.get(user('b'))).toBeUndefined();
    expect(await cache.get(user('a'))).toBeNull();
    expect(await cache.get(user('c'))).toBeNull();
    expect(await cache.get(user('d'))).toBeNull();
  });

  it('counts a re-set user once, refreshing its place', async () => {
    // Prepare
    const cache = new LruPreferenceCache({ maxEntries: 2 });
    await cache.set(user('a'), null);
    await cache.set(user('b'), null);
    // Act
    await cache.set(user('a'), null);
    await cache.set(user('c'), null);
    // Assess
    expect(cache.size).toBe(2);
    expect(await cache.get(user('b'))).toBeUndefined();
    expect(await cache.get(user('a'))).toBeNull();
  });

  it('rejects a size below one, and undefined as a value', async () => {
    // Act / Assess
    expect(() => new LruPreferenceCache({ maxEntries: 0 })).toThrow(ValidationError);
    await expect(
      new LruPreferenceCache().set(user('a'), undefined as unknown as null),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});

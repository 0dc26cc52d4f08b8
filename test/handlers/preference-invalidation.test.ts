import { describe, expect, it } from 'vitest';
import { LruPreferenceCache } from '../../src/adapters/embedded/preference-cache.ts';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import type { Preferences, UserKey } from '../../src/domain/types.ts';
import { invalidatePreferences } from '../../src/handlers/preference-invalidation.ts';
import type { PreferenceCache } from '../../src/ports/preferences.ts';
import { dynamoStreamEvent } from '../support/events.ts';

function prefs(user: UserKey): Preferences {
  return {
    tenantId: user.tenantId,
    userId: user.userId,
    timezone: 'UTC',
    consent: { push: true },
    channels: {},
    categories: {},
    updatedAt: 1,
  };
}

const users = {
  inserted: { tenantId: 'acme', userId: 'u-insert' },
  modified: { tenantId: 'acme', userId: 'u-modify' },
  removed: { tenantId: 'acme', userId: 'u-remove' },
  expired: { tenantId: 'acme', userId: 'u-ttl' },
  untouched: { tenantId: 'acme', userId: 'u-untouched' },
  otherTenant: { tenantId: 'globex', userId: 'u-insert' },
} as const satisfies Record<string, UserKey>;

/** A cache holding every user above, one of them as a cached "no record". */
async function warmCache(): Promise<LruPreferenceCache> {
  const cache = new LruPreferenceCache({});
  for (const user of Object.values(users)) await cache.set(user, prefs(user));
  await cache.set(users.removed, null);
  return cache;
}

/** Wraps a cache so `invalidate` fails as a store that does not answer. */
function failingInvalidate(cache: PreferenceCache): PreferenceCache & { calls: number } {
  const wrapper = {
    calls: 0,
    get: (user: UserKey) => cache.get(user),
    set: (user: UserKey, p: Preferences | null) => cache.set(user, p),
    async invalidate(): Promise<void> {
      wrapper.calls++;
      throw new StoreUnavailableError('cache did not answer');
    },
  };
  return wrapper;
}

const pk = (user: UserKey) => `${user.tenantId}#${user.userId}`;

describe('invalidatePreferences', () => {
  it('drops the cached preferences of users inserted, modified, removed or deleted by TTL', async () => {
    // Prepare
    const cache = await warmCache();
    const event = dynamoStreamEvent([
      { pk: pk(users.inserted), eventName: 'INSERT', sequenceNumber: '100' },
      { pk: pk(users.modified), eventName: 'MODIFY', sequenceNumber: '101' },
      { pk: pk(users.removed), eventName: 'REMOVE', sequenceNumber: '102' },
      // DynamoDB Local names TTL deletions in ways the Streams types do not list.
      { pk: pk(users.expired), eventName: 'TTL_DELETE', sequenceNumber: '103' },
    ]);
    // Act
    const result = await invalidatePreferences(event, { cache });
    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(await cache.get(users.inserted)).toBeUndefined();
    expect(await cache.get(users.modified)).toBeUndefined();
    expect(await cache.get(users.removed)).toBeUndefined();
    expect(await cache.get(users.expired)).toBeUndefined();
    expect(await cache.get(users.untouched)).toEqual(prefs(users.untouched));
    expect(await cache.get(users.otherTenant)).toEqual(prefs(users.otherTenant));
  });

  it('reports a record without a usable key as a batch item failure and still invalidates the rest', async () => {
    // Prepare
    const cache = await warmCache();
    const event = dynamoStreamEvent([
      { pk: pk(users.modified), sequenceNumber: '200' },
      { sequenceNumber: '201' },
      { pk: 'no-separator', sequenceNumber: '202' },
      { pk: 'acme#two#hashes', sequenceNumber: '203' },
      { pk: '#nobody', sequenceNumber: '204' },
    ]);
    // Act
    const result = await invalidatePreferences(event, { cache });
    // Assess
    expect(result.batchItemFailures).toEqual([
      { itemIdentifier: '201' },
      { itemIdentifier: '202' },
      { itemIdentifier: '203' },
      { itemIdentifier: '204' },
    ]);
    expect(await cache.get(users.modified)).toBeUndefined();
    expect(await cache.get(users.untouched)).toEqual(prefs(users.untouched));
  });

  it('reports every record of the batch when the cache fails, so all are retried', async () => {
    // Prepare
    const cache = failingInvalidate(await warmCache());
    const event = dynamoStreamEvent([
      { pk: pk(users.inserted), eventName: 'INSERT', sequenceNumber: '300' },
      { pk: pk(users.modified), eventName: 'MODIFY', sequenceNumber: '301' },
      { sequenceNumber: '302' },
    ]);
    // Act
    const result = await invalidatePreferences(event, { cache });
    // Assess
    expect(cache.calls).toBe(1);
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['300', '301', '302']);
  });

  it('does nothing for an empty batch', async () => {
    // Prepare
    const cache = failingInvalidate(await warmCache());
    // Act
    const result = await invalidatePreferences({ Records: [] }, { cache });
    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(cache.calls).toBe(0);
  });
});

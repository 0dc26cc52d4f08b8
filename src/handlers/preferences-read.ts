import type { Preferences, UserKey } from '../domain/types.ts';
import { errorName } from '../lib/error-name.ts';
import type { Logger } from '../ports/logger.ts';
import type { DeliveryDeps } from './channel-driver.ts';

/**
 * A user's preferences as a delivery consumer reads them: from the cache; on a miss from the
 * store, then cached (null: "has none"). The cache only saves reads: when it is down, the store
 * answers.
 */
export async function readPreferences(
  deps: Pick<DeliveryDeps, 'preferences' | 'preferenceCache'>,
  logger: Logger,
  user: UserKey,
): Promise<Preferences | undefined> {
  const cache = deps.preferenceCache;
  const key = { tenantId: user.tenantId, userId: user.userId };
  let cached: Preferences | null | undefined;
  try {
    cached = await cache.get(key);
  } catch (err) {
    logger.debug('preference cache read failed', { error: errorName(err) });
  }
  if (cached !== undefined) return cached ?? undefined;
  // `recent` (half the price on DynamoDB): a write of the last second missed here is the race the
  // cache accepts already, a fill that read just before a write landing after its invalidation,
  // and it is bounded the same way, by the cache's TTL.
  const prefs = await deps.preferences.get(key, { freshness: 'recent' });
  try {
    await cache.set(key, prefs ?? null);
  } catch (err) {
    logger.debug('preference cache write failed', { error: errorName(err) });
  }
  return prefs;
}

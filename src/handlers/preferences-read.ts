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
  // The latest, not `recent`: this read fills a cache that lives minutes. A fill after a save's
  // invalidation that read the record of a second before would put a withdrawn consent back for
  // the cache's whole TTL; a fresh read costs half a unit more per miss, not per delivery.
  const prefs = await deps.preferences.get(key);
  try {
    await cache.set(key, prefs ?? null);
  } catch (err) {
    logger.debug('preference cache write failed', { error: errorName(err) });
  }
  return prefs;
}

import type {
  DynamoDBBatchItemFailure,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
} from 'aws-lambda';
import type { UserKey } from '../domain/types.ts';
import { errorName } from '../lib/error-name.ts';
import { type Logger, silentLogger } from '../ports/logger.ts';
import type { PreferenceCache } from '../ports/preferences.ts';

/** What preference invalidation needs. */
export interface InvalidationDeps {
  readonly cache: PreferenceCache;
  readonly logger?: Logger;
}

/**
 * Drops cached preferences of every user whose preference record changed (DynamoDB Streams →
 * EventBridge Pipe → this handler). Only the keys matter, so every record with keys invalidates,
 * whatever its event name: INSERT, MODIFY, REMOVE, and the names emulators give TTL deletions.
 * A record without a usable `pk` (`tenant#user`) is reported as a batch item failure. One
 * invalidate call covers the batch; if it fails, every record is reported for retry
 * (invalidation is idempotent).
 */
export async function invalidatePreferences(
  event: DynamoDBStreamEvent,
  deps: InvalidationDeps,
): Promise<DynamoDBBatchResponse> {
  const logger = deps.logger ?? silentLogger;
  const users: UserKey[] = [];
  const invalid: DynamoDBBatchItemFailure[] = [];
  const valid: DynamoDBBatchItemFailure[] = [];
  for (const record of event.Records) {
    const itemIdentifier = record.dynamodb?.SequenceNumber ?? record.eventID ?? '';
    const user = userOf(record);
    if (user === undefined) {
      logger.error('preference stream record without a usable key', {
        itemIdentifier,
        eventName: record.eventName,
      });
      invalid.push({ itemIdentifier });
    } else {
      users.push(user);
      valid.push({ itemIdentifier });
    }
  }
  if (users.length > 0) {
    try {
      await deps.cache.invalidate(users);
    } catch (err) {
      logger.warn('preference cache invalidation failed', { users: users.length, error: errorName(err) });
      return { batchItemFailures: [...valid, ...invalid] };
    }
  }
  return { batchItemFailures: invalid };
}

/** `pk` = `tenant#user`; ids never contain `#`, so the first one splits them. */
function userOf(record: DynamoDBRecord): UserKey | undefined {
  const pk = record.dynamodb?.Keys?.pk?.S;
  if (typeof pk !== 'string') return undefined;
  const at = pk.indexOf('#');
  if (at <= 0 || at === pk.length - 1 || pk.indexOf('#', at + 1) !== -1) return undefined;
  return { tenantId: pk.slice(0, at), userId: pk.slice(at + 1) };
}

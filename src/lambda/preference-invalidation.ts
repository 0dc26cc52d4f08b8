import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { invalidatePreferences } from '../handlers/preference-invalidation.ts';
import { FunctionKind } from './env.ts';
import { defaultDeps, type LambdaDeps, lambdaRuntime, MetricName } from './powertools.ts';

/**
 * What reaches this function: an EventBridge Pipe with a DynamoDB Streams source delivers the
 * batch as a bare JSON array of stream records; a Lambda event-source mapping (the alternative
 * wiring) delivers `{Records}`. Both are accepted.
 */
export type PreferenceStreamInput = DynamoDBStreamEvent | readonly DynamoDBRecord[];

/** A record failed and carries no id its source could retry it by. */
class UnidentifiableRecordError extends Error {
  constructor() {
    super('a failed stream record has no eventID / SequenceNumber to report');
    this.name = 'UnidentifiableRecordError';
  }
}

/** One record's invalidation failed (the handler logged why); the batch processor records it. */
class RecordInvalidationError extends Error {
  constructor() {
    super('preference invalidation failed for this record');
    this.name = 'RecordInvalidationError';
  }
}

/**
 * Preference-cache invalidation: preferences table stream → EventBridge Pipe → this function →
 * ElastiCache. Every record with a key drops that user's cached preferences, whatever its event
 * name: INSERT, MODIFY, REMOVE, and REMOVEs by DynamoDB's TTL (userIdentity
 * `dynamodb.amazonaws.com`), which must not leave stale preferences in the cache either.
 *
 * Records are processed one by one by the Powertools BatchProcessor (in parallel: invalidations
 * are idempotent and commute, so order does not matter), each through the same handler the local
 * runtime uses. Failed records are reported by the id their source retries by: a Pipe matches
 * `itemIdentifier` against the record's `eventID` (EventBridge Pipes, "Partial batch failure");
 * a Lambda event-source mapping against `dynamodb.SequenceNumber`.
 */
export function createPreferenceInvalidationHandler(
  deps: LambdaDeps,
): (event: PreferenceStreamInput, context: Context) => Promise<DynamoDBBatchResponse> {
  const runtime = lambdaRuntime(deps);
  return runtime.wrap(async (event, context) => {
    const fromPipe = Array.isArray(event);
    const records = recordsOf(event);
    const ports = await runtime.ports();
    const invalidate = async (record: DynamoDBRecord): Promise<void> => {
      const { batchItemFailures } = await invalidatePreferences(
        { Records: [record] },
        { cache: ports.preferenceCache, logger: runtime.logger },
      );
      if (batchItemFailures.length > 0) throw new RecordInvalidationError();
    };
    const processor = new BatchProcessor(EventType.DynamoDBStreams, { logger: deps.logger });
    // A batch that failed whole is reported record by record rather than thrown: the Pipe then
    // retries the same records, with no function error to page anyone for a cache blip.
    await processPartialResponse({ Records: [...records] }, invalidate, processor, {
      context,
      throwOnFullBatchFailure: false,
    });
    const batchItemFailures = (processor.failureMessages as DynamoDBRecord[]).map((record) => {
      const itemIdentifier = fromPipe ? record.eventID : record.dynamodb?.SequenceNumber;
      // Dropping it would acknowledge a failed record; throwing retries the whole batch instead.
      if (itemIdentifier === undefined || itemIdentifier === '') throw new UnidentifiableRecordError();
      return { itemIdentifier };
    });
    runtime.counters.add(MetricName.PreferencesInvalidated, processor.successMessages.length);
    runtime.counters.add(MetricName.BatchItemFailures, batchItemFailures.length);
    return { batchItemFailures };
  });
}

function recordsOf(event: PreferenceStreamInput): readonly DynamoDBRecord[] {
  if (Array.isArray(event)) return event;
  const records = (event as Partial<DynamoDBStreamEvent>).Records;
  if (!Array.isArray(records)) {
    throw new TypeError('expected a DynamoDB Streams batch: an array of records (Pipe) or {Records}');
  }
  return records;
}

/** The entry point the CDK app points at (`preference-invalidation.handler`). */
export const handler = createPreferenceInvalidationHandler(defaultDeps(FunctionKind.PreferenceInvalidation));

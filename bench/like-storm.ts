import type { KinesisStreamEvent } from 'aws-lambda';
import { encodeEvent } from '../src/domain/event.ts';
import { authorPartition } from '../src/domain/keys.ts';
import type { AuthorEvent, UserKey } from '../src/domain/types.ts';
import { toKinesisRecord } from '../src/runtime/kinesis-poller.ts';

/** The tenant of the aggregation benchmark's storms. */
export const STORM_TENANT = 'bench';
/** The post's owner: every like names them as recipient. */
export const STORM_OWNER: UserKey = { tenantId: STORM_TENANT, userId: 'owner' };
/** When the storm's first like happened. */
export const STORM_AT = Date.UTC(2026, 0, 1);

/**
 * One post's like storm as Kinesis batches, and how many events it holds: `distinct` likers,
 * an exact re-send of 1 % of the events and a repeat like by the same liker for 0.5 %, mixed in.
 */
export function stormBatches(
  distinct: number,
  batchSize: number,
): { events: KinesisStreamEvent[]; count: number } {
  const like = (id: string, liker: number, ms: number): AuthorEvent => ({
    tenantId: STORM_TENANT,
    id,
    type: 'like',
    actorId: `liker-${liker}`,
    objectId: 'post-1',
    recipients: [STORM_OWNER.userId],
    occurredAt: STORM_AT + ms,
    acceptedAt: STORM_AT + ms,
  });
  const events: AuthorEvent[] = [];
  for (let i = 0; i < distinct; i++) {
    events.push(like(`like-${i}`, i, i));
    if (i % 100 === 99) events.push(like(`like-${i - 50}`, i - 50, i - 50));
    if (i % 200 === 199) events.push(like(`again-${i}`, i - 100, i));
  }
  const batches: KinesisStreamEvent[] = [];
  let sequence = 0;
  for (let i = 0; i < events.length; i += batchSize) {
    batches.push({
      Records: events.slice(i, i + batchSize).map((event) =>
        toKinesisRecord(
          'shardId-000000000000',
          {
            sequenceNumber: String(++sequence).padStart(20, '0'),
            partitionKey: authorPartition(event.tenantId, event.actorId),
            data: encodeEvent(event),
            arrivedAt: event.acceptedAt,
          },
          'arn:aws:kinesis:local:000000000000:stream/fanout-events',
        ),
      ),
    });
  }
  return { events: batches, count: events.length };
}

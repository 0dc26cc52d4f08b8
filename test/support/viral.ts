import type { KinesisStreamEvent } from 'aws-lambda';
import type { AuthorEvent } from '../../src/domain/types.ts';
import { kinesisEvent } from './events.ts';

/** One post's like storm: distinct likers, exact re-sends of some events, repeat likes by some likers. */
export interface LikeStorm {
  readonly distinct: number;
  readonly resends: number;
  readonly repeats: number;
}

/** The storm's events as Kinesis batches of `batchSize` records, re-sends and repeats mixed in. */
export function likeStormBatches(
  storm: LikeStorm,
  opts: { tenantId: string; owner: string; postId: string; at: number; batchSize: number },
): KinesisStreamEvent[] {
  const like = (id: string, actor: number, ms: number): AuthorEvent => ({
    tenantId: opts.tenantId,
    id,
    type: 'like',
    actorId: `liker-${actor}`,
    objectId: opts.postId,
    recipients: [opts.owner],
    occurredAt: opts.at + ms,
    acceptedAt: opts.at + ms,
  });
  const events: AuthorEvent[] = [];
  for (let i = 0; i < storm.distinct; i++) events.push(like(`like-${i}`, i, i));
  // Exact re-sends: the same events again (a producer retry, a replayed batch), spread over the storm.
  const step = Math.max(1, Math.floor(storm.distinct / Math.max(1, storm.resends)));
  for (let r = 0; r < storm.resends; r++) {
    const i = (r * step) % storm.distinct;
    events.splice(Math.min(events.length, i + r + 50), 0, like(`like-${i}`, i, i));
  }
  // Repeat likes: the same likers again, through new events.
  for (let r = 0; r < storm.repeats; r++) {
    const i = (r * 7) % storm.distinct;
    events.push(like(`again-${r}`, i, storm.distinct + r));
  }
  const batches: KinesisStreamEvent[] = [];
  for (let i = 0; i < events.length; i += opts.batchSize) {
    batches.push(kinesisEvent(events.slice(i, i + opts.batchSize).map((event) => ({ event }))));
  }
  return batches;
}

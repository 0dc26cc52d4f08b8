import type { KinesisStreamEvent } from 'aws-lambda';
import { EmbeddedCelebrityFeed } from '../src/adapters/embedded/celebrity-feed.ts';
import { EmbeddedDb } from '../src/adapters/embedded/db.ts';
import { EmbeddedDeliveryQueue } from '../src/adapters/embedded/delivery-queue.ts';
import { EmbeddedFollowerGraph } from '../src/adapters/embedded/follower-graph.ts';
import { EmbeddedInbox } from '../src/adapters/embedded/inbox.ts';
import { minUlidAt } from '../src/domain/ids.ts';
import { DEFAULT_TIER_POLICY } from '../src/domain/tier.ts';
import { type FanoutDeps, fanOut } from '../src/handlers/fanout.ts';
import type { Inbox } from '../src/ports/inbox.ts';
import { awsDigestStorm } from './aggregate-aws.ts';
import { digestStorm } from './aggregate-push.ts';
import { STORM_AT, STORM_OWNER, stormBatches } from './like-storm.ts';
import type { BenchReport } from './support.ts';
import { withTempDir } from './support.ts';

/** Sizes of one aggregation benchmark run. */
export interface AggregateBenchOptions {
  /** Distinct likers of the post on the embedded profile. @default 100_000 */
  readonly likes?: number;
  /**
   * Distinct likers through the aws adapters, push side included (DynamoDB Local handles some
   * 100 likes a second: the acceptance size, 100,000, takes 10 to 30 minutes). @default 2_000
   */
  readonly awsLikes?: number;
  /** Kinesis records per fan-out batch (the event source's batch size). @default 100 */
  readonly batchSize?: number;
  /** The Redis of the aws run's dedup store (digest slots). @default 'redis://127.0.0.1:6379' */
  readonly redisUrl?: string;
}

/** Kinesis records per fan-out batch of the aws run: DynamoDB Local is slow per call, not per item. */
const AWS_BATCH = 500;
/** The clock per aws batch: 500 likes in 10 s, the embedded storm's 50 likes a second. */
const AWS_MS_PER_BATCH = 10_000;

/**
 * One post's like storm through `fanOut`: `likes` distinct likers, 1 % of the events re-sent
 * exactly and 0.5 % repeat likes by the same likers, in Kinesis batches. On the embedded profile
 * (a WAL file, every embedded adapter, one push job per like): likes aggregated per second, then the
 * push side with digests. Through the aws adapters on DynamoDB Local and Redis, push side included:
 * the owner's item and pushes, write units per like, likes per second. Every run reports the
 * owner's item count and its actor count beside their goals (one item, exactly the likers).
 */
export async function aggregateBench(opts: AggregateBenchOptions = {}): Promise<BenchReport> {
  const likes = opts.likes ?? 100_000;
  const awsLikes = opts.awsLikes ?? 2_000;
  const batchSize = opts.batchSize ?? 100;

  const embedded = await withTempDir('aggregate', async (dir) => {
    const db = new EmbeddedDb({ path: `${dir}/aggregate.db` });
    try {
      const deps: FanoutDeps = {
        graph: new EmbeddedFollowerGraph({ db }),
        inbox: new EmbeddedInbox({ db }),
        feed: new EmbeddedCelebrityFeed({ db }),
        queues: {
          push: new EmbeddedDeliveryQueue({ db, channel: 'push', clock: { now: () => STORM_AT } }),
          email: new EmbeddedDeliveryQueue({ db, channel: 'email', clock: { now: () => STORM_AT } }),
        },
        tierPolicy: DEFAULT_TIER_POLICY,
        clock: { now: () => STORM_AT + 3_600_000 },
      };
      const batches = stormBatches(likes, batchSize);
      const started = performance.now();
      for (const batch of batches.events) await fanOutAll(batch, deps);
      const seconds = (performance.now() - started) / 1000;
      await expectOneItem(deps.inbox, likes);
      return { seconds, events: batches.count };
    } finally {
      db.close();
    }
  });

  // The push side: the same storm with the push consumer, 2 s of clock per batch (some 34 minutes).
  const digests = await withTempDir('aggregate-digest', (dir) =>
    digestStorm({
      dir,
      owner: STORM_OWNER,
      batches: stormBatches(likes, batchSize).events,
      start: STORM_AT,
      msPerBatch: 2000,
    }),
  );

  const aws = await awsDigestStorm({
    likes: awsLikes,
    batchSize: AWS_BATCH,
    msPerBatch: AWS_MS_PER_BATCH,
    redisUrl: opts.redisUrl ?? 'redis://127.0.0.1:6379',
  });

  return {
    name: 'aggregate',
    figures: {
      likesAggregatedPerSec: embedded.events / embedded.seconds,
      ownerItems: digests.items,
      ownerActorCount: digests.actorCount,
      ownerUnread: digests.unread,
      ownerPushes: digests.pushes,
      ownerPushWindows: digests.windows,
      ownerPushesMaxPerWindow: digests.maxPerWindow,
      ownerPushCollapseIds: digests.collapseIds,
      pushJobsDigestedPerSec: digests.jobs / digests.seconds,
      awsOwnerItems: aws.items,
      awsOwnerActorCount: aws.actorCount,
      awsOwnerUnread: aws.unread,
      awsOwnerPushes: aws.pushes,
      awsOwnerPushWindows: aws.windows,
      awsOwnerPushesMaxPerWindow: aws.maxPerWindow,
      awsOwnerPushCollapseIds: aws.collapseIds,
      awsLikesPerSec: aws.events / aws.seconds,
      awsWriteUnitsPerLike: aws.wcu / aws.events,
      awsInboxWriteUnitsPerLike: aws.inboxWcu / aws.events,
    },
    settings: {
      likes,
      embeddedEvents: embedded.events,
      batchSize,
      awsLikes,
      awsEvents: aws.events,
      awsBatchSize: AWS_BATCH,
      awsClockMsPerBatch: AWS_MS_PER_BATCH,
      awsPushQueue: 'embedded, on the storm clock (the SQS emulator runs delays in real time)',
      unreadMode: 'counter',
    },
    goals: [
      { figure: 'likesAggregatedPerSec', op: '>=', value: 20_000 },
      ...exactlyOne('owner', likes),
      { figure: 'ownerPushesMaxPerWindow', op: '<=', value: 1 },
      { figure: 'ownerPushCollapseIds', op: '==', value: 1 },
      ...exactlyOne('awsOwner', awsLikes),
      { figure: 'awsOwnerPushesMaxPerWindow', op: '<=', value: 1 },
      { figure: 'awsOwnerPushCollapseIds', op: '==', value: 1 },
      { figure: 'awsWriteUnitsPerLike', op: '<=', value: 2 },
    ],
    notes: [
      'events = distinct likes + 1 % exact re-sends + 0.5 % repeat likes; the embedded fan-out run fails unless it ends with ONE item counting exactly the distinct likers',
      'owner*: the embedded storm again with the push consumer and digests (5-minute windows), the clock moving 2 s per batch of 100: the owner items, actors and unread count, the pushes the owner got, the windows spanned, the most in one window, distinct collapse ids; pushJobsDigestedPerSec counts fan-out and push consumer together',
      'awsOwner*: the same through the aws adapters on DynamoDB Local and Redis (inbox, follower graph, celebrity feed, devices, preferences, dedup store), push consumer included, the clock moving 10 s per batch of 500; awsLikesPerSec counts fan-out and push consumer together',
      'awsWriteUnitsPerLike counts the inbox and celebrity-feed tables (the follower graph stores nothing for a liker: no tier for an undecided regular author); awsInboxWriteUnitsPerLike the inbox alone',
    ],
  };
}

/** Goals of one unread item counting exactly `likes` actors. */
function exactlyOne(prefix: string, likes: number): BenchReport['goals'] {
  return [
    { figure: `${prefix}Items`, op: '==', value: 1 },
    { figure: `${prefix}ActorCount`, op: '==', value: likes },
    { figure: `${prefix}Unread`, op: '==', value: 1 },
  ];
}

async function fanOutAll(batch: KinesisStreamEvent, deps: FanoutDeps): Promise<void> {
  const response = await fanOut(batch, deps);
  if (response.batchItemFailures.length > 0) throw new Error('a fan-out batch failed');
}

async function expectOneItem(inbox: Inbox, distinct: number): Promise<void> {
  const items = await inbox.page(STORM_OWNER, { limit: 10, afterId: minUlidAt(0) });
  if (items.length !== 1 || items[0]!.group?.actorCount !== distinct) {
    throw new Error(
      `expected one item of ${distinct} actors, found ${items.length} (${items[0]?.group?.actorCount})`,
    );
  }
}

import type { KinesisStreamEvent } from 'aws-lambda';
import { DynamoCelebrityFeed } from '../src/adapters/aws/celebrity-feed.ts';
import { createTables } from '../src/adapters/aws/create-tables.ts';
import { DynamoFollowerGraph } from '../src/adapters/aws/follower-graph.ts';
import { DynamoInbox } from '../src/adapters/aws/inbox.ts';
import { tableNames } from '../src/adapters/aws/tables.ts';
import { EmbeddedCelebrityFeed } from '../src/adapters/embedded/celebrity-feed.ts';
import { EmbeddedDb } from '../src/adapters/embedded/db.ts';
import { EmbeddedDeliveryQueue } from '../src/adapters/embedded/delivery-queue.ts';
import { EmbeddedFollowerGraph } from '../src/adapters/embedded/follower-graph.ts';
import { EmbeddedInbox } from '../src/adapters/embedded/inbox.ts';
import { encodeEvent } from '../src/domain/event.ts';
import { minUlidAt } from '../src/domain/ids.ts';
import { authorPartition } from '../src/domain/keys.ts';
import { DEFAULT_TIER_POLICY } from '../src/domain/tier.ts';
import type { AuthorEvent, DeliveryJob, UserKey } from '../src/domain/types.ts';
import { type FanoutDeps, fanOut } from '../src/handlers/fanout.ts';
import type { DeliveryQueue } from '../src/ports/delivery-queue.ts';
import type { Inbox } from '../src/ports/inbox.ts';
import { createAwsClients } from '../src/runtime/aws-clients.ts';
import { toKinesisRecord } from '../src/runtime/kinesis-poller.ts';
import { freePort, startDynamoDbLocal } from '../src/runtime/local-aws/emulators.ts';
import { digestStorm } from './aggregate-push.ts';
import type { BenchReport } from './support.ts';
import { withTempDir } from './support.ts';

/** Sizes of one aggregation benchmark run. */
export interface AggregateBenchOptions {
  /** Distinct likers of the post on the embedded profile. @default 100_000 */
  readonly likes?: number;
  /** Distinct likers through the aws adapters (DynamoDB Local is slow). @default 2_000 */
  readonly awsLikes?: number;
  /** Kinesis records per fan-out batch (the event source's batch size). @default 100 */
  readonly batchSize?: number;
}

const TENANT = 'bench';
const OWNER: UserKey = { tenantId: TENANT, userId: 'owner' };
const AT = Date.UTC(2026, 0, 1);

/**
 * One post's like storm through `fanOut`: `likes` distinct likers, 1 % of the events re-sent
 * exactly and 0.5 % repeat likes by the same likers, in Kinesis batches. On the embedded profile
 * (a WAL file, every embedded adapter, one push job per like): likes aggregated per second. Through
 * the aws adapters on DynamoDB Local: write units per like, all tables, and the inbox table's own.
 * Both check that the owner ends with one item counting exactly the distinct likers.
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
          push: new EmbeddedDeliveryQueue({ db, channel: 'push', clock: { now: () => AT } }),
          email: new EmbeddedDeliveryQueue({ db, channel: 'email', clock: { now: () => AT } }),
        },
        tierPolicy: DEFAULT_TIER_POLICY,
        clock: { now: () => AT + 3_600_000 },
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
      owner: OWNER,
      batches: stormBatches(likes, batchSize).events,
      start: AT,
      msPerBatch: 2000,
    }),
  );

  const dynamo = await startDynamoDbLocal(await freePort());
  const clients = createAwsClients({
    region: 'us-east-1',
    endpoints: { dynamodb: dynamo.endpoint },
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  let aws: { wcu: number; inboxWcu: number; events: number; seconds: number };
  try {
    const names = tableNames(`bench-aggregate-${Date.now()}`);
    await createTables(clients.dynamodb, names, ['inbox', 'followers', 'celebrityFeed']);
    const used = { all: 0, inbox: 0 };
    const capacity = {
      add(table: string, wcu: number) {
        used.all += wcu;
        if (table === names.inbox) used.inbox += wcu;
      },
    };
    const { documents } = clients;
    // Jobs are dropped: SQS costs are the aws-cost benchmark's; this one measures the inbox.
    const counting = { sendBatch: async (_jobs: readonly DeliveryJob[]) => {} } as unknown as DeliveryQueue;
    const deps: FanoutDeps = {
      graph: new DynamoFollowerGraph({ documents, tableName: names.followers }),
      inbox: new DynamoInbox({ documents, tableName: names.inbox, unread: 'counter', capacity }),
      feed: new DynamoCelebrityFeed({ documents, tableName: names.celebrityFeed, capacity }),
      queues: { push: counting, email: counting },
      tierPolicy: DEFAULT_TIER_POLICY,
      clock: { now: () => AT + 3_600_000 },
    };
    const batches = stormBatches(awsLikes, Math.max(batchSize, 500));
    const started = performance.now();
    for (const batch of batches.events) await fanOutAll(batch, deps);
    const seconds = (performance.now() - started) / 1000;
    await expectOneItem(deps.inbox, awsLikes);
    aws = { wcu: used.all, inboxWcu: used.inbox, events: batches.count, seconds };
  } finally {
    clients.destroy();
    await dynamo.stop();
  }

  return {
    name: 'aggregate',
    figures: {
      likesAggregatedPerSec: embedded.events / embedded.seconds,
      awsWriteUnitsPerLike: aws.wcu / aws.events,
      awsInboxWriteUnitsPerLike: aws.inboxWcu / aws.events,
      awsLikesPerSec: aws.events / aws.seconds,
      ownerPushes: digests.pushes,
      ownerPushWindows: digests.windows,
      ownerPushesMaxPerWindow: digests.maxPerWindow,
      ownerPushCollapseIds: digests.collapseIds,
      pushJobsDigestedPerSec: digests.jobs / digests.seconds,
    },
    settings: {
      likes,
      embeddedEvents: embedded.events,
      awsLikes,
      awsEvents: aws.events,
      batchSize,
      awsBatchSize: Math.max(batchSize, 500),
      unreadMode: 'counter',
    },
    goals: [
      { figure: 'likesAggregatedPerSec', op: '>=', value: 20_000 },
      { figure: 'awsWriteUnitsPerLike', op: '<=', value: 2 },
      { figure: 'ownerPushesMaxPerWindow', op: '<=', value: 1 },
      { figure: 'ownerPushCollapseIds', op: '<=', value: 1 },
    ],
    notes: [
      'events = distinct likes + 1 % exact re-sends + 0.5 % repeat likes; every run ends with ONE item counting exactly the distinct likers',
      'ownerPushes*: the storm again with the push consumer and digests (5-minute windows), the clock moving 2 s per batch: pushes the owner got, the windows spanned, the most in one window, distinct collapse ids; pushJobsDigestedPerSec counts fan-out and push consumer together',
      'awsWriteUnitsPerLike counts the inbox and celebrity-feed tables (the follower graph stores nothing for a liker: no tier for an undecided regular author); awsInboxWriteUnitsPerLike the inbox alone',
    ],
  };
}

/** The storm as Kinesis batches, and how many events it holds. */
function stormBatches(distinct: number, batchSize: number): { events: KinesisStreamEvent[]; count: number } {
  const like = (id: string, liker: number, ms: number): AuthorEvent => ({
    tenantId: TENANT,
    id,
    type: 'like',
    actorId: `liker-${liker}`,
    objectId: 'post-1',
    recipients: [OWNER.userId],
    occurredAt: AT + ms,
    acceptedAt: AT + ms,
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

async function fanOutAll(batch: KinesisStreamEvent, deps: FanoutDeps): Promise<void> {
  const response = await fanOut(batch, deps);
  if (response.batchItemFailures.length > 0) throw new Error('a fan-out batch failed');
}

async function expectOneItem(inbox: Inbox, distinct: number): Promise<void> {
  const items = await inbox.page(OWNER, { limit: 10, afterId: minUlidAt(0) });
  if (items.length !== 1 || items[0]!.group?.actorCount !== distinct) {
    throw new Error(
      `expected one item of ${distinct} actors, found ${items.length} (${items[0]?.group?.actorCount})`,
    );
  }
}

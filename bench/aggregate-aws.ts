import type { Redis } from 'ioredis';
import { DynamoCelebrityFeed } from '../src/adapters/aws/celebrity-feed.ts';
import { createTables } from '../src/adapters/aws/create-tables.ts';
import { RedisDedupStore, redisReady } from '../src/adapters/aws/dedup-store.ts';
import { DynamoDevices } from '../src/adapters/aws/devices.ts';
import { DynamoFollowerGraph } from '../src/adapters/aws/follower-graph.ts';
import { DynamoInbox } from '../src/adapters/aws/inbox.ts';
import { DynamoPreferenceStore } from '../src/adapters/aws/preferences.ts';
import { tableNames } from '../src/adapters/aws/tables.ts';
import { createAwsClients, createRedis } from '../src/runtime/aws-clients.ts';
import { freePort, startDynamoDbLocal } from '../src/runtime/local-aws/emulators.ts';
import { type DigestFigures, digestStorm } from './aggregate-push.ts';
import { STORM_AT, STORM_OWNER, stormBatches } from './like-storm.ts';
import { withTempDir } from './support.ts';

/** The aws storm's figures: the owner's inbox and pushes, and the write units it took. */
export interface AwsStormFigures extends DigestFigures {
  /** Storm events: distinct likes, re-sends and repeats. */
  readonly events: number;
  /** Write units of every metered table (inbox and celebrity feed). */
  readonly wcu: number;
  /** Write units of the inbox table alone. */
  readonly inboxWcu: number;
}

/**
 * The like storm through the aws adapters, push side included: fan-out into the DynamoDB inbox,
 * follower graph and celebrity feed on a DynamoDB Local of its own, then the push consumer with
 * digests on DynamoDB devices and preferences, the DynamoDB inbox for the group reads, and a Redis
 * dedup store for the digest slots. The push queue is the embedded one on the storm's clock: the
 * SQS emulator runs delays on real time, and a flush waits up to a digest window.
 */
export async function awsDigestStorm(opts: {
  readonly likes: number;
  readonly batchSize: number;
  readonly msPerBatch: number;
  readonly redisUrl: string;
  /** A running DynamoDB Local to use. @default one started for the run, and stopped after */
  readonly dynamodbEndpoint?: string;
}): Promise<AwsStormFigures> {
  const dynamo =
    opts.dynamodbEndpoint === undefined
      ? await startDynamoDbLocal(await freePort())
      : { endpoint: opts.dynamodbEndpoint, stop: async () => {} };
  const clients = createAwsClients({
    region: 'us-east-1',
    endpoints: { dynamodb: dynamo.endpoint },
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const redis = createRedis({ url: opts.redisUrl });
  const keyPrefix = `bench-aggregate-${Date.now()}`;
  try {
    await redisReady(redis, 10_000);
    const names = tableNames(keyPrefix);
    await createTables(clients.dynamodb, names, [
      'inbox',
      'followers',
      'celebrityFeed',
      'devices',
      'preferences',
    ]);
    const used = { all: 0, inbox: 0 };
    const capacity = {
      add(table: string, wcu: number) {
        used.all += wcu;
        if (table === names.inbox) used.inbox += wcu;
      },
    };
    const { documents } = clients;
    const batches = stormBatches(opts.likes, opts.batchSize);
    const figures = await withTempDir('aggregate-aws', (dir) =>
      digestStorm({
        dir,
        owner: STORM_OWNER,
        batches: batches.events,
        start: STORM_AT,
        msPerBatch: opts.msPerBatch,
        roundEvery: 1,
        adapters: (clock) => ({
          graph: new DynamoFollowerGraph({ documents, tableName: names.followers }),
          inbox: new DynamoInbox({ documents, tableName: names.inbox, unread: 'counter', capacity, clock }),
          feed: new DynamoCelebrityFeed({ documents, tableName: names.celebrityFeed, capacity }),
          devices: new DynamoDevices({ documents, tableName: names.devices }),
          preferences: new DynamoPreferenceStore({
            documents,
            tableName: names.preferences,
            streams: clients.dynamodbStreams,
            dynamodb: clients.dynamodb,
            clock,
          }),
          // Six hours outlive the storm's clock and its real time; the keys are removed after.
          dedup: new RedisDedupStore({ redis, clock, keyPrefix, ttlMs: 6 * 3_600_000 }),
        }),
      }),
    );
    return { ...figures, events: batches.count, wcu: used.all, inboxWcu: used.inbox };
  } finally {
    await removeKeys(redis, keyPrefix).catch(() => {});
    await redis.quit().catch(() => redis.disconnect());
    clients.destroy();
    await dynamo.stop();
  }
}

/** The run's dedup keys, so a shared Redis keeps nothing of the benchmark. */
async function removeKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

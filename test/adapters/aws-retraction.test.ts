import { CreateStreamCommand, DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoCelebrityFeed } from '../../src/adapters/aws/celebrity-feed.ts';
import { KinesisEventLog } from '../../src/adapters/aws/event-log.ts';
import { DynamoFollowerGraph } from '../../src/adapters/aws/follower-graph.ts';
import { DynamoInbox, type UnreadMode } from '../../src/adapters/aws/inbox.ts';
import { decodeEvent } from '../../src/domain/event.ts';
import { minUlidAt } from '../../src/domain/ids.ts';
import { DEFAULT_TIER_POLICY } from '../../src/domain/tier.ts';
import type { DeliveryJob, UserKey } from '../../src/domain/types.ts';
import { catchUp } from '../../src/handlers/catch-up.ts';
import { deleteEvent } from '../../src/handlers/delete-event.ts';
import { type FanoutDeps, fanOut } from '../../src/handlers/fanout.ts';
import { consumePush } from '../../src/handlers/push-consumer.ts';
import type { DeliveryQueue } from '../../src/ports/delivery-queue.ts';
import type { EventLog } from '../../src/ports/event-log.ts';
import { emulatorClients, freshTables, uniqueName } from '../support/aws.ts';
import { kinesisEvent, sqsEvent } from '../support/events.ts';
import { auditRecords, closeWorlds, consenting, registerDevices, world } from '../support/world.ts';

const clients = emulatorClients();
afterAll(() => {
  closeWorlds();
  clients.destroy();
});

const NOW = Date.now();
const NONE_EXPIRED = minUlidAt(0);
const T = 'acme';
const user = (userId: string): UserKey => ({ tenantId: T, userId });

/** A new stream on kinesalite, ACTIVE before it is used. */
async function freshStream(shards: number): Promise<string> {
  const name = uniqueName('events');
  await clients.kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  for (let i = 0; i < 200; i++) {
    const out = await clients.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return name;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`stream ${name} did not become ACTIVE`);
}

/** Delivery jobs kept in memory, for a consumer to be handed later. */
function keptQueue(): DeliveryQueue & { jobs: DeliveryJob[] } {
  const queue = {
    jobs: [] as DeliveryJob[],
    async sendBatch(jobs: readonly DeliveryJob[]) {
      queue.jobs.push(...jobs);
    },
  };
  return queue as unknown as DeliveryQueue & { jobs: DeliveryJob[] };
}

/** Fans out every record of the log after `from` (per shard), as the event-source mapping does. */
async function fanOutLog(log: EventLog, deps: FanoutDeps, from: Map<string, string>): Promise<void> {
  for (const shard of await log.listShards()) {
    const records = await log.read(shard, from.get(shard), 1000);
    if (records.length === 0) continue;
    const batch = kinesisEvent(
      records.map((r) => ({ event: decodeEvent(r.data), sequenceNumber: r.sequenceNumber })),
      shard,
    );
    expect((await fanOut(batch, deps)).batchItemFailures).toEqual([]);
    from.set(shard, records.at(-1)!.sequenceNumber);
  }
}

describe.each(['gsi', 'counter'] as UnreadMode[])(
  'retraction through the aws adapters (unread %s)',
  (unread) => {
    it('deletes a regular and a celebrity event everywhere, and their queued jobs are audited retracted', async () => {
      // Prepare: Kinesis + DynamoDB; ana is regular (2 followers), star a celebrity (3)
      const [streamName, names] = await Promise.all([
        freshStream(2),
        freshTables(clients, ['events', 'inbox', 'celebrityFeed', 'followers']),
      ]);
      const { documents } = clients;
      const log = new KinesisEventLog({
        kinesis: clients.kinesis,
        streamName,
        documents,
        eventsTable: names.events,
      });
      const inbox = new DynamoInbox({ documents, tableName: names.inbox, unread, clock: { now: () => NOW } });
      const feed = new DynamoCelebrityFeed({ documents, tableName: names.celebrityFeed });
      const graph = new DynamoFollowerGraph({ documents, tableName: names.followers });
      const push = keptQueue();
      const deps: FanoutDeps = {
        graph,
        inbox,
        feed,
        queues: { push, email: keptQueue() },
        tierPolicy: { ...DEFAULT_TIER_POLICY, threshold: 3 },
        clock: { now: () => NOW },
      };
      await graph.follow([
        ...['f1', 'f2'].map((followerId) => ({ tenantId: T, authorId: 'ana', followerId })),
        ...['f1', 'f2', 'f3'].map((followerId) => ({ tenantId: T, authorId: 'star', followerId })),
      ]);
      const event = (id: string, actorId: string, ms: number) => ({
        tenantId: T,
        id,
        type: 'mention',
        actorId,
        objectId: 'post-1',
        recipients: ['owner'],
        occurredAt: NOW - ms,
        acceptedAt: NOW - ms,
      });
      await log.append([event('a1', 'ana', 3000), event('a2', 'ana', 2000), event('s1', 'star', 1000)]);
      const fannedOut = new Map<string, string>();
      await fanOutLog(log, deps, fannedOut);
      const w = world({ now: NOW });
      await catchUp(user('f1'), { inbox, feed, graph, clock: { now: () => NOW } });
      const eventsOf = async (userId: string) =>
        (await inbox.page(user(userId), { limit: 10, afterId: NONE_EXPIRED })).map((r) => r.eventId);
      expect(await eventsOf('f1')).toEqual(['s1', 'a2', 'a1']);
      expect(await inbox.unreadCount(user('f1'), NONE_EXPIRED)).toBe(3);
      // Act: delete a1 and s1 through the Event API's handler, twice, and an unknown id
      for (const id of ['a1', 's1', 'a1']) await deleteEvent(T, id, { log, clock: { now: () => NOW } });
      await expect(deleteEvent(T, 'never', { log, clock: { now: () => NOW } })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      await expect(deleteEvent('globex', 'a1', { log, clock: { now: () => NOW } })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      await fanOutLog(log, deps, fannedOut);
      await catchUp(user('f2'), { inbox, feed, graph, clock: { now: () => NOW } });
      // Assess: rows, copied pointer and pointer are gone; counts exact
      for (const userId of ['f1', 'f2', 'owner']) expect(await eventsOf(userId)).toEqual(['a2']);
      expect(await inbox.unreadCount(user('f1'), NONE_EXPIRED)).toBe(1);
      expect(await inbox.unreadCount(user('owner'), NONE_EXPIRED)).toBe(1);
      expect(await feed.page(user('star'), { limit: 5, afterId: NONE_EXPIRED })).toEqual([]);
      // The jobs fan-out queued for a1 and s1 are not sent, checked against the DynamoDB tombstones
      await w.preferences.put(consenting(user('owner')));
      await registerDevices(w, [user('owner')]);
      const ownerJobs = push.jobs.filter((j) => j.userId === 'owner');
      const response = await consumePush(sqsEvent(ownerJobs), w.pushDeps({ retractions: inbox }));
      expect(response.batchItemFailures).toEqual([]);
      const outcomes = (await auditRecords(w)).map((r) => `${r.eventId}:${r.outcome}`).sort();
      expect(outcomes).toEqual(['a1:not_shown', 'a1:retracted', 'a2:sent', 's1:not_shown', 's1:retracted']);
    }, 120_000);
  },
);

import type { KinesisStreamEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedCheckpoints } from '../../src/adapters/embedded/checkpoints.ts';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedEventLog } from '../../src/adapters/embedded/event-log.ts';
import type { AuthorEvent } from '../../src/domain/types.ts';
import { sleep } from '../../src/lib/sleep.ts';
import type { Checkpoints, LogRecord } from '../../src/ports/event-log.ts';
import { KinesisPoller, type KinesisPollerOptions } from '../../src/runtime/kinesis-poller.ts';

const T = Date.UTC(2026, 0, 1);
const open: EmbeddedDb[] = [];
const pollers: KinesisPoller[] = [];
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
  for (const db of open.splice(0)) db.close();
});

function event(actorId: string, n: number): AuthorEvent {
  return {
    tenantId: 't1',
    id: `${actorId}-${n}`,
    type: 'post',
    actorId,
    occurredAt: T + n,
    acceptedAt: T + n,
  };
}

function ids(event: KinesisStreamEvent): string[] {
  return event.Records.map((r) => JSON.parse(Buffer.from(r.kinesis.data, 'base64').toString()).id as string);
}

async function world(shards = 1) {
  const db = new EmbeddedDb({ path: ':memory:' });
  open.push(db);
  return { db, log: new EmbeddedEventLog({ db, shards }), checkpoints: new EmbeddedCheckpoints({ db }) };
}

function poller(opts: KinesisPollerOptions): KinesisPoller {
  const p = new KinesisPoller({ idleMs: 1, retryBaseMs: 1, ...opts });
  pollers.push(p);
  return p;
}

/** Waits, by polling, until `done()` holds; the test's own timeout bounds it. */
async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await done())) await sleep(2);
}

describe('KinesisPoller (the local event-source mapping)', () => {
  it('hands each shard its records in order, in batches, and checkpoints after success', async () => {
    // Prepare
    const w = await world(4);
    const events = Array.from({ length: 30 }, (_, n) => event(`author-${n % 5}`, n));
    await w.log.append(events);
    const seen: string[][] = [];
    const p = poller({
      ...w,
      consumer: 'fanout',
      batchSize: 4,
      handler: async (e) => void seen.push(ids(e)),
    });
    // Act
    await p.start();
    await until(() => p.isCaughtUp());
    // Assess: every event once, no batch above 4, each author's events in acceptance order
    const all = seen.flat();
    expect(all.toSorted()).toEqual(events.map((e) => e.id).toSorted());
    expect(Math.max(...seen.map((b) => b.length))).toBeLessThanOrEqual(4);
    for (let a = 0; a < 5; a++) {
      const mine = all.filter((id) => id.startsWith(`author-${a}-`)).map((id) => Number(id.split('-')[2]));
      expect(mine).toEqual(mine.toSorted((x, y) => x - y));
    }
    for (const shard of await w.log.listShards()) {
      expect(await w.checkpoints.get('fanout', shard)).toBe(await w.log.latestSequence(shard));
    }
  });

  it('retries from the first failed record of a partial batch failure, never re-running those before it', async () => {
    // Prepare
    const w = await world();
    await w.log.append([0, 1, 2, 3, 4].map((n) => event('a', n)));
    const calls: string[][] = [];
    let failOnce = true;
    const p = poller({
      ...w,
      consumer: 'fanout',
      handler: async (e) => {
        calls.push(ids(e));
        if (!failOnce) return { batchItemFailures: [] };
        failOnce = false;
        return { batchItemFailures: [{ itemIdentifier: e.Records[2]!.kinesis.sequenceNumber }] };
      },
    });
    // Act
    await p.start();
    await until(() => p.isCaughtUp());
    // Assess
    expect(calls).toEqual([
      ['a-0', 'a-1', 'a-2', 'a-3', 'a-4'],
      ['a-2', 'a-3', 'a-4'],
    ]);
  });

  it('bisects a batch that throws until the bad record is alone, and hands it to the on-failure destination', async () => {
    // Prepare
    const w = await world();
    await w.log.append([0, 1, 2, 3, 4, 5, 6, 7].map((n) => event('a', n)));
    const handled = new Set<string>();
    const failed: LogRecord[] = [];
    const p = poller({
      ...w,
      consumer: 'fanout',
      maxRetries: 2,
      handler: async (e) => {
        const batch = ids(e);
        if (batch.includes('a-5')) throw new Error('poison');
        for (const id of batch) handled.add(id);
        return { batchItemFailures: [] };
      },
      onFailure: async (_shard, records) => void failed.push(...records),
    });
    // Act
    await p.start();
    await until(() => p.isCaughtUp());
    // Assess: everything but the poison record was handled; the poison record went to the destination
    expect([...handled].toSorted()).toEqual(['a-0', 'a-1', 'a-2', 'a-3', 'a-4', 'a-6', 'a-7']);
    expect(failed.map((r) => JSON.parse(Buffer.from(r.data).toString()).id)).toEqual(['a-5']);
  });

  it('never skips a failing record when there is no on-failure destination', async () => {
    // Prepare
    const w = await world();
    await w.log.append([event('a', 0), event('a', 1)]);
    let attempts = 0;
    const p = poller({
      ...w,
      consumer: 'fanout',
      maxRetries: 1,
      handler: async (e) => {
        if (ids(e)[0] === 'a-0') {
          attempts++;
          return { batchItemFailures: [{ itemIdentifier: e.Records[0]!.kinesis.sequenceNumber }] };
        }
        return { batchItemFailures: [] };
      },
    });
    // Act: far more attempts than maxRetries
    await p.start();
    await until(() => attempts >= 6);
    await p.stop();
    // Assess: the checkpoint never moved past the failing record
    const [shard] = await w.log.listShards();
    expect(await w.checkpoints.get('fanout', shard!)).toBeUndefined();
  });

  it('keeps polling when a checkpoint write fails, and re-processing after a restart is all it costs', async () => {
    // Prepare
    const w = await world();
    await w.log.append([event('a', 0), event('a', 1)]);
    const broken: Checkpoints = {
      get: (c, s) => w.checkpoints.get(c, s),
      set: async () => {
        throw new Error('disk full');
      },
    };
    const seen: string[] = [];
    const p = poller({
      log: w.log,
      checkpoints: broken,
      consumer: 'fanout',
      handler: async (e) => void seen.push(...ids(e)),
    });
    // Act
    await p.start();
    await until(() => seen.length >= 2);
    await w.log.append([event('a', 2)]);
    await until(() => seen.length >= 3);
    // Assess: the loop survived both failed checkpoints and read on
    expect(seen).toEqual(['a-0', 'a-1', 'a-2']);
  });
});

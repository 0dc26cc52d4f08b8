import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedDeliveryQueue } from '../../src/adapters/embedded/delivery-queue.ts';
import { sleep } from '../../src/lib/sleep.ts';
import type { DeliveryQueue } from '../../src/ports/delivery-queue.ts';
import { SqsPoller } from '../../src/runtime/sqs-poller.ts';

const open: EmbeddedDb[] = [];
const pollers: SqsPoller[] = [];
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
  for (const db of open.splice(0)) db.close();
});

function queue(): EmbeddedDeliveryQueue {
  const db = new EmbeddedDb({ path: ':memory:' });
  open.push(db);
  return new EmbeddedDeliveryQueue({ db, channel: 'push' });
}

async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await done())) await sleep(2);
}

describe('SqsPoller (the local SQS event-source mapping)', () => {
  it('survives a failed delete and a failed visibility change, and keeps consuming', async () => {
    // Prepare: a queue whose first delete and first visibility change fail
    const real = queue();
    let deleteFailures = 1;
    let visibilityFailures = 1;
    const flaky: DeliveryQueue = {
      channel: real.channel,
      sendBatch: (jobs, opts) => real.sendBatch(jobs, opts),
      sendRaw: (bodies, attributes) => real.sendRaw(bodies, attributes),
      receive: (opts) => real.receive(opts),
      depth: () => real.depth(),
      listDeadLetters: (limit) => real.listDeadLetters(limit),
      redriveDeadLetters: () => real.redriveDeadLetters(),
      deleteBatch: async (handles) => {
        if (deleteFailures-- > 0) throw new Error('disk I/O error');
        return real.deleteBatch(handles);
      },
      changeVisibility: async (handle, ms) => {
        if (visibilityFailures-- > 0) throw new Error('disk I/O error');
        return real.changeVisibility(handle, ms);
      },
    };
    const seen: string[] = [];
    const poller = new SqsPoller({
      queue: flaky,
      concurrency: 1,
      batchSize: 1,
      idleMs: 1,
      retryBaseMs: 1,
      visibilityTimeoutMs: 20,
      handler: async (event) => {
        const record = event.Records[0]!;
        seen.push(record.body);
        // 'fail-once' fails its first receive only
        const fail = record.body === 'fail-once' && seen.filter((b) => b === 'fail-once').length === 1;
        return { batchItemFailures: fail ? [{ itemIdentifier: record.messageId }] : [] };
      },
    });
    pollers.push(poller);
    await real.sendRaw(['first', 'fail-once', 'last']);
    // Act
    poller.start();
    await until(
      async () => (await real.depth()).visible + (await real.depth()).inFlight === 0 && seen.includes('last'),
    );
    // Assess: the worker lived through both failures; 'first' came back once because its delete failed
    expect(seen.filter((b) => b === 'first')).toHaveLength(2);
    expect(seen.filter((b) => b === 'fail-once')).toHaveLength(2);
    expect(seen).toContain('last');
  });

  it('is idle only after an empty receive asked for at or after the time it is given', async () => {
    // Prepare: an empty queue, received from continuously
    const poller = new SqsPoller({
      queue: queue(),
      idleMs: 1,
      handler: async () => ({ batchItemFailures: [] }),
    });
    pollers.push(poller);
    poller.start();
    await until(() => poller.isIdle());
    // Act: asked about a moment just passed (a later receive reaches it), then one no receive reached
    const from = performance.now();
    await until(() => poller.isIdle({ receivedSince: from }));
    const ahead = await poller.isIdle({ receivedSince: performance.now() + 60_000 });
    // Assess
    expect(ahead).toBe(false);
  });
});

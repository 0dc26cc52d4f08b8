import { rmSync } from 'node:fs';
import type { SQSEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedCheckpoints } from '../../src/adapters/embedded/checkpoints.ts';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedDeliveryQueue } from '../../src/adapters/embedded/delivery-queue.ts';
import { EmbeddedEventLog } from '../../src/adapters/embedded/event-log.ts';
import { runDemo } from '../../src/cli/demo/run.ts';
import type { DemoSummary } from '../../src/cli/demo/summary.ts';
import type { Reporter } from '../../src/cli/progress.ts';
import type { AuthorEvent } from '../../src/domain/types.ts';
import { sleep } from '../../src/lib/sleep.ts';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
import { openEmbeddedPorts } from '../../src/runtime/embedded.ts';
import { KinesisPoller } from '../../src/runtime/kinesis-poller.ts';
import { SqsPoller } from '../../src/runtime/sqs-poller.ts';
import { durableTotals, PINNED_AT, tempDir } from '../cli/run-fanout.ts';
import { TINY } from '../support/scenarios.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const AT = Date.parse(PINNED_AT);

function configFor(dir: string) {
  return readRuntimeConfig({
    FANOUT_DATA_DIR: dir,
    FANOUT_CELEBRITY_THRESHOLD: '1000',
    FANOUT_LOG_LEVEL: 'silent',
  });
}

/** A reporter that shows nothing and calls `onPhase` at each phase. */
function quietReporter(onPhase: (name: string) => void = () => {}): Reporter {
  return { live: false, phase: onPhase, bar: () => ({ update() {}, end() {} }) };
}

async function demoToEnd(dir: string): Promise<DemoSummary> {
  const run = await runDemo({
    config: configFor(dir),
    scenario: TINY,
    at: AT,
    reporter: quietReporter(),
    signal: new AbortController().signal,
  });
  await run.pipeline.stop();
  await run.backend.close();
  return run.summary;
}

function memoryQueue() {
  const db = new EmbeddedDb({ path: ':memory:' });
  return { db, queue: new EmbeddedDeliveryQueue({ db, channel: 'push' }) };
}

/** Waits until nothing is visible or in flight any more. */
async function untilEmpty(queue: EmbeddedDeliveryQueue): Promise<void> {
  for (;;) {
    const d = await queue.depth();
    if (d.visible === 0 && d.inFlight === 0) return;
    await sleep(5);
  }
}

describe('Pipeline', () => {
  it('loses nothing when stopped gracefully mid-run and started again on the same data dir', async () => {
    // Prepare
    const stopped = tempDir('pipeline-stopped');
    const reference = tempDir('pipeline-reference');
    dirs.push(stopped, reference);
    const controller = new AbortController();
    // Act: stop as soon as delivery has started (what SIGINT does), then run again to the end
    const interrupted = runDemo({
      config: configFor(stopped),
      scenario: TINY,
      at: AT,
      reporter: quietReporter((phase) => {
        if (phase === 'delivery') controller.abort('SIGINT');
      }),
      signal: controller.signal,
    });
    await expect(interrupted).rejects.toBe('SIGINT');
    const afterStop = await openEmbeddedPorts({ config: configFor(stopped) });
    const inFlight =
      (await afterStop.queues.push.depth()).inFlight + (await afterStop.queues.email.depth()).inFlight;
    await afterStop.close();
    const resumed = await demoToEnd(stopped);
    const uninterrupted = await demoToEnd(reference);
    // Assess
    expect(inFlight).toBe(0);
    expect(durableTotals({ ...resumed })).toEqual(durableTotals({ ...uninterrupted }));
    expect(resumed.push.sent).toBeGreaterThan(0);
    // A graceful stop leaves no unknown outcome behind: nothing is re-sent, nothing duplicated.
    expect(resumed.ambiguousResends).toBe(0);
    expect(resumed.transportDuplicates).toBe(0);
    expect(resumed.push.duplicate).toBe(0);
  });

  it('runs every handler call through aroundHandler, named by function with its batch size', async () => {
    // Prepare
    const dir = tempDir('pipeline-around');
    dirs.push(dir);
    const calls: { fn: string; records: number }[] = [];
    // Act
    const run = await runDemo({
      config: configFor(dir),
      scenario: TINY,
      at: AT,
      reporter: quietReporter(),
      signal: new AbortController().signal,
      aroundHandler: (fn, records, call) => {
        calls.push({ fn, records });
        return call();
      },
    });
    await run.pipeline.stop();
    await run.backend.close();
    // Assess: every push job went through a wrapped push call, every event through fan-out
    const records = (fn: string) => calls.filter((c) => c.fn === fn).reduce((n, c) => n + c.records, 0);
    expect(records('fanout')).toBeGreaterThanOrEqual(run.summary.events);
    expect(records('push')).toBeGreaterThanOrEqual(run.summary.push.jobs);
    expect(records('email')).toBeGreaterThanOrEqual(run.summary.email.jobs);
    expect(calls.every((c) => c.records > 0)).toBe(true);
  });

  it('takes no more than the burst plus the rate times the elapsed time, counted on its own clock', async () => {
    // Prepare
    const { db, queue } = memoryQueue();
    await queue.sendRaw(Array.from({ length: 40 }, (_, i) => `m${i}`));
    const now = () => performance.now();
    const handled: { at: number; total: number }[] = [];
    let total = 0;
    const start = now();
    const poller = new SqsPoller({
      queue,
      batchSize: 5,
      concurrency: 2,
      maxPerSecond: 40,
      now,
      handler: async (event: SQSEvent) => {
        total += event.Records.length;
        handled.push({ at: now(), total });
        return { batchItemFailures: [] };
      },
    });
    // Act
    poller.start();
    await untilEmpty(queue);
    await poller.stop();
    db.close();
    // Assess: burst 5 (the batch size), then 40 per second
    expect(total).toBe(40);
    for (const { at, total: soFar } of handled) {
      expect(soFar).toBeLessThanOrEqual(5 + (40 * (at - start)) / 1000 + 1e-6);
    }
  });

  it('retries only the records a batch reported as failed', async () => {
    // Prepare
    const { db, queue } = memoryQueue();
    await queue.sendRaw(Array.from({ length: 10 }, (_, i) => `m${i}`));
    const failOnce = new Set(['m2', 'm5', 'm7']);
    const seen = new Map<string, number>();
    const poller = new SqsPoller({
      queue,
      batchSize: 10,
      concurrency: 1,
      retryBaseMs: 1,
      handler: async (event: SQSEvent) => {
        const batchItemFailures: { itemIdentifier: string }[] = [];
        for (const record of event.Records) {
          seen.set(record.body, (seen.get(record.body) ?? 0) + 1);
          if (failOnce.delete(record.body)) batchItemFailures.push({ itemIdentifier: record.messageId });
        }
        return { batchItemFailures };
      },
    });
    // Act
    poller.start();
    while (seen.size < 10 || (seen.get('m2') ?? 0) < 2 || (await queue.depth()).inFlight > 0) await sleep(5);
    await untilEmpty(queue);
    await poller.stop();
    db.close();
    // Assess
    const twice = [...seen].filter(([, n]) => n === 2).map(([body]) => body);
    expect(twice.sort()).toEqual(['m2', 'm5', 'm7']);
    expect([...seen.values()].every((n) => n <= 2)).toBe(true);
  });

  it('resumes a fan-out batch from the first failed record, never re-running the ones before it', async () => {
    // Prepare
    const db = new EmbeddedDb({ path: ':memory:' });
    const log = new EmbeddedEventLog({ db, shards: 1 });
    const checkpoints = new EmbeddedCheckpoints({ db });
    const events: AuthorEvent[] = Array.from({ length: 6 }, (_, i) => ({
      tenantId: 't1',
      id: `e${i}`,
      type: 'post',
      actorId: 'a1',
      occurredAt: 1_700_000_000_000 + i,
      acceptedAt: 1_700_000_000_000 + i,
    }));
    await log.append(events);
    const calls = new Map<string, number>();
    let failed = false;
    const poller = new KinesisPoller({
      log,
      checkpoints,
      consumer: 'test',
      retryBaseMs: 1,
      idleMs: 1,
      handler: async (event) => {
        for (const [i, record] of event.Records.entries()) {
          const id = (JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString()) as { id: string }).id;
          if (id === 'e3' && !failed) {
            failed = true;
            return { batchItemFailures: [{ itemIdentifier: event.Records[i]!.kinesis.sequenceNumber }] };
          }
          calls.set(id, (calls.get(id) ?? 0) + 1);
        }
        return { batchItemFailures: [] };
      },
    });
    // Act
    await poller.start();
    while (!(await poller.isCaughtUp())) await sleep(5);
    await poller.stop();
    db.close();
    // Assess: every record handled exactly once, e3 after its one failure
    expect(failed).toBe(true);
    expect(Object.fromEntries(calls)).toEqual({ e0: 1, e1: 1, e2: 1, e3: 1, e4: 1, e5: 1 });
  });
});

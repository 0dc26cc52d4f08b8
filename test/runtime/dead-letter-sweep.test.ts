import { afterEach, describe, expect, it } from 'vitest';
import { readAuditLog } from '../../src/adapters/embedded/audit-log.ts';
import type { AuditRecord } from '../../src/domain/audit-types.ts';
import { StoreUnavailableError, TransportRetryableError } from '../../src/domain/errors.ts';
import { notificationId } from '../../src/domain/ids.ts';
import { type DeliveryJob, Outcome } from '../../src/domain/types.ts';
import { UNSEEN_DEAD_LETTER_REASON } from '../../src/handlers/dead-letter-audit.ts';
import { consumePush } from '../../src/handlers/push-consumer.ts';
import { sleep } from '../../src/lib/sleep.ts';
import type { AuditSink } from '../../src/ports/audit-sink.ts';
import type { DeadLetter, DeliveryQueue, ListDeadLettersOptions } from '../../src/ports/delivery-queue.ts';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
import { DEAD_LETTER_MAX_AGE_MS, DeadLetterSweep } from '../../src/runtime/dead-letter-sweep.ts';
import { openEmbeddedPorts } from '../../src/runtime/embedded.ts';
import { Pipeline } from '../../src/runtime/pipeline.ts';
import {
  auditRecords,
  closeWorlds,
  consenting,
  consumeRound,
  testClock,
  type World,
  world,
} from '../support/world.ts';

const NOW = Date.UTC(2026, 4, 1, 12);
/** The consumers' visibility timeout in these tests. */
const VISIBILITY_MS = 180_000;

function job(n: number, extra: Partial<DeliveryJob> = {}): DeliveryJob {
  const userId = `user-${n}`;
  const eventId = `e${n}`;
  return {
    tenantId: 'acme',
    userId,
    notificationId: notificationId(eventId, userId, NOW - 1000),
    channel: 'push',
    eventId,
    type: 'comment',
    category: 'social',
    actorId: 'bob',
    createdAt: NOW - 1000,
    ...extra,
  };
}

/**
 * Spends every receive of the visible push jobs with no consumer finishing one: the process is
 * killed each time it holds them, and they come back when their visibility ends. After the last
 * receive the queue dead-letters them (on the next call that looks).
 */
async function killedOnEveryReceive(queue: DeliveryQueue, clock: { advance(ms: number): void }) {
  for (let i = 0; i < 4; i++) {
    await queue.receive({ max: 100, visibilityTimeoutMs: VISIBILITY_MS });
    clock.advance(VISIBILITY_MS + 1);
  }
}

function sweepOf(w: World, extra: Partial<ConstructorParameters<typeof DeadLetterSweep>[0]> = {}) {
  return new DeadLetterSweep({
    queues: w.queues,
    audit: w.audit,
    dedup: w.dedup,
    clock: w.clock,
    logger: w.logger,
    ...extra,
  });
}

const unseen = (records: readonly AuditRecord[]) =>
  records.filter((r) => r.outcome === Outcome.DeadLettered && r.reason === UNSEEN_DEAD_LETTER_REASON);

describe('DeadLetterSweep', () => {
  afterEach(closeWorlds);

  it('writes one dead_lettered record for a job killed on its last receive, and none on the next pass', async () => {
    // Prepare
    const w = world({ now: NOW });
    await w.queues.push.sendBatch([job(1)]);
    await killedOnEveryReceive(w.queues.push, w.clock);
    const sweep = sweepOf(w);
    // Act
    const first = await sweep.runOnce();
    const second = await sweep.runOnce();
    // Assess
    expect(first.push).toEqual({ seen: 1, audited: 1, alreadyAudited: 0, poison: 0, busy: 0, tooOld: 0 });
    expect(first.email?.seen).toBe(0);
    expect(second.push).toMatchObject({ seen: 1, audited: 0, alreadyAudited: 1 });
    expect((await auditRecords(w)).map((r) => [r.userId, r.outcome, r.reason, r.attempt])).toEqual([
      ['user-1', Outcome.DeadLettered, UNSEEN_DEAD_LETTER_REASON, 4],
    ]);
    // The operator still finds it in the DLQ.
    expect(await w.queues.push.listDeadLetters(10)).toHaveLength(1);
  });

  it('adds nothing for a job the consumer audited as dead-lettered on its last receive', async () => {
    // Prepare: the consumer fails the job on every receive; the fourth is its last.
    const w = world({ now: NOW });
    await w.preferences.put(consenting({ tenantId: 'acme', userId: 'user-2' }));
    await w.devices.registerMany([
      { tenantId: 'acme', userId: 'user-2', token: 'token-2', platform: 'apns', registeredAt: NOW - 1 },
    ]);
    await w.queues.push.sendBatch([job(2)]);
    w.pushFault = () => new TransportRetryableError('provider unavailable');
    for (let i = 0; i < 5; i++) {
      await consumeRound(w.queues.push, (event) => consumePush(event, w.pushDeps()));
      w.clock.advance(VISIBILITY_MS + 1);
    }
    // Act
    const result = await sweepOf(w).runOnce();
    // Assess
    expect(result.push).toMatchObject({ seen: 1, audited: 0, alreadyAudited: 1 });
    const deadLettered = (await auditRecords(w)).filter((r) => r.outcome === Outcome.DeadLettered);
    expect(deadLettered.map((r) => r.reason)).toEqual(['max_receives']);
  });

  it('reaches every dead letter over passes when there are more than one pass reads, newer ones too', async () => {
    // Prepare: 7 dead letters, a pass reads one page of 2.
    const w = world({ now: NOW });
    await w.queues.push.sendBatch([1, 2, 3, 4, 5, 6, 7].map((n) => job(n)));
    await killedOnEveryReceive(w.queues.push, w.clock);
    const sweep = sweepOf(w, { pageSize: 2, pagesPerPass: 1 });
    // Act
    const audited: number[] = [];
    for (let pass = 0; pass < 4; pass++) audited.push((await sweep.runOnce()).push!.audited);
    const afterEnd = await sweep.runOnce();
    await w.queues.push.sendBatch([job(8)]);
    await killedOnEveryReceive(w.queues.push, w.clock);
    const laterPasses: number[] = [];
    for (let pass = 0; pass < 4; pass++) laterPasses.push((await sweep.runOnce()).push!.audited);
    // Assess
    expect(audited).toEqual([2, 2, 2, 1]);
    // Past the end the listing starts over from the oldest, which are audited already.
    expect(afterEnd.push).toMatchObject({ seen: 2, audited: 0, alreadyAudited: 2 });
    expect(laterPasses.reduce((a, b) => a + b)).toBe(1);
    const users = unseen(await auditRecords(w)).map((r) => r.userId);
    expect(users.sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => `user-${n}`));
  });

  it('reads several pages a pass, up to its bound', async () => {
    // Prepare
    const w = world({ now: NOW });
    await w.queues.push.sendBatch([1, 2, 3, 4, 5].map((n) => job(n)));
    await killedOnEveryReceive(w.queues.push, w.clock);
    const sweep = sweepOf(w, { pageSize: 2, pagesPerPass: 2 });
    // Act
    const first = await sweep.runOnce();
    const second = await sweep.runOnce();
    // Assess
    expect(first.push).toMatchObject({ seen: 4, audited: 4 });
    expect(second.push).toMatchObject({ seen: 1, audited: 1 });
    expect(unseen(await auditRecords(w))).toHaveLength(5);
  });

  it('leaves alone letters older than its age bound, or moved before notBefore', async () => {
    // Prepare
    const w = world({ now: NOW });
    await w.queues.push.sendBatch([job(1)]);
    await killedOnEveryReceive(w.queues.push, w.clock);
    await w.queues.push.listDeadLetters(1); // moved now
    const movedAt = w.clock.now();
    // Act
    const afterStart = await sweepOf(w, { notBefore: movedAt + 1 }).runOnce();
    w.clock.advance(DEAD_LETTER_MAX_AGE_MS + 1);
    const tooLate = await sweepOf(w).runOnce();
    // Assess
    expect(afterStart.push).toMatchObject({ seen: 1, audited: 0, tooOld: 1 });
    expect(tooLate.push).toMatchObject({ seen: 1, audited: 0, tooOld: 1 });
    expect(unseen(await auditRecords(w))).toEqual([]);
  });

  it('logs a failing channel, still sweeps the other, and tries the same page again next pass', async () => {
    // Prepare
    const w = world({ now: NOW });
    await w.queues.push.sendBatch([job(1)]);
    await w.queues.email.sendBatch([job(2, { channel: 'email' })]);
    await killedOnEveryReceive(w.queues.push, w.clock);
    await killedOnEveryReceive(w.queues.email, w.clock);
    let failures = 1;
    const flaky: AuditSink = {
      append: async (entries) => {
        if (failures-- > 0) throw new StoreUnavailableError('audit log unavailable');
        await w.audit.append(entries);
      },
    };
    const sweep = sweepOf(w, { audit: flaky, pageSize: 1, pagesPerPass: 1 });
    // Act
    const first = await sweep.runOnce();
    const second = await sweep.runOnce();
    // Assess
    expect(first.push).toBeUndefined();
    expect(first.email).toMatchObject({ audited: 1 });
    expect(second.push).toMatchObject({ audited: 1 });
    expect(w.logger.lines.some((e) => e.level === 'warn' && e.message === 'dead-letter audit failed')).toBe(
      true,
    );
    expect(
      unseen(await auditRecords(w))
        .map((r) => `${r.channel}:${r.userId}`)
        .sort(),
    ).toEqual(['email:user-2', 'push:user-1']);
  });

  it('lists one page from the oldest every pass on a queue that cannot resume (SQS)', async () => {
    // Prepare
    const w = world({ now: NOW });
    const asked: (ListDeadLettersOptions | undefined)[] = [];
    const letter: DeadLetter = {
      messageId: 'm1',
      body: JSON.stringify(job(1)),
      receiveCount: 4,
      deadLetteredAt: NOW,
      attributes: { tenant_id: 'acme' },
    };
    const noPositions: Pick<DeliveryQueue, 'channel' | 'listDeadLetters'> = {
      channel: 'push',
      listDeadLetters: async (limit, opts) => {
        asked.push(opts);
        return Array.from({ length: limit }, (_, i) => ({ ...letter, messageId: `m${i}` }));
      },
    };
    const sweep = sweepOf(w, { queues: { ...w.queues, push: noPositions }, pageSize: 3 });
    // Act
    const first = await sweep.runOnce();
    const second = await sweep.runOnce();
    // Assess
    expect(asked).toEqual([{}, {}]);
    expect(first.push).toMatchObject({ seen: 3, audited: 3 });
    expect(second.push).toMatchObject({ seen: 3, alreadyAudited: 3 });
  });
});

describe('the dead-letter audit in the local pipeline', () => {
  it('runs at start: a job killed on its last receive gets one record, also over a restart', async () => {
    // Prepare: embedded ports in memory; the job was received four times by processes that died.
    const clock = testClock(NOW);
    const ports = await openEmbeddedPorts({
      config: readRuntimeConfig({ FANOUT_DATA_DIR: ':memory:' }),
      clock,
    });
    const records = async () => {
      const all: AuditRecord[] = [];
      for await (const record of readAuditLog(ports.auditDir)) all.push(record);
      return all;
    };
    try {
      await ports.queues.push.sendBatch([job(1)]);
      await killedOnEveryReceive(ports.queues.push, clock);
      // Act: start (a pass at once), wait for it, stop; then a second run on the same data.
      for (let run = 0; run < 2; run++) {
        const pipeline = new Pipeline(ports, { retryBaseMs: 5 });
        await pipeline.start();
        for (let i = 0; i < 200 && unseen(await records()).length === 0; i++) await sleep(10);
        await pipeline.stop();
      }
      // Assess
      expect(unseen(await records()).map((r) => [r.userId, r.channel, r.attempt])).toEqual([
        ['user-1', 'push', 4],
      ]);
    } finally {
      await ports.close();
    }
  });

  it('runs none when told not to', async () => {
    // Prepare
    const clock = testClock(NOW);
    const ports = await openEmbeddedPorts({
      config: readRuntimeConfig({ FANOUT_DATA_DIR: ':memory:' }),
      clock,
    });
    try {
      await ports.queues.push.sendBatch([job(1)]);
      await killedOnEveryReceive(ports.queues.push, clock);
      // Act
      const pipeline = new Pipeline(ports, { retryBaseMs: 5, deadLetterAudit: false });
      await pipeline.start();
      await sleep(50);
      await pipeline.stop();
      // Assess
      const all: AuditRecord[] = [];
      for await (const record of readAuditLog(ports.auditDir)) all.push(record);
      expect(unseen(all)).toEqual([]);
    } finally {
      await ports.close();
    }
  });
});

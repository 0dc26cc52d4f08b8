import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createQueues } from '../../src/adapters/aws/create-queues.ts';
import { RedisDedupStore } from '../../src/adapters/aws/dedup-store.ts';
import { SqsDeliveryQueue } from '../../src/adapters/aws/delivery-queue.ts';
import type { AuditEntry } from '../../src/domain/audit-types.ts';
import { StoreUnavailableError, TransportRetryableError } from '../../src/domain/errors.ts';
import { notificationId } from '../../src/domain/ids.ts';
import { type DeliveryJob, Outcome } from '../../src/domain/types.ts';
import { auditDeadLetters, UNSEEN_DEAD_LETTER_REASON } from '../../src/handlers/dead-letter-audit.ts';
import { consumePush } from '../../src/handlers/push-consumer.ts';
import type { AuditSink } from '../../src/ports/audit-sink.ts';
import { systemClock } from '../../src/ports/clock.ts';
import type { AwsClients } from '../../src/runtime/aws-clients.ts';
import { closeRedis, emulatorClients, readyRedis, uniqueName } from '../support/aws.ts';
import { auditRecords, closeWorlds, consenting, consumeRound, world } from '../support/world.ts';

const NOW = Date.UTC(2026, 4, 1, 12);

function job(n: number, extra: Partial<DeliveryJob> = {}): DeliveryJob {
  const userId = extra.userId ?? `user-${n}`;
  const eventId = extra.eventId ?? `e${n}`;
  const createdAt = NOW - 1000;
  return {
    tenantId: 'acme',
    userId,
    notificationId: notificationId(eventId, userId, createdAt),
    channel: 'push',
    eventId,
    type: 'comment',
    category: 'social',
    actorId: 'bob',
    createdAt,
    ...extra,
  };
}

/** An audit sink that keeps what it was given, and can be made to fail. */
function recordingSink(): AuditSink & { entries: AuditEntry[]; failNext: boolean } {
  const sink = {
    entries: [] as AuditEntry[],
    failNext: false,
    async append(entries: readonly AuditEntry[]): Promise<void> {
      if (sink.failNext) {
        sink.failNext = false;
        throw new StoreUnavailableError('audit stream unavailable');
      }
      sink.entries.push(...entries);
    },
  };
  return sink;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('dead-letter audit on the emulators (SQS: fauxqs, dedup: Redis)', () => {
  let clients: AwsClients;
  let redis: Redis;
  beforeAll(async () => {
    clients = emulatorClients();
    redis = await readyRedis();
  });
  afterAll(async () => {
    clients.destroy();
    await closeRedis(redis);
  });

  /** A push queue whose receives are spent without a consumer ever running: throttled invocations. */
  async function throttledToDeadLetter(jobs: readonly DeliveryJob[], bodies: readonly string[] = []) {
    const queues = await createQueues(clients.sqs, { name: uniqueName('push'), maxReceiveCount: 2 });
    const queue = new SqsDeliveryQueue({
      sqs: clients.sqs,
      channel: 'push',
      queueUrl: queues.queueUrl,
      deadLetterQueueUrl: queues.deadLetterQueueUrl,
    });
    await queue.sendBatch(jobs);
    if (bodies.length > 0) await queue.sendRaw(bodies);
    // Lambda's poller receives, the invocation is throttled, the message comes back: twice.
    for (let i = 0; i < 2; i++) {
      await queue.receive({ max: 10, visibilityTimeoutMs: 1_000 });
      await sleep(1_100);
    }
    // The next receive finds them over maxReceiveCount and moves them to the DLQ.
    expect(await queue.receive({ max: 10, visibilityTimeoutMs: 1_000 })).toEqual([]);
    return queue;
  }

  it('writes one dead_lettered record per message the consumer never saw fail, and keeps the messages', async () => {
    // Prepare
    const jobs = [job(1), job(2, { tenantId: 'globex' })];
    const queue = await throttledToDeadLetter(jobs);
    const audit = recordingSink();
    const deps = {
      audit,
      dedup: new RedisDedupStore({ redis, keyPrefix: uniqueName('dd') }),
      clock: systemClock,
    };
    // Act
    const first = await auditDeadLetters(queue, 100, deps);
    const second = await auditDeadLetters(queue, 100, deps);
    // Assess
    expect(first).toEqual({ seen: 2, audited: 2, alreadyAudited: 0, poison: 0, busy: 0 });
    expect(second).toEqual({ seen: 2, audited: 0, alreadyAudited: 2, poison: 0, busy: 0 });
    const byUser = (a: AuditEntry, b: AuditEntry) => a.userId.localeCompare(b.userId);
    expect(
      audit.entries.sort(byUser).map((e) => [e.tenantId, e.userId, e.notificationId, e.outcome, e.reason]),
    ).toEqual(
      jobs.map((j) => [
        j.tenantId,
        j.userId,
        j.notificationId,
        Outcome.DeadLettered,
        UNSEEN_DEAD_LETTER_REASON,
      ]),
    );
    expect(audit.entries.map((e) => [e.channel, e.eventId, e.attempt])).toEqual([
      ['push', 'e1', 2],
      ['push', 'e2', 2],
    ]);
    // Still there for the operator: listed and redriven as before.
    expect((await queue.depth()).deadLettered).toBe(2);
    expect(await queue.redriveDeadLetters()).toBe(2);
  });

  it('leaves a body that is no job in the DLQ, counted as poison, unaudited', async () => {
    // Prepare
    const queue = await throttledToDeadLetter([], ['not a job']);
    const audit = recordingSink();
    // Act
    const result = await auditDeadLetters(queue, 100, {
      audit,
      dedup: new RedisDedupStore({ redis, keyPrefix: uniqueName('dd') }),
      clock: systemClock,
    });
    // Assess
    expect(result).toEqual({ seen: 1, audited: 0, alreadyAudited: 0, poison: 1, busy: 0 });
    expect(audit.entries).toEqual([]);
    expect((await queue.depth()).deadLettered).toBe(1);
  });

  it('audits again on the next pass when the append failed, once', async () => {
    // Prepare
    const queue = await throttledToDeadLetter([job(3)]);
    const audit = recordingSink();
    const deps = {
      audit,
      dedup: new RedisDedupStore({ redis, keyPrefix: uniqueName('dd') }),
      clock: systemClock,
    };
    audit.failNext = true;
    // Act
    const failed = auditDeadLetters(queue, 100, deps);
    await expect(failed).rejects.toThrow(StoreUnavailableError);
    const retried = await auditDeadLetters(queue, 100, deps);
    const third = await auditDeadLetters(queue, 100, deps);
    // Assess
    expect(retried.audited).toBe(1);
    expect(third.alreadyAudited).toBe(1);
    expect(audit.entries.map((e) => e.userId)).toEqual(['user-3']);
  });
});

describe('dead-letter audit after the consumer', () => {
  afterEach(closeWorlds);

  it('adds nothing for a job the consumer audited on its last receive', async () => {
    // Prepare: the consumer fails the job on every receive, the fourth is its last.
    const w = world({ now: NOW });
    await w.preferences.put(consenting({ tenantId: 'acme', userId: 'user-4' }));
    await w.devices.registerMany([
      { tenantId: 'acme', userId: 'user-4', token: 'token-4', platform: 'apns', registeredAt: NOW - 1 },
    ]);
    await w.queues.push.sendBatch([job(4)]);
    w.pushFault = () => new TransportRetryableError('provider unavailable');
    for (let i = 0; i < 5; i++) {
      await consumeRound(w.queues.push, (event) => consumePush(event, w.pushDeps()));
      w.clock.advance(180_001);
    }
    // Act
    const result = await auditDeadLetters(w.queues.push, 100, {
      audit: w.audit,
      dedup: w.dedup,
      clock: w.clock,
    });
    // Assess
    expect(result).toEqual({ seen: 1, audited: 0, alreadyAudited: 1, poison: 0, busy: 0 });
    expect((await auditRecords(w)).map((r) => [r.outcome, r.reason])).toEqual([
      [Outcome.DeadLettered, 'max_receives'],
    ]);
  });

  it('records the job whose last receive never reached the consumer, exactly once', async () => {
    // Prepare: four receives, none handed to a consumer.
    const w = world({ now: NOW });
    await w.queues.push.sendBatch([job(5)]);
    for (let i = 0; i < 5; i++) {
      await w.queues.push.receive({ max: 10, visibilityTimeoutMs: 180_000 });
      w.clock.advance(180_001);
    }
    const deps = { audit: w.audit, dedup: w.dedup, clock: w.clock };
    // Act
    await auditDeadLetters(w.queues.push, 100, deps);
    await auditDeadLetters(w.queues.push, 100, deps);
    // Assess
    expect((await auditRecords(w)).map((r) => [r.userId, r.outcome, r.reason, r.attempt])).toEqual([
      ['user-5', Outcome.DeadLettered, UNSEEN_DEAD_LETTER_REASON, 4],
    ]);
    expect(await w.queues.push.listDeadLetters(10)).toHaveLength(1);
  });
});

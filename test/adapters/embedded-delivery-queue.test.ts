import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedDeliveryQueue, MAX_EMBEDDED_RECEIVE } from '../../src/adapters/embedded/delivery-queue.ts';
import { StoreUnavailableError, ValidationError } from '../../src/domain/errors.ts';
import type { Channel, DeliveryJob } from '../../src/domain/types.ts';
import { deliveryQueueContract, type QueueClock } from '../contracts/delivery-queue.contract.ts';

/** A clock that moves only when told to. */
function manualClock(start = 1_800_000_000_000): QueueClock {
  let now = start;
  return {
    now: () => now,
    advance: async (ms) => {
      now += ms;
    },
  };
}

function job(n: number, channel: Channel = 'push'): DeliveryJob {
  return {
    tenantId: 't1',
    userId: `u${n}`,
    notificationId: `n${n}`,
    channel,
    eventId: `e${n}`,
    type: 'post',
    category: 'social',
    actorId: 'alice',
    createdAt: 1_700_000_000_000,
  };
}

deliveryQueueContract('embedded', async () => {
  const db = new EmbeddedDb({ path: ':memory:' });
  const clock = manualClock();
  return {
    queue: new EmbeddedDeliveryQueue({ db, channel: 'push', clock }),
    maxReceiveCount: 4,
    clock,
    pagesDeadLetters: true,
    close: async () => db.close(),
  };
});

deliveryQueueContract('embedded, one retry before the dead-letter queue', async () => {
  const db = new EmbeddedDb({ path: ':memory:' });
  const clock = manualClock();
  return {
    queue: new EmbeddedDeliveryQueue({ db, channel: 'push', clock, maxReceiveCount: 2 }),
    maxReceiveCount: 2,
    clock,
    pagesDeadLetters: true,
    close: async () => db.close(),
  };
});

describe('EmbeddedDeliveryQueue', () => {
  let db: EmbeddedDb;
  let clock: QueueClock;
  beforeEach(() => {
    db = new EmbeddedDb({ path: ':memory:' });
    clock = manualClock();
  });
  afterEach(() => {
    db.close();
  });

  it('keeps the channels sharing one database apart', async () => {
    // Prepare
    const push = new EmbeddedDeliveryQueue({ db, channel: 'push', clock });
    const email = new EmbeddedDeliveryQueue({ db, channel: 'email', clock });
    await push.sendBatch([job(1), job(2)]);
    await email.sendBatch([job(3, 'email')]);
    // Act
    const fromEmail = await email.receive({ max: 10, visibilityTimeoutMs: 1_000 });
    const pushDepth = await push.depth();
    // Assess
    expect(fromEmail.map((m) => (JSON.parse(m.body) as DeliveryJob).notificationId)).toEqual(['n3']);
    expect(pushDepth).toEqual({ visible: 2, inFlight: 0, delayed: 0, deadLettered: 0 });
  });

  it("dead-letters and redrives each channel's messages on that channel only", async () => {
    // Prepare
    const push = new EmbeddedDeliveryQueue({ db, channel: 'push', clock, maxReceiveCount: 1 });
    const email = new EmbeddedDeliveryQueue({ db, channel: 'email', clock, maxReceiveCount: 1 });
    await push.sendBatch([job(1)]);
    await email.sendBatch([job(2, 'email')]);
    await push.receive({ max: 1, visibilityTimeoutMs: 1_000 });
    await email.receive({ max: 1, visibilityTimeoutMs: 1_000 });
    await clock.advance(1_000);
    // Act
    const pushDead = await push.listDeadLetters(10);
    const moved = await email.redriveDeadLetters();
    const [redriven] = await email.receive({ max: 10, visibilityTimeoutMs: 1_000 });
    // Assess
    expect(pushDead.map((d) => (JSON.parse(d.body) as DeliveryJob).notificationId)).toEqual(['n1']);
    expect(moved).toBe(1);
    expect((JSON.parse(redriven!.body) as DeliveryJob).notificationId).toBe('n2');
    expect(await push.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0, deadLettered: 1 });
  });

  it("ignores another channel's receipt handle", async () => {
    // Prepare
    const push = new EmbeddedDeliveryQueue({ db, channel: 'push', clock });
    const email = new EmbeddedDeliveryQueue({ db, channel: 'email', clock });
    await push.sendBatch([job(1)]);
    const [message] = await push.receive({ max: 1, visibilityTimeoutMs: 1_000 });
    // Act
    await email.deleteBatch([message!.receiptHandle]);
    await email.changeVisibility(message!.receiptHandle, 0);
    // Assess
    expect(await push.depth()).toEqual({ visible: 0, inFlight: 1, delayed: 0, deadLettered: 0 });
  });

  it('never gives one in-flight message to two consumers of the same channel', async () => {
    // Prepare
    const first = new EmbeddedDeliveryQueue({ db, channel: 'push', clock });
    const second = new EmbeddedDeliveryQueue({ db, channel: 'push', clock });
    await first.sendBatch(Array.from({ length: 50 }, (_, i) => job(i)));
    // Act
    const [a, b] = await Promise.all([
      first.receive({ max: 30, visibilityTimeoutMs: 1_000 }),
      second.receive({ max: 30, visibilityTimeoutMs: 1_000 }),
    ]);
    // Assess
    const ids = [...a!, ...b!].map((m) => m.messageId);
    expect(ids).toHaveLength(50);
    expect(new Set(ids).size).toBe(50);
    expect(new Set([...a!, ...b!].map((m) => m.receiptHandle)).size).toBe(50);
  });

  it(`receives up to ${MAX_EMBEDDED_RECEIVE} messages at once, and no more`, async () => {
    // Prepare
    const queue = new EmbeddedDeliveryQueue({ db, channel: 'push', clock });
    await queue.sendBatch(Array.from({ length: MAX_EMBEDDED_RECEIVE + 5 }, (_, i) => job(i)));
    // Act
    const received = await queue.receive({ max: MAX_EMBEDDED_RECEIVE, visibilityTimeoutMs: 1_000 });
    const tooMany = queue.receive({ max: MAX_EMBEDDED_RECEIVE + 1, visibilityTimeoutMs: 1_000 });
    // Assess
    expect(received).toHaveLength(MAX_EMBEDDED_RECEIVE);
    expect(received.map((m) => (JSON.parse(m.body) as DeliveryJob).notificationId).slice(0, 3)).toEqual([
      'n0',
      'n1',
      'n2',
    ]);
    await expect(tooMany).rejects.toBeInstanceOf(ValidationError);
    expect(await queue.depth()).toEqual({
      visible: 5,
      inFlight: MAX_EMBEDDED_RECEIVE,
      delayed: 0,
      deadLettered: 0,
    });
  });

  it('counts a message as dead-lettered from the end of its last timeout: a late delete or change does nothing', async () => {
    // Prepare
    const queue = new EmbeddedDeliveryQueue({ db, channel: 'push', clock, maxReceiveCount: 2 });
    await queue.sendBatch([job(1), job(2)]);
    const last: string[] = [];
    for (let i = 0; i < 2; i++) {
      const messages = await queue.receive({ max: 2, visibilityTimeoutMs: 1_000 });
      last.splice(0, last.length, ...messages.map((m) => m.receiptHandle));
      await clock.advance(1_000);
    }
    // Act
    await queue.deleteBatch([last[0]!]);
    await queue.changeVisibility(last[1]!, 60_000);
    const dead = await queue.listDeadLetters(10);
    // Assess
    expect(dead.map((d) => (JSON.parse(d.body) as DeliveryJob).notificationId)).toEqual(['n1', 'n2']);
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0, deadLettered: 2 });
  });

  it('refuses to list after a position it never issued', async () => {
    // Prepare
    const queue = new EmbeddedDeliveryQueue({ db, channel: 'push', clock });
    // Act / Assess
    for (const after of ['', '0', '-1', '1.5', 'abc', '01', '99999999999999999']) {
      await expect(queue.listDeadLetters(1, { after })).rejects.toBeInstanceOf(ValidationError);
    }
    expect(await queue.listDeadLetters(1, { after: '12' })).toEqual([]);
  });

  it('ignores a handle it never issued', async () => {
    // Prepare
    const queue = new EmbeddedDeliveryQueue({ db, channel: 'push', clock });
    await queue.sendBatch([job(1)]);
    const [message] = await queue.receive({ max: 1, visibilityTimeoutMs: 1_000 });
    // Act
    await queue.deleteBatch([
      'no-dot',
      'x.1',
      'AAAAAAAAAAAA.1',
      '~~~~~~~~~~~~.1',
      'AAAAAAAAAAAA.-1',
      'AAAAAAAAAAAA.abc',
      `${message!.receiptHandle}0`,
      `x${message!.receiptHandle}`,
    ]);
    await queue.changeVisibility('AAAAAAAAAAAA.1', 0);
    await queue.changeVisibility('~~~~~~~~~~~~.1', 0);
    // Assess
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 1, delayed: 0, deadLettered: 0 });
  });

  it('rejects a maxReceiveCount that is not a whole number from 1', () => {
    // Act / Assess
    for (const maxReceiveCount of [0, -1, 2.5]) {
      expect(() => new EmbeddedDeliveryQueue({ db, channel: 'push', maxReceiveCount })).toThrow(
        ValidationError,
      );
    }
  });

  it('keeps messages, receive counts and dead letters across a reopen of the data file', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'fanout-queue-'));
    const path = join(dir, 'fanout.db');
    try {
      const before = new EmbeddedDb({ path });
      const queue = new EmbeddedDeliveryQueue({ db: before, channel: 'push', clock, maxReceiveCount: 1 });
      await queue.sendBatch([job(1), job(2)]);
      await queue.receive({ max: 1, visibilityTimeoutMs: 1_000 });
      await clock.advance(1_000);
      before.close();
      // Act
      const after = new EmbeddedDb({ path });
      const reopened = new EmbeddedDeliveryQueue({ db: after, channel: 'push', clock, maxReceiveCount: 1 });
      const received = await reopened.receive({ max: 10, visibilityTimeoutMs: 1_000 });
      const dead = await reopened.listDeadLetters(10);
      after.close();
      // Assess
      expect(received.map((m) => (JSON.parse(m.body) as DeliveryJob).notificationId)).toEqual(['n2']);
      expect(dead.map((d) => (JSON.parse(d.body) as DeliveryJob).notificationId)).toEqual(['n1']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('turns a closed database into StoreUnavailableError on every call', async () => {
    // Prepare
    const queue = new EmbeddedDeliveryQueue({ db, channel: 'push', clock });
    db.close();
    // Act / Assess
    await expect(queue.sendBatch([job(1)])).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(queue.sendRaw(['x'])).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(queue.receive({ max: 1, visibilityTimeoutMs: 1 })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await expect(queue.deleteBatch(['AAAAAAAAAAAA.1'])).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(queue.changeVisibility('AAAAAAAAAAAA.1', 0)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(queue.depth()).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(queue.listDeadLetters(1)).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(queue.redriveDeadLetters()).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('rejects raw attributes that are not strings', async () => {
    // Prepare
    const queue = new EmbeddedDeliveryQueue({ db, channel: 'push', clock });
    // Act / Assess
    await expect(queue.sendRaw(['x'], { tenant_id: 7 as unknown as string })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(queue.sendRaw(['x'], null as unknown as Record<string, string>)).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 0, delayed: 0, deadLettered: 0 });
  });
});

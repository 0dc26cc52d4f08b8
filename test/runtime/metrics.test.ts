import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedDeliveryQueue } from '../../src/adapters/embedded/delivery-queue.ts';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { notificationId } from '../../src/domain/ids.ts';
import type { Channel, DeliveryJob, InboxRow } from '../../src/domain/types.ts';
import type { DeliveryQueue } from '../../src/ports/delivery-queue.ts';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
import { openEmbeddedPorts } from '../../src/runtime/embedded.ts';
import type { InboxChanges } from '../../src/runtime/inbox-notifier.ts';
import { Metrics, observePorts } from '../../src/runtime/metrics.ts';
import { testClock } from '../support/world.ts';

const NOW = Date.UTC(2026, 4, 1, 12);
const dbs: EmbeddedDb[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) db.close();
  for (const c of cleanups.splice(0)) await c();
});

function queues(clock = testClock(NOW)): Record<Channel, EmbeddedDeliveryQueue> {
  const db = new EmbeddedDb({ path: ':memory:' });
  dbs.push(db);
  return {
    push: new EmbeddedDeliveryQueue({ db, channel: 'push', maxReceiveCount: 1, clock }),
    email: new EmbeddedDeliveryQueue({ db, channel: 'email', maxReceiveCount: 1, clock }),
  };
}

function job(userId: string, channel: Channel): DeliveryJob {
  return {
    tenantId: 'acme',
    userId,
    notificationId: '01JZ0000000000000000000000',
    channel,
    eventId: 'e1',
    type: 'comment',
    category: 'social',
    actorId: 'bob',
    createdAt: NOW,
  };
}

/** Metrics over fresh queues, with a rate clock the test moves. */
function metricsAt(start = 0) {
  let t = start;
  const q = queues();
  const metrics = new Metrics({ queues: q, clock: { now: () => NOW }, rateClock: () => t });
  return {
    metrics,
    queues: q,
    advance(ms: number) {
      t += ms;
    },
  };
}

describe('Metrics', () => {
  it('counts accepted events and reports the rate over the trailing second only', async () => {
    // Prepare
    const m = metricsAt(10_000);
    // Act
    m.metrics.eventsAccepted(30);
    m.advance(500);
    m.metrics.eventsAccepted(20);
    m.advance(400);
    const withinTheSecond = await m.metrics.snapshot();
    m.advance(1000);
    const idle = await m.metrics.snapshot();
    // Assess
    expect(withinTheSecond.events).toEqual({ total: 50, perSecond: 50 });
    expect(idle.events).toEqual({ total: 50, perSecond: 0 });
  });

  it('drops increments older than one second from the rate but keeps them in the total', async () => {
    // Prepare
    const m = metricsAt(0);
    m.metrics.inboxRowsWritten(1000);
    // Act
    m.advance(1050);
    m.metrics.inboxRowsWritten(7);
    m.advance(100);
    const snap = await m.metrics.snapshot();
    // Assess
    expect(snap.inboxRows).toEqual({ total: 1007, perSecond: 7 });
  });

  it('does not count the current, incomplete 100 ms bucket until it is complete', async () => {
    // Prepare
    const m = metricsAt(5_000);
    // Act
    m.metrics.eventsAccepted(4);
    const sameBucket = await m.metrics.snapshot();
    m.advance(100);
    const nextBucket = await m.metrics.snapshot();
    // Assess
    expect(sameBucket.events.perSecond).toBe(0);
    expect(nextBucket.events.perSecond).toBe(4);
  });

  it('keeps deliveries apart by channel and outcome', async () => {
    // Prepare
    const m = metricsAt(0);
    // Act
    m.metrics.deliveries('push', 'sent', 3);
    m.metrics.deliveries('push', 'failed');
    m.metrics.deliveries('email', 'suppressed_no_consent', 2);
    m.advance(200);
    const snap = await m.metrics.snapshot();
    // Assess
    expect(snap.deliveries.push.sent).toEqual({ total: 3, perSecond: 3 });
    expect(snap.deliveries.push.failed.total).toBe(1);
    expect(snap.deliveries.push.suppressed_no_consent.total).toBe(0);
    expect(snap.deliveries.email.suppressed_no_consent.total).toBe(2);
    expect(snap.deliveries.email.sent.total).toBe(0);
  });

  it('ignores zero, negative and unknown increments instead of corrupting the counters', async () => {
    // Prepare
    const m = metricsAt(0);
    // Act
    m.metrics.eventsAccepted(0);
    m.metrics.eventsAccepted(-5);
    m.metrics.inboxRowsWritten(-1);
    m.metrics.deliveries('sms' as Channel, 'sent');
    m.metrics.deliveries('push', 'teleported' as 'sent');
    m.advance(200);
    const snap = await m.metrics.snapshot();
    // Assess
    expect(snap.events.total).toBe(0);
    expect(snap.inboxRows.total).toBe(0);
    expect(Object.values(snap.deliveries.push).every((r) => r.total === 0)).toBe(true);
  });

  it('reads each queue depth and dead-letter count from its port when asked', async () => {
    // Prepare
    const clock = testClock(NOW);
    const q = queues(clock);
    const metrics = new Metrics({ queues: q, clock, rateClock: () => 0 });
    await q.push.sendBatch([job('u1', 'push'), job('u2', 'push'), job('u3', 'push')]);
    await q.email.sendBatch([job('u1', 'email')]);
    // maxReceiveCount 1: a received email that times out goes to the DLQ on its next receive.
    await q.email.receive({ max: 1, visibilityTimeoutMs: 1000 });
    clock.advance(2000);
    await q.email.receive({ max: 1, visibilityTimeoutMs: 1000 });
    await q.push.receive({ max: 1, visibilityTimeoutMs: 60_000 });
    // Act
    const snap = await metrics.snapshot();
    // Assess
    expect(snap.queues.push).toEqual({ visible: 2, inFlight: 1, delayed: 0, deadLettered: 0 });
    expect(snap.queues.email.deadLettered).toBe(1);
    expect(snap.queues.email.visible).toBe(0);
    expect(snap.at).toBe(NOW + 2000);
  });

  it('fails the snapshot with the queue error when a queue cannot be read', async () => {
    // Prepare
    const q = queues();
    const broken: DeliveryQueue = {
      ...q.email,
      channel: 'email',
      depth: () => Promise.reject(new StoreUnavailableError('queue store did not answer')),
    } as DeliveryQueue;
    const metrics = new Metrics({ queues: { push: q.push, email: broken } });
    // Act
    const snapshot = metrics.snapshot();
    // Assess
    await expect(snapshot).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

describe('observePorts', () => {
  async function observed() {
    const ports = await openEmbeddedPorts({ config: readRuntimeConfig({ FANOUT_DATA_DIR: ':memory:' }) });
    cleanups.push(() => ports.close());
    const metrics = new Metrics({ queues: ports.queues, rateClock: () => 0 });
    const calls: string[] = [];
    const changes: InboxChanges = {
      rowsWritten: (tenantId, userIds) => calls.push(`rows ${tenantId} ${userIds.join(',')}`),
      pointerWritten: (tenantId, authorId) => calls.push(`pointer ${tenantId} ${authorId}`),
      readStateChanged: (user) => calls.push(`read ${user.tenantId} ${user.userId}`),
    };
    return { ports: observePorts(ports, { metrics, changes }), raw: ports, metrics, calls };
  }

  function inboxRow(tenantId: string, userId: string, eventId: string): InboxRow {
    return {
      tenantId,
      userId,
      id: notificationId(eventId, userId, NOW),
      eventId,
      type: 'comment',
      category: 'social',
      actorId: 'bob',
      createdAt: NOW,
      read: false,
    };
  }

  it("counts rows and wakes each tenant's recipients after the rows are durable", async () => {
    // Prepare
    const o = await observed();
    const rows = [inboxRow('acme', 'u1', 'e1'), inboxRow('acme', 'u2', 'e1'), inboxRow('globex', 'u1', 'e1')];
    // Act
    await o.ports.inbox.putMany(rows);
    // Assess
    expect((await o.metrics.snapshot()).inboxRows.total).toBe(3);
    expect(o.calls).toEqual(['rows acme u1,u2', 'rows globex u1']);
    expect(await o.raw.inbox.has({ tenantId: 'acme', userId: 'u2' }, rows[1]!.id)).toBe(true);
  });

  it('counts only fresh events: an idempotent repeat is not accepted twice', async () => {
    // Prepare
    const o = await observed();
    const event = {
      tenantId: 'acme',
      id: 'e1',
      type: 'post',
      actorId: 'bob',
      occurredAt: NOW,
      acceptedAt: NOW,
    };
    // Act
    await o.ports.log.append([event]);
    await o.ports.log.append([event]);
    // Assess
    expect((await o.metrics.snapshot()).events.total).toBe(1);
  });

  it('wakes followers once per pointer author and tells of read-state changes', async () => {
    // Prepare
    const o = await observed();
    const user = { tenantId: 'acme', userId: 'u1' };
    const pointer = (eventId: string) => ({
      tenantId: 'acme',
      authorId: 'star',
      id: notificationId(eventId, '*', NOW),
      eventId,
      type: 'post',
      category: 'content' as const,
      createdAt: NOW,
    });
    await o.ports.inbox.putMany([inboxRow('acme', 'u1', 'e1')]);
    o.calls.length = 0;
    // Act
    await o.ports.feed.put([pointer('p1'), pointer('p2')]);
    await o.ports.inbox.markRead(user, [{ id: notificationId('e1', 'u1', NOW) }]);
    await o.ports.inbox.markAllRead(user, notificationId('e1', 'u1', NOW));
    // Assess
    expect(o.calls).toEqual(['pointer acme star', 'read acme u1', 'read acme u1']);
  });

  it('counts one delivery per audit entry, by channel and outcome, and passes other calls through', async () => {
    // Prepare
    const o = await observed();
    const entry = (channel: Channel, outcome: 'sent' | 'failed') => ({
      tenantId: 'acme',
      userId: 'u1',
      notificationId: notificationId('e1', 'u1', NOW),
      channel,
      outcome,
      eventId: 'e1',
      at: NOW,
    });
    // Act
    await o.ports.audit.append([entry('push', 'sent'), entry('push', 'failed'), entry('email', 'sent')]);
    const shards = await o.ports.log.listShards();
    // Assess
    const snap = await o.metrics.snapshot();
    expect(snap.deliveries.push.sent.total).toBe(1);
    expect(snap.deliveries.push.failed.total).toBe(1);
    expect(snap.deliveries.email.sent.total).toBe(1);
    expect(shards.length).toBeGreaterThan(0);
  });

  it('counts and wakes nothing when the write fails', async () => {
    // Prepare
    const o = await observed();
    await o.raw.close();
    // Act
    const write = o.ports.inbox.putMany([inboxRow('acme', 'u1', 'e1')]);
    // Assess
    await expect(write).rejects.toThrow();
    expect(o.calls).toEqual([]);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { deliveryKey, targetDigest } from '../../src/domain/keys.ts';
import { deletionEvent } from '../../src/domain/retraction.ts';
import type { AuthorEvent, UserKey } from '../../src/domain/types.ts';
import { fanOut } from '../../src/handlers/fanout.ts';
import { consumePush } from '../../src/handlers/push-consumer.ts';
import { kinesisEvent } from '../support/events.ts';
import {
  auditRecords,
  closeWorlds,
  consenting,
  consumeRound,
  registerDevices,
  type World,
  world,
} from '../support/world.ts';

const NOW = Date.UTC(2026, 4, 1, 12);
const T = 'acme';
const user = (userId: string): UserKey => ({ tenantId: T, userId });

afterEach(closeWorlds);

function comment(id: string): AuthorEvent {
  return {
    tenantId: T,
    id,
    type: 'comment',
    actorId: 'author',
    objectId: 'post-1',
    recipients: ['owner'],
    occurredAt: NOW - 1000,
    acceptedAt: NOW - 1000,
  };
}

async function run(w: World, events: readonly AuthorEvent[]): Promise<void> {
  const response = await fanOut(kinesisEvent(events.map((event) => ({ event }))), w.fanoutDeps());
  expect(response.batchItemFailures).toEqual([]);
}

async function consume(w: World): Promise<void> {
  const round = await consumeRound(w.queues.push, (event) => consumePush(event, w.pushDeps()));
  expect(round.response.batchItemFailures).toEqual([]);
}

/** `author` followed by f1; owner and f1 consent and have one device each; c1 posted and pushed. */
async function posted(): Promise<World> {
  const w = world({ now: NOW });
  await w.graph.follow([{ tenantId: T, authorId: 'author', followerId: 'f1' }]);
  for (const id of ['owner', 'f1']) await w.preferences.put(consenting(user(id)));
  await registerDevices(w, [user('owner'), user('f1')]);
  await run(w, [comment('c1')]);
  await consume(w);
  expect(w.pushCalls.map((m) => m.userId).sort()).toEqual(['f1', 'owner']);
  return w;
}

const withdrawals = (w: World) => w.pushCalls.filter((m) => m.withdraw === true);

describe('withdrawing the pushes of a deleted event', () => {
  it('sends a withdrawal with the original collapse id to each device that got the push, and to no other', async () => {
    // Prepare: f1 adds a second device after the push went out
    const w = await posted();
    const originals = [...w.pushCalls];
    await w.devices.registerMany([
      { tenantId: T, userId: 'f1', token: 'fcm-token-later', platform: 'fcm', registeredAt: NOW },
    ]);
    // Act
    await run(w, [deletionEvent(comment('c1'), NOW)]);
    await consume(w);
    // Assess
    const sent = withdrawals(w);
    expect(sent.map((m) => m.token).sort()).toEqual(originals.map((m) => m.token).sort());
    for (const m of sent) {
      const original = originals.find((o) => o.token === m.token)!;
      expect(m.collapseId).toBe(original.collapseId);
      expect(m.messageId).not.toBe(original.messageId);
      expect([m.title, m.body]).toEqual(['', '']);
    }
    const records = (await auditRecords(w)).filter(
      (r) => r.outcome === 'withdrawn' || r.outcome === 'not_shown',
    );
    expect(
      records
        .filter((r) => r.outcome === 'withdrawn')
        .map((r) => r.userId)
        .sort(),
    ).toEqual(['f1', 'owner']);
    expect(records.filter((r) => r.outcome === 'not_shown')).toEqual([
      expect.objectContaining({ userId: 'f1', target: targetDigest('fcm-token-later'), reason: 'not_sent' }),
    ]);
  });

  it('sends no second withdrawal when the deletion is fanned out again', async () => {
    // Prepare
    const w = await posted();
    await run(w, [deletionEvent(comment('c1'), NOW)]);
    await consume(w);
    // Act: a replayed deletion record
    await run(w, [deletionEvent(comment('c1'), NOW)]);
    await consume(w);
    // Assess
    expect(withdrawals(w)).toHaveLength(2);
    const records = await auditRecords(w);
    expect(
      records
        .filter((r) => r.outcome === 'duplicate')
        .map((r) => r.userId)
        .sort(),
    ).toEqual(['f1', 'owner']);
  });

  it('withdraws through quiet hours, but not to a deactivated device', async () => {
    // Prepare: the owner's quiet hours start; f1's device is deactivated
    const w = await posted();
    await w.preferences.put(consenting(user('owner'), { quietHours: { start: '11:00', end: '13:00' } }));
    await w.preferenceCache.invalidate([user('owner')]);
    const [, f1Token] = await registerDevices(w, [user('owner'), user('f1')]);
    await w.devices.deactivate(T, f1Token!, 'uninstalled');
    // Act
    await run(w, [deletionEvent(comment('c1'), NOW)]);
    await consume(w);
    // Assess: a push of c2 to the owner now waits for the quiet hours' end; the withdrawal did not
    await run(w, [{ ...comment('c2'), occurredAt: NOW - 500, acceptedAt: NOW - 500 }]);
    await consume(w);
    const c2 = (await auditRecords(w)).find((r) => r.userId === 'owner' && r.eventId === 'c2');
    expect(c2?.outcome).toBe('deferred');
    expect(withdrawals(w).map((m) => m.userId)).toEqual(['owner']);
    const f1 = (await auditRecords(w)).filter((r) => r.userId === 'f1' && r.eventId === 'c1').at(-1);
    expect(f1?.outcome).toBe('suppressed_no_address');
  });

  it("withdraws a celebrity's pushes from the alert followers and the recipient, under the ids they had", async () => {
    // Prepare: a celebrity (threshold 3); f1 asked for alerts, f2 and f3 did not
    const w = world({ now: NOW, tierPolicy: { threshold: 3, hysteresis: 0.1 } });
    await w.graph.follow([
      { tenantId: T, authorId: 'author', followerId: 'f1', alerts: true },
      { tenantId: T, authorId: 'author', followerId: 'f2' },
      { tenantId: T, authorId: 'author', followerId: 'f3' },
    ]);
    const everyone = ['owner', 'f1', 'f2', 'f3'];
    for (const id of everyone) await w.preferences.put(consenting(user(id)));
    await registerDevices(w, everyone.map(user));
    await run(w, [comment('c1')]);
    await consume(w);
    const originals = [...w.pushCalls];
    expect(originals.map((m) => m.userId).sort()).toEqual(['f1', 'owner']);
    // Act
    await run(w, [deletionEvent(comment('c1'), NOW)]);
    await consume(w);
    // Assess: one withdrawal per push shown, same collapse id; f2 and f3 got no job at all
    const sent = withdrawals(w);
    expect(sent.map((m) => [m.userId, m.collapseId]).sort()).toEqual(
      originals.map((m) => [m.userId, m.collapseId]).sort(),
    );
    const records = await auditRecords(w);
    expect(records.filter((r) => r.userId === 'f2' || r.userId === 'f3')).toEqual([]);
  });

  it('blocks an original whose consumer read the tombstones before the retraction: never sent, nothing to withdraw', async () => {
    // Prepare: the original job still queued when the deletion fans out; its consumer's tombstone
    // read answers as it did just before the retraction landed
    const w = world({ now: NOW });
    await w.preferences.put(consenting(user('owner')));
    await registerDevices(w, [user('owner')]);
    await run(w, [comment('c2')]);
    await run(w, [deletionEvent(comment('c2'), NOW)]);
    const before = { retractedAmong: async () => new Set<string>() };
    // Act: both jobs in one batch: the withdrawal looks first, the original claims after
    const round = await consumeRound(w.queues.push, (event) =>
      consumePush(event, w.pushDeps({ retractions: before })),
    );
    // Assess
    expect(round.response.batchItemFailures).toEqual([]);
    expect(w.pushCalls).toEqual([]);
    const outcomes = (await auditRecords(w)).map((r) => r.outcome).sort();
    expect(outcomes).toEqual(['duplicate', 'not_shown']);
  });

  it('waits while the original is still being sent, then withdraws it once its lease ran out', async () => {
    // Prepare: the original push to the owner claimed but never confirmed (its sender died)
    const w = world({ now: NOW });
    await w.preferences.put(consenting(user('owner')));
    const [token] = await registerDevices(w, [user('owner')]);
    await run(w, [comment('c1')]);
    const job = JSON.parse((await w.queues.push.receive({ max: 1, visibilityTimeoutMs: 1 }))[0]!.body) as {
      notificationId: string;
    };
    await w.dedup.claim([
      { key: deliveryKey(T, job.notificationId, 'push', targetDigest(token!)), leaseMs: 60_000 },
    ]);
    // Act: the deletion comes while the claim's lease lasts
    await run(w, [deletionEvent(comment('c1'), NOW)]);
    w.clock.advance(1);
    await consume(w);
    const during = withdrawals(w).length;
    w.clock.advance(60_000);
    await consume(w);
    // Assess
    expect(during).toBe(0);
    expect(withdrawals(w)).toEqual([expect.objectContaining({ userId: 'owner', token, withdraw: true })]);
  });
});

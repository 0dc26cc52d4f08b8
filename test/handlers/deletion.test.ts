import { afterEach, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { minUlidAt } from '../../src/domain/ids.ts';
import { deletionEvent } from '../../src/domain/retraction.ts';
import type { AuthorEvent, UserKey } from '../../src/domain/types.ts';
import { catchUp } from '../../src/handlers/catch-up.ts';
import { consumeEmail } from '../../src/handlers/email-consumer.ts';
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
const NONE_EXPIRED = minUlidAt(0);
const T = 'acme';
const user = (userId: string): UserKey => ({ tenantId: T, userId });

afterEach(closeWorlds);

function comment(id: string, extra: Partial<AuthorEvent> = {}): AuthorEvent {
  return {
    tenantId: T,
    id,
    type: 'comment',
    actorId: 'author',
    objectId: 'post-1',
    recipients: ['owner'],
    occurredAt: NOW - 1000,
    acceptedAt: NOW - 1000,
    ...extra,
  };
}

async function run(w: World, events: readonly AuthorEvent[]): Promise<void> {
  const response = await fanOut(kinesisEvent(events.map((event) => ({ event }))), w.fanoutDeps());
  expect(response.batchItemFailures).toEqual([]);
}

async function itemsOf(w: World, userId: string) {
  return w.inbox.page(user(userId), { limit: 10, afterId: NONE_EXPIRED });
}

async function follow(w: World, followers: readonly string[], authorId = 'author'): Promise<void> {
  await w.graph.follow(followers.map((followerId) => ({ tenantId: T, authorId, followerId })));
}

/** Everyone in `ids` consents to both channels and has one device. */
async function reachable(w: World, ids: readonly string[]): Promise<void> {
  for (const id of ids) await w.preferences.put(consenting(user(id)));
  await registerDevices(w, ids.map(user));
}

describe('deleting an event through fan-out', () => {
  it("removes a regular author's rows from every inbox it reached and brings unread counts back", async () => {
    // Prepare
    const w = world({ now: NOW });
    await follow(w, ['f1', 'f2', 'f3']);
    const posted = comment('c1');
    await run(w, [posted, comment('c2', { occurredAt: NOW - 900, acceptedAt: NOW - 900 })]);
    for (const id of ['owner', 'f1', 'f2', 'f3']) expect(await itemsOf(w, id)).toHaveLength(2);
    // Act
    await run(w, [deletionEvent(posted, NOW)]);
    // Assess: c1 is gone everywhere, c2 stays
    for (const id of ['owner', 'f1', 'f2', 'f3']) {
      expect((await itemsOf(w, id)).map((r) => r.eventId)).toEqual(['c2']);
      expect(await w.inbox.unreadCount(user(id), NONE_EXPIRED)).toBe(1);
    }
  });

  it('audits the queued push and email jobs of a deleted event `retracted` and sends nothing', async () => {
    // Prepare: jobs queued by fan-out, not yet consumed
    const w = world({ now: NOW });
    await follow(w, ['f1']);
    await reachable(w, ['owner', 'f1']);
    const posted = comment('c1', { type: 'mention' });
    await run(w, [posted]);
    // Act
    await run(w, [deletionEvent(posted, NOW)]);
    await consumeRound(w.queues.push, (event) => consumePush(event, w.pushDeps()));
    await consumeRound(w.queues.email, (event) => consumeEmail(event, w.emailDeps()));
    // Assess
    expect(w.pushCalls).toEqual([]);
    expect(w.emailCalls).toEqual([]);
    const records = await auditRecords(w);
    const originals = records.filter((r) => r.outcome !== 'not_shown');
    expect(originals.length).toBeGreaterThan(0);
    expect(originals.every((r) => r.outcome === 'retracted' && r.reason === 'retracted')).toBe(true);
    expect(new Set(originals.map((r) => r.userId))).toEqual(new Set(['owner', 'f1']));
    // The withdrawals found that no device got the push: nothing sent, one record per device.
    const withdrawals = records.filter((r) => r.outcome === 'not_shown');
    expect(withdrawals.map((r) => r.userId).sort()).toEqual(['f1', 'owner']);
  });

  it('writes nothing for an event its deletion overtook, and keeps it out of the same batch too', async () => {
    // Prepare
    const w = world({ now: NOW });
    await follow(w, ['f1']);
    const late = comment('late');
    const sameBatch = comment('same', { occurredAt: NOW - 800, acceptedAt: NOW - 800 });
    // Act: the deletion first, the event after (a replay, or an append still in flight)
    await run(w, [deletionEvent(late, NOW)]);
    await run(w, [late]);
    await run(w, [deletionEvent(sameBatch, NOW), sameBatch]);
    // Assess
    expect(await itemsOf(w, 'owner')).toEqual([]);
    expect(await itemsOf(w, 'f1')).toEqual([]);
    // Only the deletions' withdrawals are queued (the consumer sends them nowhere: no push went out).
    const queued = await w.queues.push.receive({ max: 100, visibilityTimeoutMs: 1_000 });
    expect(queued).toHaveLength(4);
    expect(queued.every((m) => (JSON.parse(m.body) as { withdraw?: boolean }).withdraw === true)).toBe(true);
  });

  it("removes a celebrity's pointer and the rows catch-up copied, and a later catch-up copies nothing", async () => {
    // Prepare: a celebrity with three followers; f1 caught up, f2 not yet
    const w = world({ now: NOW, tierPolicy: { threshold: 3, hysteresis: 0.1 } });
    await follow(w, ['f1', 'f2', 'f3', 'owner']);
    const posted = comment('c1');
    await run(w, [posted]);
    expect(await w.feed.page(user('author'), { limit: 5, afterId: NONE_EXPIRED })).toHaveLength(1);
    await catchUp(user('f1'), w.inboxDeps());
    await catchUp(user('owner'), w.inboxDeps());
    expect(await itemsOf(w, 'f1')).toHaveLength(1);
    expect(await w.inbox.unreadCount(user('f1'), NONE_EXPIRED)).toBe(1);
    // Act
    await run(w, [deletionEvent(posted, NOW)]);
    await catchUp(user('f2'), w.inboxDeps());
    // Assess
    expect(await w.feed.page(user('author'), { limit: 5, afterId: NONE_EXPIRED })).toEqual([]);
    for (const id of ['f1', 'f2', 'owner']) expect(await itemsOf(w, id)).toEqual([]);
    expect(await w.inbox.unreadCount(user('f1'), NONE_EXPIRED)).toBe(0);
  });

  it("bounds a celebrity deletion's sweep of copied rows, and removes the pointer whatever the sweep", async () => {
    // Prepare: every follower caught up; the sweep may visit two of them
    const w = world({ now: NOW, tierPolicy: { threshold: 3, hysteresis: 0.1 } });
    await follow(w, ['f1', 'f2', 'f3', 'f4']);
    const posted = comment('c1', { recipients: [] });
    await run(w, [posted]);
    for (const id of ['f1', 'f2', 'f3', 'f4']) await catchUp(user(id), w.inboxDeps());
    // Act
    const response = await fanOut(kinesisEvent([{ event: deletionEvent(posted, NOW) }]), {
      ...w.fanoutDeps(),
      copySweepLimit: 2,
      pageSize: 1,
    });
    // Assess: the pointer is gone; two copies swept, the others left to expire
    expect(response.batchItemFailures).toEqual([]);
    expect(await w.feed.page(user('author'), { limit: 5, afterId: NONE_EXPIRED })).toEqual([]);
    const left = [];
    for (const id of ['f1', 'f2', 'f3', 'f4']) left.push((await itemsOf(w, id)).length);
    expect(left.reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('takes a deleted like out of its aggregated item, like an unlike does', async () => {
    // Prepare
    const w = world({ now: NOW });
    const like = (id: string, actorId: string) => comment(id, { type: 'like', actorId });
    const [ana, bo] = [like('l-ana', 'ana'), like('l-bo', 'bo')];
    await run(w, [ana, bo]);
    // Act
    await run(w, [deletionEvent(bo, NOW)]);
    // Assess
    const [item] = await itemsOf(w, 'owner');
    expect(item?.group).toEqual({ actors: ['ana'], actorCount: 1 });
  });

  it('is a no-op the second time', async () => {
    // Prepare
    const w = world({ now: NOW });
    await follow(w, ['f1']);
    const posted = comment('c1');
    const kept = comment('c2', { occurredAt: NOW - 900, acceptedAt: NOW - 900 });
    await run(w, [posted, kept]);
    await run(w, [deletionEvent(posted, NOW)]);
    // Act
    await run(w, [deletionEvent(posted, NOW + 1)]);
    // Assess
    expect((await itemsOf(w, 'f1')).map((r) => r.eventId)).toEqual(['c2']);
    expect(await w.inbox.unreadCount(user('f1'), NONE_EXPIRED)).toBe(1);
  });

  it("never silences another actor's event: an unlike naming it changes nothing there", async () => {
    // Prepare
    const w = world({ now: NOW });
    await reachable(w, ['owner']);
    const posted = comment('c1', { type: 'mention' });
    // Act: eve "unlikes" the author's mention, then the mention arrives
    await run(w, [comment('u1', { type: 'unmention', actorId: 'eve', retracts: 'c1' }), posted]);
    await consumeRound(w.queues.push, (event) => consumePush(event, w.pushDeps()));
    // Assess
    expect(await itemsOf(w, 'owner')).toHaveLength(1);
    expect(w.pushCalls).toHaveLength(1);
  });
});

describe('delivery of a retracted event', () => {
  it('retries the batch, sending nothing, when the tombstones cannot be read', async () => {
    // Prepare
    const w = world({ now: NOW });
    await reachable(w, ['owner']);
    await run(w, [comment('c1', { type: 'mention' })]);
    const broken = {
      retractedAmong: async (): Promise<Set<string>> => {
        throw new StoreUnavailableError('inbox down');
      },
    };
    // Act
    const round = await consumeRound(w.queues.push, (event) =>
      consumePush(event, w.pushDeps({ retractions: broken })),
    );
    // Assess
    expect(round.response.batchItemFailures).toHaveLength(1);
    expect(w.pushCalls).toEqual([]);
    expect(await auditRecords(w)).toEqual([]);
  });
});

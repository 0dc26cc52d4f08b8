import { afterEach, describe, expect, it } from 'vitest';
import type { AuthorEvent, UserKey } from '../../src/domain/types.ts';
import { catchUp } from '../../src/handlers/catch-up.ts';
import { fanOut } from '../../src/handlers/fanout.ts';
import { follow, unfollow } from '../../src/handlers/follows.ts';
import { markAllRead, readInbox, unreadCount } from '../../src/handlers/inbox.ts';
import { kinesisEvent, sequence } from '../support/events.ts';
import { closeWorlds, type World, world } from '../support/world.ts';

const NOW = Date.UTC(2026, 4, 1, 12);
const T = 'acme';

afterEach(closeWorlds);

function user(userId: string): UserKey {
  return { tenantId: T, userId };
}

let seq = 0;
/** Fans one event of `actorId` out through the real handler, now; the clock moves on. */
async function post(
  w: World,
  id: string,
  actorId: string,
  extra: Partial<AuthorEvent> = {},
): Promise<AuthorEvent> {
  const now = w.clock.now();
  const event: AuthorEvent = {
    tenantId: T,
    id,
    type: 'post',
    actorId,
    occurredAt: now,
    acceptedAt: now,
    ...extra,
  };
  const response = await fanOut(kinesisEvent([{ event, sequenceNumber: sequence(++seq) }]), w.fanoutDeps());
  expect(response.batchItemFailures).toEqual([]);
  w.clock.advance(10);
  return event;
}

async function eventIds(w: World, userId: string): Promise<string[]> {
  return (await readInbox(user(userId), { limit: 100 }, w.inboxDeps())).items.map((i) => i.eventId);
}

describe('catch-up with fan-out', () => {
  it('keeps unread counts exact while an author is promoted and demoted', async () => {
    // Prepare: celebrities from 3 followers, demoted below 2.7
    const w = world({ now: NOW, tierPolicy: { threshold: 3, hysteresis: 0.1 } });
    const edge = (followerId: string) => ({ tenantId: T, authorId: 'riser', followerId });
    await follow([edge('f0'), edge('f1')], w.inboxDeps());
    await post(w, 'E1', 'riser');
    // Act: promoted by a third follower, then demoted when that follower leaves
    await follow([edge('f2')], w.inboxDeps());
    await post(w, 'E2', 'riser');
    const promotedTier = (await w.graph.tier(user('riser')))?.tier;
    await unfollow([edge('f2')], w.inboxDeps());
    await post(w, 'E3', 'riser');
    // Assess
    expect(promotedTier).toBe('celebrity');
    expect((await w.graph.tier(user('riser')))?.tier).toBe('regular');
    expect(await eventIds(w, 'f0')).toEqual(['E3', 'E2', 'E1']);
    expect(await unreadCount(user('f0'), w.inboxDeps())).toBe(3);
    // f2 followed for E2 only, and keeps it after leaving.
    expect(await eventIds(w, 'f2')).toEqual(['E2']);
    expect(await unreadCount(user('f2'), w.inboxDeps())).toBe(1);
    await markAllRead(user('f0'), w.inboxDeps());
    expect(await unreadCount(user('f0'), w.inboxDeps())).toBe(0);
  });

  it('gives a mentioned follower a celebrity’s event once, and keeps it when they unfollow before reading', async () => {
    // Prepare
    const w = world({ now: NOW, tierPolicy: { threshold: 3, hysteresis: 0.1 } });
    await follow(
      ['fan-0', 'fan-1', 'fan-2'].map((followerId) => ({ tenantId: T, authorId: 'star', followerId })),
      w.inboxDeps(),
    );
    await post(w, 'warm-up', 'star');
    // Act: fan-0 is mentioned, so fan-out gives them no row of their own: the pointer is theirs
    await post(w, 'mention-1', 'star', { type: 'mention', recipients: ['fan-0'] });
    await unfollow([{ tenantId: T, authorId: 'star', followerId: 'fan-0' }], w.inboxDeps());
    await post(w, 'after', 'star');
    // Assess
    expect(await eventIds(w, 'fan-0')).toEqual(['mention-1', 'warm-up']);
    expect(await unreadCount(user('fan-0'), w.inboxDeps())).toBe(2);
  });

  it('writes nothing for a read with nothing new, and copies a pointer once however often it is read', async () => {
    // Prepare
    const w = world({ now: NOW, tierPolicy: { threshold: 1, hysteresis: 0.1 } });
    await follow([{ tenantId: T, authorId: 'star', followerId: 'alice' }], w.inboxDeps());
    const event = await post(w, 'p1', 'star');
    // Act
    const first = await catchUp(user('alice'), w.inboxDeps());
    const again = await catchUp(user('alice'), w.inboxDeps());
    await fanOut(kinesisEvent([{ event, sequenceNumber: sequence(++seq) }]), w.fanoutDeps());
    const replayed = await catchUp(user('alice'), w.inboxDeps());
    // Assess: a replayed event logs its pointer again, and the copy is still one row
    expect(first).toEqual({ scanned: 1, materialised: 1 });
    expect(again).toEqual({ scanned: 0, materialised: 0 });
    expect(replayed).toEqual({ scanned: 1, materialised: 0 });
    expect(await eventIds(w, 'alice')).toEqual(['p1']);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.ts';
import { parseEvent } from '../../src/domain/event.ts';
import { minUlidAt } from '../../src/domain/ids.ts';
import type { AuthorEvent, UserKey } from '../../src/domain/types.ts';
import { fanOut } from '../../src/handlers/fanout.ts';
import { kinesisEvent } from '../support/events.ts';
import { closeWorlds, type World, world } from '../support/world.ts';

const NOW = Date.UTC(2026, 4, 1, 12);
const NONE_EXPIRED = minUlidAt(0);
const T = 'acme';
const OWNER: UserKey = { tenantId: T, userId: 'owner' };

afterEach(closeWorlds);

function like(id: string, actorId: string, extra: Partial<AuthorEvent> = {}): AuthorEvent {
  return {
    tenantId: T,
    id,
    type: 'like',
    actorId,
    objectId: 'post-1',
    recipients: ['owner'],
    occurredAt: NOW - 1000,
    acceptedAt: NOW - 1000,
    ...extra,
  };
}

function unlike(id: string, actorId: string, retracts: string): AuthorEvent {
  return like(id, actorId, { type: 'unlike', retracts, occurredAt: NOW - 500, acceptedAt: NOW - 500 });
}

async function run(w: World, events: readonly AuthorEvent[]): Promise<void> {
  const response = await fanOut(kinesisEvent(events.map((event) => ({ event }))), w.fanoutDeps());
  expect(response.batchItemFailures).toEqual([]);
}

async function ownerItems(w: World) {
  return w.inbox.page(OWNER, { limit: 10, afterId: NONE_EXPIRED });
}

describe('retraction through fan-out', () => {
  it('takes an unliking actor out of the owner’s item and of their followers’ items, notifying nobody', async () => {
    // Prepare: bo has a follower, who sees bo's like too
    const w = world({ now: NOW });
    await w.graph.follow([{ tenantId: T, authorId: 'bo', followerId: 'fan' }]);
    await run(w, [like('l-ana', 'ana'), like('l-bo', 'bo'), like('l-cy', 'cy')]);
    const jobsBefore = await w.queues.push.depth();
    // Act: bo unlikes, in the same batch as a new like, and the unlike is re-delivered
    await run(w, [
      unlike('u-bo', 'bo', 'l-bo'),
      like('l-di', 'di', { occurredAt: NOW - 800, acceptedAt: NOW - 800 }),
    ]);
    await run(w, [unlike('u-bo', 'bo', 'l-bo')]);
    // Assess
    const items = await ownerItems(w);
    expect(items).toHaveLength(1);
    expect(items[0]!.group).toEqual({ actors: ['di', 'ana', 'cy'], actorCount: 3 });
    expect(await w.inbox.page({ tenantId: T, userId: 'fan' }, { limit: 10, afterId: NONE_EXPIRED })).toEqual(
      [],
    );
    expect(await w.queues.push.depth()).toEqual({ ...jobsBefore, visible: jobsBefore.visible + 1 });
  });

  it('removes the item when its only like is taken back, and a retraction of an unknown event is a no-op', async () => {
    // Prepare
    const w = world({ now: NOW });
    await run(w, [like('l-ana', 'ana')]);
    // Act
    await run(w, [unlike('u-x', 'ana', 'never-seen'), unlike('u-bo', 'bo', 'l-ana')]);
    const still = await ownerItems(w);
    await run(w, [unlike('u-ana', 'ana', 'l-ana')]);
    // Assess: another actor cannot take ana's like back; ana can
    expect(still[0]!.group?.actorCount).toBe(1);
    expect(await ownerItems(w)).toEqual([]);
    expect(await w.inbox.unreadCount(OWNER, NONE_EXPIRED)).toBe(0);
  });

  it('refuses a retracting event without its object, or retracting itself, with a ValidationError', () => {
    // Act / Assess
    const base = { id: 'u1', type: 'unlike', actorId: 'ana' };
    expect(() => parseEvent({ ...base, retracts: 'l1' }, T, NOW)).toThrow(ValidationError);
    expect(() => parseEvent({ ...base, objectId: 'post-1', retracts: 'u1' }, T, NOW)).toThrow(
      ValidationError,
    );
    expect(() => parseEvent({ ...base, objectId: 'post-1', retracts: 'bad id!' }, T, NOW)).toThrow(
      ValidationError,
    );
    expect(parseEvent({ ...base, objectId: 'post-1', retracts: 'l1' }, T, NOW)).toMatchObject({
      retracts: 'l1',
    });
  });
});

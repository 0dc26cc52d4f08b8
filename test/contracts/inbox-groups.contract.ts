import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { minUlidAt } from '../../src/domain/ids.ts';
import type { InboxRow, UserKey } from '../../src/domain/types.ts';
import { inboxRow as row } from '../support/rows.ts';
import type { InboxHarness } from './inbox.contract.ts';

const T0 = Date.UTC(2026, 0, 1);
/** A TTL bound below every id the suite writes: nothing is expired. */
const NONE_EXPIRED = minUlidAt(0);
const ALICE: UserKey = { tenantId: 'acme', userId: 'alice' };
const BOB: UserKey = { tenantId: 'acme', userId: 'bob' };
const POST = 'like\u001fpost-1';

/** `actor` liking post-1 in `user`'s inbox through event `eventId` at T0 + ms. */
function like(user: UserKey, eventId: string, actor: string, ms: number, group = POST): InboxRow {
  return row(user, eventId, T0 + ms, { type: 'like', actorId: actor, objectId: 'post-1', groupKey: group });
}

/**
 * The Inbox port's aggregated items: one item per (user, group) with the exact number of distinct
 * actors and the newest ones, effectively once per actor; the item moves to the top and becomes
 * unread when a new actor joins; unread counts count it once.
 */
export function inboxGroupsContract(name: string, make: () => Promise<InboxHarness>): void {
  describe(`Inbox contract (aggregated items): ${name}`, () => {
    let h: InboxHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    it('folds likes of one post into one item with the exact count and the newest three actors', async () => {
      // Prepare
      const likes = ['ana', 'bo', 'cy', 'di', 'ed'].map((a, i) => like(ALICE, `l${i}`, a, 10 + i));
      // Act
      await h.inbox.putMany(likes);
      const page = await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED });
      // Assess
      expect(page).toHaveLength(1);
      expect(page[0]).toMatchObject({
        id: likes[4]!.id,
        eventId: 'l4',
        actorId: 'ed',
        groupKey: POST,
        read: false,
        group: { actors: ['ed', 'di', 'cy'], actorCount: 5 },
      });
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(1);
    });

    it('counts a re-delivered event and a second like by the same actor once', async () => {
      // Prepare
      const first = [like(ALICE, 'l1', 'ana', 10), like(ALICE, 'l2', 'bo', 20)];
      await h.inbox.putMany(first);
      await h.inbox.markAllRead(ALICE, first[1]!.id);
      // Act: the same rows again, and ana liking again through another event
      await h.inbox.putMany(first);
      await h.inbox.putMany([like(ALICE, 'l3', 'ana', 30), like(ALICE, 'l3', 'ana', 30)]);
      const page = await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED });
      // Assess: nothing new joined, so the item neither moved nor became unread
      expect(page).toHaveLength(1);
      expect(page[0]).toMatchObject({ id: first[1]!.id, read: true, group: { actorCount: 2 } });
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(0);
    });

    it('moves a read item to the top, unread, when a new actor joins', async () => {
      // Prepare: the group's item under a newer comment, all read
      const ana = like(ALICE, 'l1', 'ana', 10);
      const comment = row(ALICE, 'c1', T0 + 20);
      await h.inbox.putMany([ana, comment]);
      await h.inbox.markAllRead(ALICE, comment.id);
      // Act
      const bo = like(ALICE, 'l2', 'bo', 30);
      await h.inbox.putMany([bo]);
      const page = await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED });
      // Assess
      expect(page.map((r) => r.id)).toEqual([bo.id, comment.id]);
      expect(page[0]).toMatchObject({
        read: false,
        actorId: 'bo',
        group: { actors: ['bo', 'ana'], actorCount: 2 },
      });
      expect(await h.inbox.has(ALICE, ana.id)).toBe(false);
      expect(await h.inbox.has(ALICE, bo.id)).toBe(true);
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(1);
    });

    it('keeps the place of an item a late, older like joins, and makes it unread', async () => {
      // Prepare
      const bo = like(ALICE, 'l2', 'bo', 30);
      await h.inbox.putMany([bo]);
      await h.inbox.markRead(ALICE, [{ id: bo.id }]);
      // Act
      await h.inbox.putMany([like(ALICE, 'l1', 'ana', 10)]);
      const page = await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED });
      // Assess
      expect(page).toHaveLength(1);
      expect(page[0]).toMatchObject({
        id: bo.id,
        read: false,
        group: { actors: ['bo', 'ana'], actorCount: 2 },
      });
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(1);
    });

    it('keeps groups apart per object, per user and per tenant, beside ungrouped rows', async () => {
      // Prepare
      const other: UserKey = { tenantId: 'other', userId: 'alice' };
      const rows = [
        like(ALICE, 'l1', 'ana', 10),
        like(ALICE, 'l2', 'bo', 11, 'like\u001fpost-2'),
        like(BOB, 'l1', 'ana', 12),
        like(other, 'l1', 'ana', 13),
        like(ALICE, 'l3', 'cy', 14),
        row(ALICE, 'c1', T0 + 15),
      ];
      // Act
      await h.inbox.putMany(rows);
      const alice = await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED });
      const bob = await h.inbox.page(BOB, { limit: 10, afterId: NONE_EXPIRED });
      const foreign = await h.inbox.page(other, { limit: 10, afterId: NONE_EXPIRED });
      // Assess
      expect(alice.map((r) => [r.eventId, r.group?.actorCount ?? null])).toEqual([
        ['c1', null],
        ['l3', 2],
        ['l2', 1],
      ]);
      expect(bob.map((r) => r.group?.actorCount)).toEqual([1]);
      expect(foreign.map((r) => r.group?.actorCount)).toEqual([1]);
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(3);
    });

    it('counts 300 distinct actors sent in batches, with re-sends, exactly once each', async () => {
      // Prepare
      const likes = Array.from({ length: 300 }, (_, i) => like(ALICE, `l${i}`, `u${i}`, i));
      // Act: batches of 100, every batch sent twice, and 50 second likes by the same actors
      for (let i = 0; i < likes.length; i += 100) {
        const batch = likes.slice(i, i + 100);
        await h.inbox.putMany(batch);
        await h.inbox.putMany(batch);
      }
      await h.inbox.putMany(
        Array.from({ length: 50 }, (_, i) => like(ALICE, `again${i}`, `u${i}`, 2000 + i)),
      );
      const page = await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED });
      // Assess
      expect(page).toHaveLength(1);
      expect(page[0]!.group).toEqual({ actors: ['u299', 'u298', 'u297'], actorCount: 300 });
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(1);
    });

    it('lets a reader paging down see every item that does not move exactly once', async () => {
      // Prepare: 12 comments with a group's item in the middle
      const comments = Array.from({ length: 12 }, (_, i) => row(ALICE, `c${i}`, T0 + i * 10));
      const ana = like(ALICE, 'l1', 'ana', 55);
      await h.inbox.putMany([...comments, ana]);
      // Act: page 1, then a new like moves the item to the top, then the rest
      const first = await h.inbox.page(ALICE, { limit: 4, afterId: NONE_EXPIRED });
      await h.inbox.putMany([like(ALICE, 'l2', 'bo', 500)]);
      const seen = [...first];
      for (;;) {
        const page = await h.inbox.page(ALICE, {
          limit: 4,
          afterId: NONE_EXPIRED,
          beforeId: seen.at(-1)!.id,
        });
        if (page.length === 0) break;
        seen.push(...page);
      }
      const top = await h.inbox.page(ALICE, { limit: 1, afterId: NONE_EXPIRED });
      // Assess: every comment once, in order; the moved item is at the top of the next read
      expect(seen.filter((r) => r.groupKey === undefined).map((r) => r.eventId)).toEqual(
        comments.map((c) => c.eventId).reverse(),
      );
      expect(top[0]).toMatchObject({ eventId: 'l2', group: { actorCount: 2 } });
    });

    it('takes a retracted like’s actor out of the item, keeping its place and read state', async () => {
      // Prepare
      const likes = ['ana', 'bo', 'cy', 'di'].map((a, i) => like(ALICE, `l${i}`, a, 10 + i));
      await h.inbox.putMany(likes);
      await h.inbox.markAllRead(ALICE, likes[3]!.id);
      // Act: cy unlikes; a retraction through another event of cy's is nothing
      const wrongEvent = await h.inbox.retractFromGroup(ALICE, POST, 'cy', 'l9');
      const taken = await h.inbox.retractFromGroup(ALICE, POST, 'cy', 'l2');
      const again = await h.inbox.retractFromGroup(ALICE, POST, 'cy', 'l2');
      const page = await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED });
      // Assess
      expect([wrongEvent, taken, again]).toEqual([false, true, false]);
      expect(page).toHaveLength(1);
      expect(page[0]).toMatchObject({ id: likes[3]!.id, read: true, group: { actorCount: 3 } });
      expect(page[0]!.group!.actors).not.toContain('cy');
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(0);
    });

    it('removes the item when its last actor is retracted, and starts afresh on the next like', async () => {
      // Prepare
      const ana = like(ALICE, 'l1', 'ana', 10);
      await h.inbox.putMany([ana, row(ALICE, 'c1', T0 + 5)]);
      // Act
      const taken = await h.inbox.retractFromGroup(ALICE, POST, 'ana', 'l1');
      const afterRetract = await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED });
      const unread = await h.inbox.unreadCount(ALICE, NONE_EXPIRED);
      await h.inbox.putMany([like(ALICE, 'l2', 'ana', 20)]);
      const relike = await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED });
      // Assess
      expect(taken).toBe(true);
      expect(afterRetract.map((r) => r.eventId)).toEqual(['c1']);
      expect(await h.inbox.has(ALICE, ana.id)).toBe(false);
      expect(unread).toBe(1);
      expect(relike[0]).toMatchObject({
        eventId: 'l2',
        read: false,
        group: { actors: ['ana'], actorCount: 1 },
      });
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(2);
    });

    it('retracts nothing in a group that does not exist or of another user', async () => {
      // Prepare
      await h.inbox.putMany([like(ALICE, 'l1', 'ana', 10)]);
      // Act / Assess
      expect(await h.inbox.retractFromGroup(BOB, POST, 'ana', 'l1')).toBe(false);
      expect(await h.inbox.retractFromGroup(ALICE, 'like\u001fpost-9', 'ana', 'l1')).toBe(false);
      expect((await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED }))[0]!.group?.actorCount).toBe(1);
    });
  });
}

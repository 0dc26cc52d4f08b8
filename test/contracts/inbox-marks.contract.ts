import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.ts';
import { minUlidAt, notificationId, POINTER_RECIPIENT } from '../../src/domain/ids.ts';
import type { InboxRow, UserKey } from '../../src/domain/types.ts';
import type { Inbox, InboxStatus } from '../../src/ports/inbox.ts';
import { inboxRow as row } from '../support/rows.ts';
import type { InboxHarness } from './inbox.contract.ts';

const T0 = Date.UTC(2026, 0, 1);
/** A TTL bound below every id the suite writes: nothing is expired. */
const NONE_EXPIRED = minUlidAt(0);
const ALICE: UserKey = { tenantId: 'acme', userId: 'alice' };
const BOB: UserKey = { tenantId: 'acme', userId: 'bob' };
const OTHER_ALICE: UserKey = { tenantId: 'globex', userId: 'alice' };
const POST = 'like\u001fpost-1';

/** Rows of `user`, one per ms from T0, oldest first. */
function rows(user: UserKey, n: number): InboxRow[] {
  return Array.from({ length: n }, (_, i) => row(user, `e${i}`, T0 + i));
}

/** `actor` liking post-1 in `user`'s inbox through event `eventId` at T0 + ms. */
function like(user: UserKey, eventId: string, actor: string, ms: number): InboxRow {
  return row(user, eventId, T0 + ms, { type: 'like', actorId: actor, objectId: 'post-1', groupKey: POST });
}

/** The ids of every page of one tab, each page before the last id of the previous one. */
async function tab(inbox: Inbox, user: UserKey, status: InboxStatus, limit = 100): Promise<string[]> {
  const ids: string[] = [];
  let beforeId: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await inbox.page(user, {
      limit,
      afterId: NONE_EXPIRED,
      status,
      ...(beforeId === undefined ? {} : { beforeId }),
    });
    if (page.length === 0) return ids;
    ids.push(...page.map((r) => r.id));
    beforeId = page.at(-1)!.id;
  }
  throw new Error('paging does not end');
}

function newestFirst(list: readonly InboxRow[]): string[] {
  return list
    .map((r) => r.id)
    .sort()
    .reverse();
}

/**
 * The Inbox port's tabs and marks: mark unread, archive (which reads) and unarchive, idempotent
 * and exact on the unread count; the All / Unread / Archived pages; the seen watermark and the
 * capped unseen count; an archived aggregated item coming back with new activity; and every mark
 * confined to its own user and tenant.
 */
export function inboxMarksContract(name: string, make: () => Promise<InboxHarness>): void {
  describe(`Inbox contract (tabs and marks): ${name}`, () => {
    let h: InboxHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    const count = (user: UserKey = ALICE) => h.inbox.unreadCount(user, NONE_EXPIRED);

    it('marks a read row unread once: the count goes up by one, however often it is asked', async () => {
      // Prepare
      const written = rows(ALICE, 3);
      await h.inbox.putMany(written);
      await h.inbox.markAllRead(ALICE, written[2]!.id);
      expect(await count()).toBe(0);
      // Act
      await h.inbox.markUnread(ALICE, [written[1]!.id]);
      await h.inbox.markUnread(ALICE, [written[1]!.id, written[1]!.id]);
      // Assess
      expect(await count()).toBe(1);
      expect(await tab(h.inbox, ALICE, 'unread')).toEqual([written[1]!.id]);
      const [newest, middle] = await h.inbox.page(ALICE, { limit: 2, afterId: NONE_EXPIRED });
      expect(newest?.read).toBe(true);
      expect(middle?.read).toBe(false);
    });

    it('archives a row: it is read, out of All and Unread, in Archived; twice is once', async () => {
      // Prepare
      const written = rows(ALICE, 3);
      await h.inbox.putMany(written);
      await count();
      // Act
      await h.inbox.archive(ALICE, [written[1]!.id]);
      await h.inbox.archive(ALICE, [written[1]!.id]);
      // Assess
      expect(await count()).toBe(2);
      expect(await tab(h.inbox, ALICE, 'all')).toEqual([written[2]!.id, written[0]!.id]);
      expect(await tab(h.inbox, ALICE, 'unread')).toEqual([written[2]!.id, written[0]!.id]);
      const archived = await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED, status: 'archived' });
      expect(archived.map((r) => r.id)).toEqual([written[1]!.id]);
      expect(archived[0]).toMatchObject({ read: true, archived: true });
      // The default page is All.
      const plain = await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED });
      expect(plain.map((r) => r.id)).toEqual([written[2]!.id, written[0]!.id]);
    });

    it('archives a read row without touching the count, and unarchives it back into All, read', async () => {
      // Prepare
      const written = rows(ALICE, 2);
      await h.inbox.putMany(written);
      await h.inbox.markRead(ALICE, [{ id: written[0]!.id }]);
      await h.inbox.archive(ALICE, [written[0]!.id]);
      expect(await count()).toBe(1);
      // Act
      await h.inbox.unarchive(ALICE, [written[0]!.id]);
      await h.inbox.unarchive(ALICE, [written[0]!.id]);
      // Assess
      expect(await count()).toBe(1);
      expect(await tab(h.inbox, ALICE, 'archived')).toEqual([]);
      const all = await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED });
      expect(all.map((r) => [r.id, r.read, r.archived === true])).toEqual([
        [written[1]!.id, false, false],
        [written[0]!.id, true, false],
      ]);
    });

    it('marks an archived row unread: back in All and Unread, and counted', async () => {
      // Prepare
      const written = rows(ALICE, 2);
      await h.inbox.putMany(written);
      await h.inbox.archive(ALICE, [written[0]!.id]);
      expect(await count()).toBe(1);
      // Act
      await h.inbox.markUnread(ALICE, [written[0]!.id]);
      // Assess
      expect(await count()).toBe(2);
      expect(await tab(h.inbox, ALICE, 'archived')).toEqual([]);
      expect(await tab(h.inbox, ALICE, 'unread')).toEqual(newestFirst(written));
    });

    it('keeps the count exact through any sequence of marks', async () => {
      // Prepare
      const written = rows(ALICE, 12);
      await h.inbox.putMany(written);
      const unread = new Set(written.map((r) => r.id));
      const ids = written.map((r) => r.id);
      const steps: [keyof Pick<Inbox, 'markUnread' | 'archive' | 'unarchive'> | 'read', number][] = [
        ['archive', 0],
        ['read', 1],
        ['markUnread', 1],
        ['archive', 2],
        ['markUnread', 2],
        ['archive', 2],
        ['unarchive', 2],
        ['markUnread', 3],
        ['archive', 11],
        ['read', 10],
        ['markUnread', 0],
      ];
      // Act / Assess: the count after every step is the number of rows that should be unread
      for (const [mark, i] of steps) {
        const id = ids[i]!;
        if (mark === 'read') await h.inbox.markRead(ALICE, [{ id }]);
        else await h.inbox[mark](ALICE, [id]);
        if (mark === 'markUnread') unread.add(id);
        else if (mark !== 'unarchive') unread.delete(id);
        expect(await count(), `after ${mark} ${i}`).toBe(unread.size);
      }
      expect(await tab(h.inbox, ALICE, 'unread')).toEqual([...unread].sort().reverse());
    });

    it('pages each tab newest first under its own bound, never repeating or skipping', async () => {
      // Prepare: 30 rows, every third archived, every other of the rest read
      const written = rows(ALICE, 30);
      await h.inbox.putMany(written);
      const archived = written.filter((_, i) => i % 3 === 0);
      const read = written.filter((_, i) => i % 3 !== 0 && i % 2 === 0);
      await h.inbox.archive(
        ALICE,
        archived.map((r) => r.id),
      );
      await h.inbox.markRead(
        ALICE,
        read.map((r) => ({ id: r.id })),
      );
      const all = written.filter((_, i) => i % 3 !== 0);
      const unread = all.filter((r) => !read.includes(r));
      // Act
      const pages = await Promise.all([
        tab(h.inbox, ALICE, 'all', 4),
        tab(h.inbox, ALICE, 'unread', 4),
        tab(h.inbox, ALICE, 'archived', 4),
      ]);
      // Assess
      expect(pages).toEqual([newestFirst(all), newestFirst(unread), newestFirst(archived)]);
      expect(await count()).toBe(unread.length);
    });

    it('refuses an unknown status with a ValidationError', async () => {
      // Act / Assess
      await expect(
        h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED, status: 'starred' as InboxStatus }),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(h.inbox.archive(ALICE, [''])).rejects.toBeInstanceOf(ValidationError);
      await expect(h.inbox.unseenCount(ALICE, NONE_EXPIRED, 0)).rejects.toBeInstanceOf(ValidationError);
    });

    it('keeps a seen watermark that only rises, and counts the unseen rows of All above it', async () => {
      // Prepare
      const written = rows(ALICE, 5);
      await h.inbox.putMany(written);
      expect(await h.inbox.seenMark(ALICE)).toBeUndefined();
      expect(await h.inbox.unseenCount(ALICE, NONE_EXPIRED, 100)).toBe(5);
      // Act
      await h.inbox.markSeen(ALICE, written[2]!.id);
      await h.inbox.markSeen(ALICE, written[0]!.id);
      await h.inbox.archive(ALICE, [written[4]!.id]);
      // Assess: rows 3 and 4 are above the mark; 4 is archived
      expect(await h.inbox.seenMark(ALICE)).toBe(written[2]!.id);
      expect(await h.inbox.unseenCount(ALICE, NONE_EXPIRED, 100)).toBe(1);
      // The TTL bound counts too: nothing newer than row 3 but row 4, archived.
      expect(await h.inbox.unseenCount(ALICE, written[3]!.id, 100)).toBe(0);
    });

    it('counts unseen rows up to the cap', async () => {
      // Prepare
      await h.inbox.putMany(rows(ALICE, 12));
      // Act / Assess
      expect(await h.inbox.unseenCount(ALICE, NONE_EXPIRED, 5)).toBe(5);
      expect(await h.inbox.unseenCount(ALICE, NONE_EXPIRED, 12)).toBe(12);
      expect(await h.inbox.unseenCount(ALICE, NONE_EXPIRED, 100)).toBe(12);
    });

    it('brings an archived aggregated item back, unread and unseen, when a new actor joins', async () => {
      // Prepare
      const first = [like(ALICE, 'l1', 'ana', 10), like(ALICE, 'l2', 'bo', 20)];
      await h.inbox.putMany(first);
      await h.inbox.archive(ALICE, [first[1]!.id]);
      await h.inbox.markSeen(ALICE, first[1]!.id);
      expect(await count()).toBe(0);
      expect(await tab(h.inbox, ALICE, 'all')).toEqual([]);
      // Act
      const joined = like(ALICE, 'l3', 'cy', 30);
      await h.inbox.putMany([joined]);
      // Assess
      expect(await tab(h.inbox, ALICE, 'archived')).toEqual([]);
      const [item] = await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED, status: 'unread' });
      expect(item).toMatchObject({ id: joined.id, read: false, group: { actorCount: 3 } });
      expect(item?.archived).not.toBe(true);
      expect(await count()).toBe(1);
      expect(await h.inbox.unseenCount(ALICE, NONE_EXPIRED, 100)).toBe(1);
    });

    it('brings an archived aggregated item back in place when the new activity is older', async () => {
      // Prepare
      const first = like(ALICE, 'l2', 'bo', 20);
      await h.inbox.putMany([first]);
      await h.inbox.archive(ALICE, [first.id]);
      // Act: a late like, older than the item
      await h.inbox.putMany([like(ALICE, 'l1', 'ana', 10)]);
      // Assess
      expect(await tab(h.inbox, ALICE, 'archived')).toEqual([]);
      expect(await tab(h.inbox, ALICE, 'unread')).toEqual([first.id]);
      expect(await count()).toBe(1);
    });

    it('writes caught-up pointers unarchived, seen when at or below the seen watermark', async () => {
      // Prepare
      const own = rows(ALICE, 3);
      await h.inbox.putMany(own);
      await h.inbox.markSeen(ALICE, own[2]!.id);
      const pointer = (eventId: string, at: number): InboxRow => ({
        ...row(ALICE, eventId, at, { actorId: 'star', type: 'post', category: 'content' }),
        id: notificationId(eventId, POINTER_RECIPIENT, at),
        source: 'celebrity',
      });
      const older = pointer('p-old', T0 + 1);
      const newer = pointer('p-new', T0 + 50);
      // Act
      await h.inbox.materialise(ALICE, [older, newer], { from: undefined, to: 'm1' });
      // Assess
      expect(await tab(h.inbox, ALICE, 'all')).toContain(older.id);
      expect(await tab(h.inbox, ALICE, 'archived')).toEqual([]);
      expect(await h.inbox.unseenCount(ALICE, NONE_EXPIRED, 100)).toBe(1);
      expect(await count()).toBe(5);
    });

    it('confines every mark to its own user and tenant', async () => {
      // Prepare
      const mine = rows(ALICE, 2);
      const bobs = rows(BOB, 2);
      const namesake = rows(OTHER_ALICE, 2);
      await h.inbox.putMany([...mine, ...bobs, ...namesake]);
      // Act: alice marks ids of bob's and of the other tenant's alice
      const foreign = [...bobs, ...namesake].map((r) => r.id);
      await h.inbox.archive(ALICE, foreign);
      await h.inbox.markUnread(ALICE, foreign);
      await h.inbox.markSeen(ALICE, mine[1]!.id);
      await h.inbox.markRead(BOB, [{ id: bobs[0]!.id }]);
      await h.inbox.markUnread(ALICE, [bobs[0]!.id]);
      // Assess
      expect(await count(BOB)).toBe(1);
      expect(await count(OTHER_ALICE)).toBe(2);
      expect(await count()).toBe(2);
      expect(await tab(h.inbox, BOB, 'archived')).toEqual([]);
      expect(await tab(h.inbox, OTHER_ALICE, 'archived')).toEqual([]);
      expect(await tab(h.inbox, ALICE, 'all')).toEqual(newestFirst(mine));
      expect(await h.inbox.seenMark(BOB)).toBeUndefined();
      expect(await h.inbox.seenMark(OTHER_ALICE)).toBeUndefined();
      expect(await h.inbox.unseenCount(OTHER_ALICE, NONE_EXPIRED, 100)).toBe(2);
      expect(await h.inbox.unseenCount(ALICE, NONE_EXPIRED, 100)).toBe(0);
    });
  });
}

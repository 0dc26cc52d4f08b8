import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedCelebrityFeed } from '../../src/adapters/embedded/celebrity-feed.ts';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedFollowerGraph } from '../../src/adapters/embedded/follower-graph.ts';
import { EmbeddedInbox } from '../../src/adapters/embedded/inbox.ts';
import { createCursorCodec } from '../../src/domain/cursor.ts';
import { InvalidCursorError, NotFoundError, ValidationError } from '../../src/domain/errors.ts';
import { notificationId, POINTER_RECIPIENT } from '../../src/domain/ids.ts';
import { INBOX_TTL_MS } from '../../src/domain/ttl.ts';
import type { CelebrityPointer, UserKey } from '../../src/domain/types.ts';
import { type InboxDeps, markAllRead, markRead, readInbox, unreadCount } from '../../src/handlers/inbox.ts';
import { inboxRow as row } from '../support/rows.ts';

const NOW = Date.UTC(2026, 4, 1, 12);
const DAY = 24 * 60 * 60 * 1000;
const ALICE: UserKey = { tenantId: 'acme', userId: 'alice' };

interface World extends InboxDeps {
  readonly db: EmbeddedDb;
  readonly graph: EmbeddedFollowerGraph;
  readonly inbox: EmbeddedInbox;
  readonly feed: EmbeddedCelebrityFeed;
  now: number;
}

const worlds: EmbeddedDb[] = [];
afterEach(() => {
  for (const db of worlds.splice(0)) db.close();
});

function world(): World {
  const db = new EmbeddedDb({ path: ':memory:' });
  worlds.push(db);
  const w: World = {
    db,
    graph: new EmbeddedFollowerGraph({ db }),
    inbox: new EmbeddedInbox({ db }),
    feed: new EmbeddedCelebrityFeed({ db }),
    cursors: createCursorCodec('inbox-test-secret'),
    clock: { now: () => w.now },
    now: NOW,
  };
  return w;
}

function pointer(tenantId: string, authorId: string, eventId: string, createdAt: number): CelebrityPointer {
  return {
    tenantId,
    authorId,
    id: notificationId(eventId, POINTER_RECIPIENT, createdAt),
    eventId,
    type: 'post',
    category: 'content',
    createdAt,
  };
}

/** `user` follows `author`, who is (or was) a celebrity. */
async function followCelebrity(w: World, user: UserKey, author: string): Promise<void> {
  await w.graph.follow([{ tenantId: user.tenantId, authorId: author, followerId: user.userId }]);
  await w.graph.setTier({ tenantId: user.tenantId, userId: author }, { tier: 'celebrity', changedAt: NOW });
}

/** Every page, following cursors until there is none; fails on a page loop. */
async function readAll(w: World, user: UserKey, limit: number, maxPages: number) {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await readInbox(user, { limit, ...(cursor ? { cursor } : {}) }, w);
    pages.push(page.items.map((i) => i.id));
    cursor = page.nextCursor ?? undefined;
    if (pages.length > maxPages) throw new Error('too many pages');
  } while (cursor !== undefined);
  return pages;
}

describe('readInbox', () => {
  it('merges the user’s rows with the pointers of followed celebrities, newest first', async () => {
    // Prepare
    const w = world();
    await followCelebrity(w, ALICE, 'star');
    await w.inbox.putMany([row(ALICE, 'e1', NOW - 3000), row(ALICE, 'e3', NOW - 1000)]);
    await w.feed.put([pointer('acme', 'star', 'p2', NOW - 2000), pointer('acme', 'nobody', 'p4', NOW)]);
    // Act
    const page = await readInbox(ALICE, {}, w);
    // Assess
    expect(page.items.map((i) => [i.eventId, i.source, i.actorId])).toEqual([
      ['e3', 'row', 'bob'],
      ['p2', 'celebrity', 'star'],
      ['e1', 'row', 'bob'],
    ]);
    expect(page.nextCursor).toBeNull();
  });

  it('never repeats or skips an item across pages of rows and several celebrities', async () => {
    const item = fc.record({
      // Which source: the user's own rows (0), a followed celebrity (1..3), one not followed (4).
      source: fc.integer({ min: 0, max: 4 }),
      // Some items are past the TTL; equal times exercise the random part of the ULID.
      ageMs: fc.oneof(
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: INBOX_TTL_MS - 2, max: INBOX_TTL_MS + 2 }),
      ),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(item, { maxLength: 40 }),
        fc.integer({ min: 1, max: 7 }),
        async (items, limit) => {
          // Prepare
          const w = world();
          for (const star of ['s1', 's2', 's3']) await followCelebrity(w, ALICE, star);
          const expected: string[] = [];
          for (const [n, { source, ageMs }] of items.entries()) {
            const createdAt = NOW - ageMs;
            const live = ageMs < INBOX_TTL_MS;
            if (source === 0) {
              const r = row(ALICE, `e${n}`, createdAt);
              await w.inbox.putMany([r]);
              if (live) expected.push(r.id);
            } else {
              const p = pointer('acme', source === 4 ? 'stranger' : `s${source}`, `e${n}`, createdAt);
              await w.feed.put([p]);
              if (live && source !== 4) expected.push(p.id);
            }
          }
          // Act
          const pages = await readAll(w, ALICE, limit, expected.length + 2);
          // Assess
          expect(pages.flat()).toEqual(expected.sort().reverse());
          for (const page of pages.slice(0, -1)) expect(page).toHaveLength(limit);
          // nextCursor is null on the last page: no trailing empty page after a full one
          expect(pages).toHaveLength(Math.max(1, Math.ceil(expected.length / limit)));
          w.db.close();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('never returns rows or pointers past the 90-day TTL, stored or not', async () => {
    // Prepare
    const w = world();
    await followCelebrity(w, ALICE, 'star');
    await w.inbox.putMany([row(ALICE, 'old', NOW - INBOX_TTL_MS - 1), row(ALICE, 'new', NOW - DAY)]);
    await w.feed.put([
      pointer('acme', 'star', 'old-p', NOW - 91 * DAY),
      pointer('acme', 'star', 'new-p', NOW - DAY),
    ]);
    // Act
    const page = await readInbox(ALICE, {}, w);
    const count = await unreadCount(ALICE, w);
    // Assess
    expect(page.items.map((i) => i.eventId).sort()).toEqual(['new', 'new-p']);
    expect(count).toBe(2);
  });

  it('lets a row expire while the user is paging', async () => {
    // Prepare
    const w = world();
    await w.inbox.putMany([
      row(ALICE, 'a', NOW - INBOX_TTL_MS + 10),
      row(ALICE, 'b', NOW - INBOX_TTL_MS + 20),
    ]);
    await w.inbox.putMany([row(ALICE, 'c', NOW)]);
    const first = await readInbox(ALICE, { limit: 1 }, w);
    // Act
    w.now = NOW + 15;
    const rest = await readInbox(ALICE, { limit: 5, cursor: first.nextCursor! }, w);
    // Assess
    expect(first.items.map((i) => i.eventId)).toEqual(['c']);
    expect(rest.items.map((i) => i.eventId)).toEqual(['b']);
  });

  it.each([0, 101, 2.5, Number.NaN])('rejects a limit of %s', async (limit) => {
    const w = world();
    await expect(readInbox(ALICE, { limit }, w)).rejects.toBeInstanceOf(ValidationError);
  });

  it('rejects the cursor of another user of the same tenant', async () => {
    // Prepare
    const w = world();
    const bob: UserKey = { tenantId: 'acme', userId: 'bob' };
    await w.inbox.putMany([row(bob, 'e1', NOW - 2), row(bob, 'e2', NOW - 1)]);
    const bobs = await readInbox(bob, { limit: 1 }, w);
    // Act
    const reading = readInbox(ALICE, { limit: 1, cursor: bobs.nextCursor! }, w);
    // Assess
    expect(bobs.nextCursor).not.toBeNull();
    await expect(reading).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it('rejects a tampered cursor', async () => {
    // Prepare
    const w = world();
    await w.inbox.putMany([row(ALICE, 'e1', NOW - 2), row(ALICE, 'e2', NOW - 1)]);
    const { nextCursor } = await readInbox(ALICE, { limit: 1 }, w);
    const tampered = `${nextCursor!.slice(0, -2)}${nextCursor!.endsWith('AA') ? 'BB' : 'AA'}`;
    // Act
    const reading = readInbox(ALICE, { cursor: tampered }, w);
    // Assess
    await expect(reading).rejects.toBeInstanceOf(InvalidCursorError);
  });
});

describe('unread count and marking read', () => {
  async function aliceWithRowsAndPointers() {
    const w = world();
    await followCelebrity(w, ALICE, 'star');
    await followCelebrity(w, ALICE, 'idol');
    const rows = [row(ALICE, 'r1', NOW - 5000), row(ALICE, 'r2', NOW - 4000)];
    const pointers = [
      pointer('acme', 'star', 'p1', NOW - 3000),
      pointer('acme', 'idol', 'p2', NOW - 2000),
      pointer('acme', 'idol', 'p3', NOW - 1000),
    ];
    await w.inbox.putMany(rows);
    await w.feed.put(pointers);
    return { w, rows, pointers };
  }

  it('counts unread rows and unread celebrity pointers', async () => {
    const { w } = await aliceWithRowsAndPointers();
    expect(await unreadCount(ALICE, w)).toBe(5);
  });

  it('drops by one per item marked read, row or pointer, and shows them read', async () => {
    // Prepare
    const { w, rows, pointers } = await aliceWithRowsAndPointers();
    // Act
    await markRead(ALICE, [rows[0]!.id, pointers[1]!.id], w);
    await markRead(ALICE, [pointers[1]!.id], w);
    // Assess
    expect(await unreadCount(ALICE, w)).toBe(3);
    const { items } = await readInbox(ALICE, {}, w);
    const read = items.filter((i) => i.read).map((i) => i.eventId);
    expect(read.sort()).toEqual(['p2', 'r1']);
  });

  it('drops to zero on mark-all-read, and counts what arrives after it', async () => {
    // Prepare
    const { w } = await aliceWithRowsAndPointers();
    // Act
    await markAllRead(ALICE, w);
    const afterMarking = await unreadCount(ALICE, w);
    const { items } = await readInbox(ALICE, {}, w);
    await w.feed.put([pointer('acme', 'star', 'later', NOW + 1000)]);
    await w.inbox.putMany([row(ALICE, 'later-row', NOW + 1000)]);
    // Assess
    expect(afterMarking).toBe(0);
    expect(items.every((i) => i.read)).toBe(true);
    expect(await unreadCount(ALICE, w)).toBe(2);
  });

  it('marks pointers read that were marked one by one before mark-all-read exactly once', async () => {
    // Prepare
    const { w, pointers } = await aliceWithRowsAndPointers();
    await markRead(ALICE, [pointers[2]!.id], w);
    // Act
    await markAllRead(ALICE, w);
    await w.feed.put([pointer('acme', 'idol', 'later', NOW + 1000)]);
    // Assess
    expect(await unreadCount(ALICE, w)).toBe(1);
  });

  it('rejects an unknown id and marks nothing', async () => {
    // Prepare
    const { w, rows } = await aliceWithRowsAndPointers();
    // Act
    const marking = markRead(ALICE, [rows[0]!.id, notificationId('nope', 'alice', NOW)], w);
    // Assess
    await expect(marking).rejects.toBeInstanceOf(NotFoundError);
    expect(await unreadCount(ALICE, w)).toBe(5);
  });

  it('rejects the pointer of a celebrity the user does not follow, and another user’s row', async () => {
    // Prepare
    const { w } = await aliceWithRowsAndPointers();
    const foreign = pointer('acme', 'stranger', 'x', NOW - 10);
    const bobsRow = row({ tenantId: 'acme', userId: 'bob' }, 'y', NOW - 10);
    await w.feed.put([foreign]);
    await w.inbox.putMany([bobsRow]);
    // Act / Assess
    await expect(markRead(ALICE, [foreign.id], w)).rejects.toBeInstanceOf(NotFoundError);
    await expect(markRead(ALICE, [bobsRow.id], w)).rejects.toBeInstanceOf(NotFoundError);
    await expect(markRead(ALICE, ['not-a-ulid'], w)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('never reads across tenants: the same user id in another tenant sees nothing', async () => {
    // Prepare
    const { w } = await aliceWithRowsAndPointers();
    const otherAlice: UserKey = { tenantId: 'globex', userId: 'alice' };
    // Act
    const page = await readInbox(otherAlice, {}, w);
    // Assess
    expect(page.items).toEqual([]);
    expect(await unreadCount(otherAlice, w)).toBe(0);
  });
});

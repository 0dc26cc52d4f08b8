import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedCelebrityFeed } from '../../src/adapters/embedded/celebrity-feed.ts';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedFollowerGraph } from '../../src/adapters/embedded/follower-graph.ts';
import { EmbeddedInbox } from '../../src/adapters/embedded/inbox.ts';
import { createCursorCodec } from '../../src/domain/cursor.ts';
import { InvalidCursorError, NotFoundError, ValidationError } from '../../src/domain/errors.ts';
import type { UserKey } from '../../src/domain/types.ts';
import { type InboxDeps, readInbox } from '../../src/handlers/inbox.ts';
import { webUrl } from '../../src/handlers/inbox-item.ts';
import { inboxCounts, markItem, markSeen, UNSEEN_CAP } from '../../src/handlers/inbox-marks.ts';
import { inboxRow as row } from '../support/rows.ts';

const NOW = Date.UTC(2026, 4, 1, 12);
const ALICE: UserKey = { tenantId: 'acme', userId: 'alice' };
const BOB: UserKey = { tenantId: 'acme', userId: 'bob' };

const dbs: EmbeddedDb[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
});

function world(locales: Record<string, string> = {}): InboxDeps & { inbox: EmbeddedInbox } {
  const db = new EmbeddedDb({ path: ':memory:' });
  dbs.push(db);
  return {
    inbox: new EmbeddedInbox({ db }),
    feed: new EmbeddedCelebrityFeed({ db }),
    graph: new EmbeddedFollowerGraph({ db }),
    cursors: createCursorCodec('inbox-marks-test-secret'),
    clock: { now: () => NOW },
    localeOf: async (user) => locales[user.userId],
  };
}

/** Rows of `user`, one a second before NOW, oldest first. */
async function seed(w: InboxDeps, user: UserKey, n: number) {
  const rows = Array.from({ length: n }, (_, i) => row(user, `e${i}`, NOW - (n - i) * 1000));
  await w.inbox.putMany(rows);
  return rows;
}

describe('readInbox with tabs', () => {
  it('lists All, Unread and Archived, each under cursors of its own', async () => {
    // Prepare
    const w = world();
    const rows = await seed(w, ALICE, 5);
    await markItem(ALICE, rows[0]!.id, 'archive', w);
    await w.inbox.markRead(ALICE, [{ id: rows[1]!.id }]);
    // Act
    const unread = await readInbox(ALICE, { limit: 2, status: 'unread' }, w);
    const next = await readInbox(ALICE, { limit: 2, status: 'unread', cursor: unread.nextCursor! }, w);
    const archived = await readInbox(ALICE, { status: 'archived' }, w);
    const all = await readInbox(ALICE, {}, w);
    // Assess
    expect([...unread.items, ...next.items].map((i) => i.eventId)).toEqual(['e4', 'e3', 'e2']);
    expect(next.nextCursor).toBeNull();
    expect(archived.items.map((i) => [i.eventId, i.archived, i.read])).toEqual([['e0', true, true]]);
    expect(all.items.map((i) => i.eventId)).toEqual(['e4', 'e3', 'e2', 'e1']);
  });

  it('refuses a cursor of one tab in another, and an unknown status', async () => {
    // Prepare
    const w = world();
    await seed(w, ALICE, 3);
    const unread = await readInbox(ALICE, { limit: 1, status: 'unread' }, w);
    const all = await readInbox(ALICE, { limit: 1 }, w);
    // Act / Assess
    await expect(readInbox(ALICE, { cursor: unread.nextCursor!, status: 'all' }, w)).rejects.toBeInstanceOf(
      InvalidCursorError,
    );
    await expect(readInbox(ALICE, { cursor: unread.nextCursor! }, w)).rejects.toBeInstanceOf(
      InvalidCursorError,
    );
    await expect(readInbox(ALICE, { cursor: all.nextCursor!, status: 'archived' }, w)).rejects.toBeInstanceOf(
      InvalidCursorError,
    );
    await expect(readInbox(ALICE, { status: 'starred' }, w)).rejects.toBeInstanceOf(ValidationError);
  });

  it('gives each item its sentence in the user’s locale, and only web links from its data', async () => {
    // Prepare
    const w = world({ alice: 'fr' });
    const likes = ['ana', 'bo', 'cy'].map((actor, i) =>
      row(ALICE, `l${i}`, NOW - 1000 + i, {
        type: 'like',
        actorId: actor,
        objectId: 'p1',
        groupKey: 'like\u001fp1',
        data: {
          url: 'https://app.example/p/1',
          avatarUrl: 'javascript:alert(1)',
          actorAvatarUrl: 'http://cdn.example/a.png',
        },
      }),
    );
    await w.inbox.putMany(likes);
    // Act
    const [item] = (await readInbox(ALICE, {}, w)).items;
    const english = (await readInbox(ALICE, {}, { ...w, localeOf: async () => undefined })).items[0];
    // Assess
    expect(item).toMatchObject({ url: 'https://app.example/p/1', avatarUrl: 'http://cdn.example/a.png' });
    expect(item!.text).toContain('cy');
    expect(item!.text).not.toBe(english!.text);
    expect(english!.text).toBe('cy, bo, and ana liked your post');
    expect(english!.title.length).toBeGreaterThan(0);
  });
});

describe('webUrl', () => {
  it('keeps absolute http and https URLs only', () => {
    expect(webUrl('https://a.example/x?y=1')).toBe('https://a.example/x?y=1');
    expect(webUrl('http://a.example')).toBe('http://a.example/');
    for (const bad of [
      'javascript:alert(1)',
      'data:text/html,x',
      '/relative',
      'a.example',
      '',
      42,
      null,
      undefined,
    ])
      expect(webUrl(bad)).toBeNull();
    expect(webUrl(`https://a.example/${'x'.repeat(3000)}`)).toBeNull();
  });
});

describe('markItem', () => {
  it('marks unread, archives and unarchives, with the counts following', async () => {
    // Prepare
    const w = world();
    const rows = await seed(w, ALICE, 3);
    await w.inbox.markAllRead(ALICE, rows[2]!.id);
    // Act / Assess
    await markItem(ALICE, rows[1]!.id, 'unread', w);
    expect((await inboxCounts(ALICE, w)).count).toBe(1);
    await markItem(ALICE, rows[1]!.id, 'archive', w);
    await markItem(ALICE, rows[1]!.id, 'archive', w);
    expect((await inboxCounts(ALICE, w)).count).toBe(0);
    await markItem(ALICE, rows[1]!.id, 'unarchive', w);
    const all = await readInbox(ALICE, {}, w);
    expect(all.items.map((i) => [i.eventId, i.read, i.archived])).toContainEqual(['e1', true, false]);
  });

  it('refuses an id that is not in this inbox, another user’s or no id at all, and marks nothing', async () => {
    // Prepare
    const w = world();
    const bobs = await seed(w, BOB, 1);
    // Act / Assess
    for (const mark of ['unread', 'archive', 'unarchive'] as const) {
      await expect(markItem(ALICE, bobs[0]!.id, mark, w)).rejects.toBeInstanceOf(NotFoundError);
      await expect(markItem(ALICE, 'not-an-id', mark, w)).rejects.toBeInstanceOf(NotFoundError);
    }
    expect((await readInbox(BOB, {}, w)).items[0]).toMatchObject({ read: false, archived: false });
  });
});

describe('an aggregated item on new activity', () => {
  it('comes back from the archive at the top, unread and unseen, with its grown sentence', async () => {
    // Prepare
    const w = world();
    const like = (eventId: string, actor: string, ms: number) =>
      row(ALICE, eventId, NOW - 10_000 + ms, {
        type: 'like',
        actorId: actor,
        objectId: 'p1',
        groupKey: 'like\u001fp1',
      });
    await w.inbox.putMany([like('l1', 'ana', 0), like('l2', 'bo', 1)]);
    const [item] = (await readInbox(ALICE, {}, w)).items;
    await markItem(ALICE, item!.id, 'archive', w);
    await w.inbox.putMany([row(ALICE, 'plain', NOW - 5000, { read: true })]);
    await markSeen(ALICE, w);
    expect((await w.inbox.seenMark(ALICE))! > item!.id).toBe(true);
    // Act
    await w.inbox.putMany([like('l3', 'cy', 9000)]);
    // Assess
    const [back] = (await readInbox(ALICE, { status: 'unread' }, w)).items;
    expect(back).toMatchObject({ eventId: 'l3', read: false, archived: false, seen: false });
    expect(back!.text).toBe('cy, bo, and ana liked your post');
    expect((await readInbox(ALICE, { status: 'archived' }, w)).items).toEqual([]);
    expect(await inboxCounts(ALICE, w)).toEqual({ count: 1, unseen: 1 });
  });
});

describe('markSeen and inboxCounts', () => {
  it('marks everything seen up to the newest item; what arrives later is unseen', async () => {
    // Prepare
    const w = world();
    await seed(w, ALICE, 3);
    expect(await inboxCounts(ALICE, w)).toEqual({ count: 3, unseen: 3 });
    // Act
    await markSeen(ALICE, w);
    await w.inbox.putMany([row(ALICE, 'later', NOW)]);
    // Assess
    expect(await inboxCounts(ALICE, w)).toEqual({ count: 4, unseen: 1 });
    const items = (await readInbox(ALICE, {}, w)).items;
    expect(items.map((i) => [i.eventId, i.seen])).toEqual([
      ['later', false],
      ['e2', true],
      ['e1', true],
      ['e0', true],
    ]);
  });

  it('changes nothing on an empty inbox', async () => {
    const w = world();
    await markSeen(ALICE, w);
    expect(await w.inbox.seenMark(ALICE)).toBeUndefined();
  });

  it('caps the unseen count at 100', async () => {
    // Prepare
    const w = world();
    await seed(w, ALICE, UNSEEN_CAP + 5);
    // Act
    const counts = await inboxCounts(ALICE, w);
    // Assess
    expect(counts).toEqual({ count: UNSEEN_CAP + 5, unseen: UNSEEN_CAP });
  });
});

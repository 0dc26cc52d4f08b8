import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCursorCodec } from '../../src/domain/cursor.ts';
import { NotFoundError } from '../../src/domain/errors.ts';
import { notificationId, POINTER_RECIPIENT } from '../../src/domain/ids.ts';
import { INBOX_TTL_MS } from '../../src/domain/ttl.ts';
import { type CelebrityPointer, Tier, type UserKey } from '../../src/domain/types.ts';
import { catchUp } from '../../src/handlers/catch-up.ts';
import { follow, unfollow } from '../../src/handlers/follows.ts';
import { type InboxDeps, markAllRead, markRead, readInbox, unreadCount } from '../../src/handlers/inbox.ts';
import type { CelebrityFeed } from '../../src/ports/celebrity-feed.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { FollowerGraph } from '../../src/ports/follower-graph.ts';
import type { Inbox } from '../../src/ports/inbox.ts';
import { inboxRow } from '../support/rows.ts';

/** The three ports an inbox read touches, all of one adapter family, over the clock given. */
export interface InboxReadsHarness {
  readonly inbox: Inbox;
  readonly feed: CelebrityFeed;
  readonly graph: FollowerGraph;
  close(): Promise<void>;
}

const T0 = Date.UTC(2026, 4, 1, 12);
const ALICE: UserKey = { tenantId: 'acme', userId: 'alice' };

/**
 * The inbox read side over one adapter family: the catch-up copies in what followed celebrities
 * post, once, from the follow on, and the unread count stays exact across promotion, demotion,
 * unfollow, pointer expiry, mark-all-read and concurrent readers, tenant by tenant.
 */
export function inboxReadsContract(name: string, make: (clock: Clock) => Promise<InboxReadsHarness>): void {
  describe(`Inbox reads contract: ${name}`, () => {
    let h: InboxReadsHarness;
    let deps: InboxDeps;
    let now: number;

    beforeEach(async () => {
      now = T0;
      const clock: Clock = { now: () => now };
      h = await make(clock);
      deps = {
        inbox: h.inbox,
        feed: h.feed,
        graph: h.graph,
        cursors: createCursorCodec('inbox-reads-contract-secret'),
        clock,
      };
    });
    afterEach(async () => {
      await h.close();
    });

    /** A pointer of `author` (a celebrity of ALICE's tenant unless said) written now; the clock moves on. */
    async function post(author: string, eventId: string, opts: { tenantId?: string; ageMs?: number } = {}) {
      const createdAt = now - (opts.ageMs ?? 0);
      const pointer: CelebrityPointer = {
        tenantId: opts.tenantId ?? 'acme',
        authorId: author,
        id: notificationId(eventId, POINTER_RECIPIENT, createdAt),
        eventId,
        type: 'post',
        category: 'content',
        createdAt,
      };
      await h.feed.put([pointer]);
      now += 2;
      return pointer;
    }

    async function celebrity(author: string, tenantId = 'acme'): Promise<void> {
      await h.graph.setTier({ tenantId, userId: author }, { tier: Tier.Celebrity, changedAt: now });
    }

    async function page(user: UserKey = ALICE) {
      return (await readInbox(user, { limit: 50 }, deps)).items.map((i) => i.eventId);
    }

    it('copies in what followed celebrities post, once, beside the user’s own rows', async () => {
      // Prepare
      await celebrity('star');
      await follow([{ tenantId: 'acme', authorId: 'star', followerId: 'alice' }], deps);
      await post('star', 'p1');
      await h.inbox.putMany([inboxRow(ALICE, 'r1', now)]);
      now += 2;
      await post('star', 'p2');
      await post('stranger', 'x1');
      // Act
      const { items } = await readInbox(ALICE, { limit: 50 }, deps);
      const count = await unreadCount(ALICE, deps);
      const again = await catchUp(ALICE, deps);
      // Assess
      expect(items.map((i) => [i.eventId, i.source, i.actorId])).toEqual([
        ['p2', 'celebrity', 'star'],
        ['r1', 'row', 'bob'],
        ['p1', 'celebrity', 'star'],
      ]);
      expect(count).toBe(3);
      expect(again).toEqual({ scanned: 0, materialised: 0 });
    });

    it('reaches a follower from the follow on: what came before stays out', async () => {
      // Prepare
      await celebrity('star');
      await post('star', 'before');
      // Act
      await follow([{ tenantId: 'acme', authorId: 'star', followerId: 'alice' }], deps);
      await post('star', 'after');
      // Assess
      expect(await page()).toEqual(['after']);
      expect(await unreadCount(ALICE, deps)).toBe(1);
    });

    it('keeps what arrived while following after an unfollow, and nothing after it', async () => {
      // Prepare: alice never reads before she unfollows
      await celebrity('star');
      await follow([{ tenantId: 'acme', authorId: 'star', followerId: 'alice' }], deps);
      await post('star', 'while');
      // Act
      await unfollow([{ tenantId: 'acme', authorId: 'star', followerId: 'alice' }], deps);
      await post('star', 'after');
      // Assess
      expect(await page()).toEqual(['while']);
      expect(await unreadCount(ALICE, deps)).toBe(1);
    });

    it('stays exact across a promotion: rows before it, pointers after it', async () => {
      // Prepare
      await follow([{ tenantId: 'acme', authorId: 'riser', followerId: 'alice' }], deps);
      await h.inbox.putMany([inboxRow(ALICE, 'as-regular', now, { actorId: 'riser' })]);
      now += 2;
      expect(await unreadCount(ALICE, deps)).toBe(1);
      // Act
      await celebrity('riser');
      const pointer = await post('riser', 'as-celebrity');
      const promoted = await unreadCount(ALICE, deps);
      await markRead(ALICE, [pointer.id], deps);
      // Assess
      expect(promoted).toBe(2);
      expect(await unreadCount(ALICE, deps)).toBe(1);
      const { items } = await readInbox(ALICE, {}, deps);
      expect(items.map((i) => [i.eventId, i.read])).toEqual([
        ['as-celebrity', true],
        ['as-regular', false],
      ]);
    });

    it('stays exact across a demotion: pointers kept, caught up or not, rows after it', async () => {
      // Prepare
      await celebrity('faller');
      await follow([{ tenantId: 'acme', authorId: 'faller', followerId: 'alice' }], deps);
      await post('faller', 'read-before');
      expect(await unreadCount(ALICE, deps)).toBe(1);
      await post('faller', 'not-read-before');
      // Act
      await h.graph.setTier({ tenantId: 'acme', userId: 'faller' }, { tier: Tier.Regular, changedAt: now });
      await h.inbox.putMany([inboxRow(ALICE, 'as-regular', now, { actorId: 'faller' })]);
      now += 2;
      // Assess
      expect(await unreadCount(ALICE, deps)).toBe(3);
      expect(await page()).toEqual(['as-regular', 'not-read-before', 'read-before']);
      await markAllRead(ALICE, deps);
      expect(await unreadCount(ALICE, deps)).toBe(0);
    });

    it('lets pointers expire at 90 days, caught up or not, from the page and the count', async () => {
      // Prepare
      await celebrity('star');
      await follow([{ tenantId: 'acme', authorId: 'star', followerId: 'alice' }], deps);
      await post('star', 'caught-up');
      expect(await unreadCount(ALICE, deps)).toBe(1);
      await post('star', 'not-caught-up');
      await post('star', 'young');
      now += INBOX_TTL_MS - 4;
      // Act
      const page90 = await page();
      const count90 = await unreadCount(ALICE, deps);
      // Assess: the first two are 90 days old by now, the third 2 ms younger
      expect(page90).toEqual(['young']);
      expect(count90).toBe(1);
      now += 10;
      expect(await page()).toEqual([]);
      expect(await unreadCount(ALICE, deps)).toBe(0);
    });

    it('finds a followed celebrity’s pointer to mark read before any read, and refuses one not followed', async () => {
      // Prepare
      await celebrity('star');
      await celebrity('stranger');
      await follow([{ tenantId: 'acme', authorId: 'star', followerId: 'alice' }], deps);
      const mine = await post('star', 'p1');
      const foreign = await post('stranger', 'q1');
      // Act
      await markRead(ALICE, [mine.id], deps);
      const refused = markRead(ALICE, [mine.id, foreign.id], deps);
      // Assess
      await expect(refused).rejects.toBeInstanceOf(NotFoundError);
      expect(await unreadCount(ALICE, deps)).toBe(0);
      expect((await readInbox(ALICE, {}, deps)).items.map((i) => [i.eventId, i.read])).toEqual([
        ['p1', true],
      ]);
    });

    it('writes pointers caught up after mark-all-read with an older id as read', async () => {
      // Prepare
      await celebrity('star');
      await follow([{ tenantId: 'acme', authorId: 'star', followerId: 'alice' }], deps);
      await h.inbox.putMany([inboxRow(ALICE, 'r1', now)]);
      now += 2;
      await markAllRead(ALICE, deps);
      // Act: a pointer of an event that happened before the mark-all-read arrives after it
      await post('star', 'late', { ageMs: 1000 });
      await post('star', 'new');
      // Assess
      expect(await unreadCount(ALICE, deps)).toBe(1);
      const { items } = await readInbox(ALICE, {}, deps);
      expect(items.map((i) => [i.eventId, i.read])).toEqual([
        ['new', false],
        ['r1', true],
        ['late', true],
      ]);
    });

    it('copies each pointer once when pages and counts catch up at the same time', async () => {
      // Prepare
      await celebrity('star');
      await follow([{ tenantId: 'acme', authorId: 'star', followerId: 'alice' }], deps);
      for (let i = 0; i < 30; i++) await post('star', `p${i}`);
      // Act
      const results = await Promise.all([
        readInbox(ALICE, { limit: 100 }, deps),
        unreadCount(ALICE, deps),
        readInbox(ALICE, { limit: 100 }, deps),
        unreadCount(ALICE, deps),
        catchUp(ALICE, deps),
      ]);
      // Assess: each reader saw a consistent inbox, and every pointer is there once
      const ids = await page();
      expect(ids).toHaveLength(30);
      expect(new Set(ids).size).toBe(30);
      expect(await unreadCount(ALICE, deps)).toBe(30);
      expect(results[1]).toBe(30);
      expect(results[3]).toBe(30);
    });

    it('keeps tenants apart: another tenant’s celebrity of the same id reaches nobody here', async () => {
      // Prepare
      const globexAlice: UserKey = { tenantId: 'globex', userId: 'alice' };
      await celebrity('star');
      await celebrity('star', 'globex');
      await follow([{ tenantId: 'globex', authorId: 'star', followerId: 'alice' }], deps);
      // Act
      await post('star', 'acme-post');
      await post('star', 'globex-post', { tenantId: 'globex' });
      // Assess
      expect(await page(globexAlice)).toEqual(['globex-post']);
      expect(await page(ALICE)).toEqual([]);
      expect(await unreadCount(ALICE, deps)).toBe(0);
    });

    it('catches up from the live window a reader whose follows went straight to the graph', async () => {
      // Prepare: an import, not the follow API
      await celebrity('star');
      await h.graph.follow([{ tenantId: 'acme', authorId: 'star', followerId: 'alice' }]);
      await post('star', 'imported', { ageMs: 10 * 24 * 60 * 60 * 1000 });
      // Act / Assess
      expect(await page()).toEqual(['imported']);
      expect(await unreadCount(ALICE, deps)).toBe(1);
    });

    it('starts a reader who follows nobody at the log’s tail', async () => {
      // Prepare
      const carol: UserKey = { tenantId: 'acme', userId: 'carol' };
      await celebrity('star');
      await post('star', 'before');
      expect(await page(carol)).toEqual([]);
      // Act
      await h.graph.follow([{ tenantId: 'acme', authorId: 'star', followerId: 'carol' }]);
      await post('star', 'after');
      // Assess
      expect(await page(carol)).toEqual(['after']);
      expect(await unreadCount(carol, deps)).toBe(1);
    });
  });
}

import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.ts';
import { maxUlidAt, minUlidAt, notificationId } from '../../src/domain/ids.ts';
import type { InboxRow, UserKey } from '../../src/domain/types.ts';
import type { Inbox } from '../../src/ports/inbox.ts';
import { inboxRow as row } from '../support/rows.ts';
import { inboxCatchUpContract } from './inbox-catch-up.contract.ts';
import { inboxGroupReadContract } from './inbox-group-read.contract.ts';
import { inboxGroupsContract } from './inbox-groups.contract.ts';
import { inboxMarksContract } from './inbox-marks.contract.ts';
import { inboxRetractContract } from './inbox-retract.contract.ts';

/** What a suite run needs: a fresh, empty inbox per test. */
export interface InboxHarness {
  readonly inbox: Inbox;
  close(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 1);
/** A TTL bound below every id the suite writes: nothing is expired. */
const NONE_EXPIRED = minUlidAt(0);
const ALICE: UserKey = { tenantId: 'acme', userId: 'alice' };
const BOB: UserKey = { tenantId: 'acme', userId: 'bob' };

/** Rows of `user`, one per ms from T0, oldest first. */
function rows(user: UserKey, n: number, prefix = 'e'): InboxRow[] {
  return Array.from({ length: n }, (_, i) => row(user, `${prefix}${i}`, T0 + i));
}

function newestFirst(ids: readonly string[]): string[] {
  return [...ids].sort().reverse();
}

/** Every page of `user`'s inbox, each before the last id of the previous one. */
async function pageAll(
  inbox: Inbox,
  user: UserKey,
  limit: number,
  afterId = NONE_EXPIRED,
): Promise<string[][]> {
  const pages: string[][] = [];
  let beforeId: string | undefined;
  for (;;) {
    const page = await inbox.page(user, { limit, afterId, ...(beforeId === undefined ? {} : { beforeId }) });
    if (page.length === 0) return pages;
    pages.push(page.map((r) => r.id));
    beforeId = page.at(-1)!.id;
    if (pages.length > 10_000) throw new Error('paging does not end');
  }
}

/**
 * The Inbox port's contract: newest-first pages that never repeat or skip, idempotent writes
 * that keep read state, read marks and mark-all-read, the TTL bound, tenant isolation and
 * all-or-nothing batches; then its catch-up half (inbox-catch-up.contract.ts).
 */
export function inboxContract(name: string, make: () => Promise<InboxHarness>): void {
  describe(`Inbox contract: ${name}`, () => {
    let h: InboxHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    it('returns a user’s rows newest first, with every field as written', async () => {
      // Prepare
      const written = [
        row(ALICE, 'e1', T0 + 10, { objectId: 'post-1', data: { text: 'hi', n: 1 } }),
        row(ALICE, 'e2', T0 + 30, { category: 'mention', type: 'mention' }),
        row(ALICE, 'e3', T0 + 20),
      ];
      // Act
      await h.inbox.putMany(written);
      const page = await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED });
      // Assess
      expect(page.map((r) => r.eventId)).toEqual(['e2', 'e3', 'e1']);
      expect(page[2]).toEqual(written[0]);
      expect(page[0]).toEqual(written[1]);
    });

    it('orders rows of the same millisecond by id, newest first', async () => {
      // Prepare
      const sameMs = Array.from({ length: 6 }, (_, i) => row(ALICE, `e${i}`, T0));
      // Act
      await h.inbox.putMany(sameMs);
      const page = await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED });
      // Assess
      expect(page.map((r) => r.id)).toEqual(newestFirst(sameMs.map((r) => r.id)));
    });

    it('never repeats or skips a row across pages of any size', async () => {
      let run = 0;
      const rowSpec = fc.record({
        offsetMs: fc.integer({ min: 0, max: 20 }),
        event: fc.integer({ min: 0, max: 30 }),
      });
      await fc.assert(
        fc.asyncProperty(
          fc.array(rowSpec, { maxLength: 40 }),
          fc.integer({ min: 1, max: 9 }),
          async (specs, limit) => {
            // Prepare: a user of its own per run; repeated events collapse to one row per id
            const user: UserKey = { tenantId: 'acme', userId: `user-${run++}` };
            const written = specs.map((s) => row(user, `e${s.event}`, T0 + s.offsetMs));
            await h.inbox.putMany(written);
            // Act
            const pages = await pageAll(h.inbox, user, limit);
            // Assess
            const expected = newestFirst([...new Set(written.map((r) => r.id))]);
            expect(pages.flat()).toEqual(expected);
            for (const page of pages.slice(0, -1)) expect(page).toHaveLength(limit);
          },
        ),
        { numRuns: 40 },
      );
    });

    it('pages strictly between the TTL bound and the cursor', async () => {
      // Prepare
      const written = rows(ALICE, 10);
      await h.inbox.putMany(written);
      // Act
      const page = await h.inbox.page(ALICE, {
        limit: 100,
        afterId: written[2]!.id,
        beforeId: written[7]!.id,
      });
      // Assess
      expect(page.map((r) => r.eventId)).toEqual(['e6', 'e5', 'e4', 'e3']);
    });

    it('writes a row once per id and keeps its read state when it is written again', async () => {
      // Prepare
      const written = rows(ALICE, 3);
      await h.inbox.putMany(written);
      await h.inbox.markRead(ALICE, [{ id: written[1]!.id }]);
      // Act: a re-delivered batch, even one that says unread and carries other data
      await h.inbox.putMany(written.map((r) => ({ ...r, data: { changed: true } })));
      await h.inbox.putMany([written[0]!, written[0]!]);
      const page = await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED });
      // Assess
      expect(page).toHaveLength(3);
      expect(page.map((r) => r.read)).toEqual([false, true, false]);
      expect(page.every((r) => r.data === undefined)).toBe(true);
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(2);
    });

    it('counts unread rows, and rows written as read do not count', async () => {
      // Prepare
      await h.inbox.putMany([
        ...rows(ALICE, 4),
        row(ALICE, 'seen', T0 + 50, { read: true }),
        ...rows(BOB, 2),
      ]);
      // Act
      const count = await h.inbox.unreadCount(ALICE, NONE_EXPIRED);
      // Assess
      expect(count).toBe(4);
      expect(await h.inbox.unreadCount({ tenantId: 'acme', userId: 'nobody' }, NONE_EXPIRED)).toBe(0);
    });

    it('marks the rows named read, once, and leaves the others unread', async () => {
      // Prepare
      const written = rows(ALICE, 5);
      await h.inbox.putMany(written);
      // Act
      await h.inbox.markRead(ALICE, [{ id: written[0]!.id }, { id: written[3]!.id }]);
      await h.inbox.markRead(ALICE, [{ id: written[3]!.id }]);
      // Assess
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(3);
      const page = await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED });
      expect(
        page
          .filter((r) => r.read)
          .map((r) => r.eventId)
          .sort(),
      ).toEqual(['e0', 'e3']);
    });

    it('marks every row up to the given id read on mark-all-read, and nothing newer', async () => {
      // Prepare
      const written = rows(ALICE, 6);
      await h.inbox.putMany(written);
      // Act
      await h.inbox.markAllRead(ALICE, written[3]!.id);
      // Assess
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(2);
      const page = await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED });
      expect(page.map((r) => [r.eventId, r.read])).toEqual([
        ['e5', false],
        ['e4', false],
        ['e3', true],
        ['e2', true],
        ['e1', true],
        ['e0', true],
      ]);
    });

    it('hides rows at or below the TTL bound from pages and unread counts', async () => {
      // Prepare
      const written = rows(ALICE, 5);
      await h.inbox.putMany(written);
      const bound = maxUlidAt(T0 + 1);
      // Act
      const page = await h.inbox.page(ALICE, { limit: 10, afterId: bound });
      const count = await h.inbox.unreadCount(ALICE, bound);
      // Assess
      expect(page.map((r) => r.eventId)).toEqual(['e4', 'e3', 'e2']);
      expect(count).toBe(3);
    });

    it('answers whether the user has a row with an id', async () => {
      // Prepare
      const [mine] = rows(ALICE, 1);
      await h.inbox.putMany([mine!]);
      // Act / Assess
      expect(await h.inbox.has(ALICE, mine!.id)).toBe(true);
      expect(await h.inbox.has(BOB, mine!.id)).toBe(false);
      expect(await h.inbox.has(ALICE, notificationId('other', 'alice', T0))).toBe(false);
    });

    it('keeps the same user id of two tenants apart', async () => {
      // Prepare
      const otherAlice: UserKey = { tenantId: 'globex', userId: 'alice' };
      const acmeRows = rows(ALICE, 3);
      await h.inbox.putMany([...acmeRows, ...rows(otherAlice, 2, 'g')]);
      // Act
      await h.inbox.markAllRead(otherAlice, maxUlidAt(T0 + 100));
      await h.inbox.markRead(otherAlice, [{ id: acmeRows[0]!.id }]);
      // Assess
      const acmePage = await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED });
      const globexPage = await h.inbox.page(otherAlice, { limit: 10, afterId: NONE_EXPIRED });
      expect(acmePage.map((r) => r.eventId)).toEqual(['e2', 'e1', 'e0']);
      expect(acmePage.every((r) => !r.read && r.tenantId === 'acme')).toBe(true);
      expect(globexPage.map((r) => r.eventId)).toEqual(['g1', 'g0']);
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(3);
      expect(await h.inbox.unreadCount(otherAlice, NONE_EXPIRED)).toBe(0);
      expect(await h.inbox.has(otherAlice, acmeRows[0]!.id)).toBe(false);
    });

    it('rejects a batch holding an invalid row and writes none of it', async () => {
      // Prepare
      const good = rows(ALICE, 3);
      const bad = { ...row(ALICE, 'bad', T0 + 5), userId: '' };
      // Act
      const writing = h.inbox.putMany([good[0]!, bad, good[1]!, good[2]!]);
      // Assess
      await expect(writing).rejects.toBeInstanceOf(ValidationError);
      expect(await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED })).toEqual([]);
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(0);
    });

    it.each([
      ['an empty tenant', { tenantId: '' }],
      ['an empty id', { id: '' }],
      ['a missing createdAt', { createdAt: undefined }],
    ])('rejects a row with %s', async (_label, change) => {
      // Prepare
      const bad = { ...row(ALICE, 'e1', T0), ...change } as InboxRow;
      // Act
      const writing = h.inbox.putMany([bad]);
      // Assess
      await expect(writing).rejects.toBeInstanceOf(ValidationError);
    });

    it('rejects bad reads and marks with a ValidationError, and marks nothing', async () => {
      // Prepare
      const written = rows(ALICE, 2);
      await h.inbox.putMany(written);
      // Act / Assess
      await expect(h.inbox.page(ALICE, { limit: 0, afterId: NONE_EXPIRED })).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(h.inbox.page(ALICE, { limit: 10, afterId: '' })).rejects.toBeInstanceOf(ValidationError);
      await expect(
        h.inbox.page({ tenantId: '', userId: 'alice' }, { limit: 10, afterId: NONE_EXPIRED }),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(
        h.inbox.unreadCount({ tenantId: 'acme', userId: '' }, NONE_EXPIRED),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(h.inbox.markRead(ALICE, [{ id: written[0]!.id }, { id: '' }])).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(h.inbox.markAllRead(ALICE, '')).rejects.toBeInstanceOf(ValidationError);
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(2);
    });
  });
  inboxCatchUpContract(name, make);
  inboxGroupsContract(name, make);
  inboxMarksContract(name, make);
  inboxGroupReadContract(name, make);
  inboxRetractContract(name, make);
}

import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CatchUpConflictError, ValidationError } from '../../src/domain/errors.ts';
import { maxUlidAt, minUlidAt, notificationId, POINTER_RECIPIENT } from '../../src/domain/ids.ts';
import type { InboxRow, UserKey } from '../../src/domain/types.ts';
import { inboxRow as row } from '../support/rows.ts';
import type { InboxHarness } from './inbox.contract.ts';

const T0 = Date.UTC(2026, 0, 1);
/** A TTL bound below every id the suite writes: nothing is expired. */
const NONE_EXPIRED = minUlidAt(0);
const ALICE: UserKey = { tenantId: 'acme', userId: 'alice' };

/** A celebrity pointer of `author` as a row of `user`'s inbox, the way a catch-up writes it. */
function pointerRow(user: UserKey, eventId: string, createdAt: number, author = 'star'): InboxRow {
  return {
    ...row(user, eventId, createdAt, { actorId: author, type: 'post', category: 'content' }),
    id: notificationId(eventId, POINTER_RECIPIENT, createdAt),
    source: 'celebrity',
  };
}

/**
 * The Inbox port's catch-up half: the catch-up mark, `materialise` (idempotent, with the mark,
 * refused on a stale mark), caught-up rows under the read watermark and the TTL, and an unread
 * count that stays exact under any mix of writes, catch-ups, reads and counts.
 */
export function inboxCatchUpContract(name: string, make: () => Promise<InboxHarness>): void {
  describe(`Inbox contract (catch-up): ${name}`, () => {
    let h: InboxHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    it('starts without a catch-up mark and keeps the one a catch-up stores', async () => {
      // Prepare
      const before = await h.inbox.catchUpMark(ALICE);
      // Act
      const written = await h.inbox.materialise(ALICE, [], { from: undefined, to: 'mark-1' });
      // Assess
      expect(before).toBeUndefined();
      expect(written).toBe(0);
      expect(await h.inbox.catchUpMark(ALICE)).toBe('mark-1');
      expect(await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED })).toEqual([]);
    });

    it('writes caught-up rows once, counts them, and moves the mark with them', async () => {
      // Prepare: rows of her own, counted once, then pointers older and newer than them
      await h.inbox.putMany([row(ALICE, 'r1', T0 + 10), row(ALICE, 'r2', T0 + 30)]);
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(2);
      const pointers = [pointerRow(ALICE, 'p1', T0 + 5), pointerRow(ALICE, 'p2', T0 + 20)];
      // Act: the same rows again under the next mark, as a repeated log entry brings them
      const first = await h.inbox.materialise(ALICE, pointers, { from: undefined, to: 'm1' });
      const again = await h.inbox.materialise(ALICE, [...pointers, pointers[0]!], { from: 'm1', to: 'm2' });
      // Assess
      expect([first, again]).toEqual([2, 0]);
      expect(await h.inbox.catchUpMark(ALICE)).toBe('m2');
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(4);
      const page = await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED });
      expect(page.map((r) => [r.eventId, r.source ?? 'row', r.actorId])).toEqual([
        ['r2', 'row', 'bob'],
        ['p2', 'celebrity', 'star'],
        ['r1', 'row', 'bob'],
        ['p1', 'celebrity', 'star'],
      ]);
      expect(page[1]).toEqual(pointers[1]);
    });

    it('refuses a stale mark with CatchUpConflictError, writing nothing and keeping the mark', async () => {
      // Prepare: another catch-up moved the mark first
      await h.inbox.materialise(ALICE, [], { from: undefined, to: 'm1' });
      await h.inbox.materialise(ALICE, [], { from: 'm1', to: 'm2' });
      // Act
      // Both settle before either is inspected: a rejection left without a handler while the
      // other is awaited would surface as an unhandled rejection.
      const [late, fresh] = await Promise.allSettled([
        h.inbox.materialise(ALICE, [pointerRow(ALICE, 'p1', T0)], { from: 'm1', to: 'm3' }),
        h.inbox.materialise(bobOf(ALICE), [], { from: 'm2', to: 'm3' }),
      ]);
      // Assess
      expect(late.status === 'rejected' && late.reason).toBeInstanceOf(CatchUpConflictError);
      expect(fresh.status === 'rejected' && fresh.reason).toBeInstanceOf(CatchUpConflictError);
      expect(await h.inbox.catchUpMark(ALICE)).toBe('m2');
      expect(await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED })).toEqual([]);
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(0);
    });

    it('writes caught-up rows at or below the read watermark as read', async () => {
      // Prepare
      await h.inbox.putMany([row(ALICE, 'r1', T0 + 10)]);
      await h.inbox.markAllRead(ALICE, maxUlidAt(T0 + 10));
      // Act
      await h.inbox.materialise(
        ALICE,
        [pointerRow(ALICE, 'old', T0 + 5), pointerRow(ALICE, 'new', T0 + 15)],
        {
          from: undefined,
          to: 'm1',
        },
      );
      // Assess
      const page = await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED });
      expect(page.map((r) => [r.eventId, r.read])).toEqual([
        ['new', false],
        ['r1', true],
        ['old', true],
      ]);
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(1);
    });

    it('marks caught-up rows read one by one and on mark-all-read, like any row', async () => {
      // Prepare
      const pointers = [0, 1, 2, 3].map((i) => pointerRow(ALICE, `p${i}`, T0 + i));
      await h.inbox.materialise(ALICE, pointers, { from: undefined, to: 'm1' });
      // Act
      await h.inbox.markRead(ALICE, [{ id: pointers[3]!.id }]);
      const afterOne = await h.inbox.unreadCount(ALICE, NONE_EXPIRED);
      await h.inbox.markAllRead(ALICE, pointers[1]!.id);
      // Assess
      expect(afterOne).toBe(3);
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(1);
      expect(await h.inbox.has(ALICE, pointers[2]!.id)).toBe(true);
    });

    it('hides caught-up rows at or below the TTL bound from pages and counts', async () => {
      // Prepare
      const pointers = [0, 1, 2, 3].map((i) => pointerRow(ALICE, `p${i}`, T0 + i));
      await h.inbox.materialise(ALICE, pointers, { from: undefined, to: 'm1' });
      const bound = maxUlidAt(T0 + 1);
      // Act
      const page = await h.inbox.page(ALICE, { limit: 10, afterId: bound });
      const count = await h.inbox.unreadCount(ALICE, bound);
      // Assess
      expect(page.map((r) => r.eventId)).toEqual(['p3', 'p2']);
      expect(count).toBe(2);
    });

    it('keeps the catch-up marks and caught-up rows of the same user id of two tenants apart', async () => {
      // Prepare
      const otherAlice: UserKey = { tenantId: 'globex', userId: 'alice' };
      // Act
      await h.inbox.materialise(ALICE, [pointerRow(ALICE, 'p1', T0)], { from: undefined, to: 'acme-mark' });
      // Assess
      expect(await h.inbox.catchUpMark(otherAlice)).toBeUndefined();
      expect(await h.inbox.page(otherAlice, { limit: 10, afterId: NONE_EXPIRED })).toEqual([]);
      expect(await h.inbox.unreadCount(otherAlice, NONE_EXPIRED)).toBe(0);
      await expect(
        h.inbox.materialise(otherAlice, [pointerRow(ALICE, 'p2', T0)], { from: undefined, to: 'x' }),
      ).rejects.toBeInstanceOf(ValidationError);
      expect(await h.inbox.catchUpMark(otherAlice)).toBeUndefined();
    });

    it('rejects a bad catch-up with a ValidationError and writes nothing', async () => {
      // Act / Assess
      await expect(
        h.inbox.materialise(ALICE, [{ ...pointerRow(ALICE, 'p1', T0), id: '' }], {
          from: undefined,
          to: 'm',
        }),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(h.inbox.materialise(ALICE, [], { from: undefined, to: '' })).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(h.inbox.catchUpMark({ tenantId: '', userId: 'alice' })).rejects.toBeInstanceOf(
        ValidationError,
      );
      expect(await h.inbox.catchUpMark(ALICE)).toBeUndefined();
      expect(await h.inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED })).toEqual([]);
    });

    it('counts exactly what a model counts under any mix of writes, catch-ups, reads and counts', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 14 }), async (ops) => {
          // Prepare: a user of its own per run
          const user: UserKey = { tenantId: 'acme', userId: `model-${run++}` };
          const model = new Map<string, boolean>();
          let watermark = '';
          let mark: string | undefined;
          for (const [n, op] of ops.entries()) {
            // Act
            if (op.kind === 'put') {
              const rows = op.offsets.map((o) => row(user, `e${o}`, T0 + o, { read: op.read }));
              await h.inbox.putMany(rows);
              for (const r of rows) if (!model.has(r.id)) model.set(r.id, r.read);
            } else if (op.kind === 'catchUp') {
              const rows = op.offsets.map((o) => pointerRow(user, `p${o}`, T0 + o));
              await h.inbox.materialise(user, rows, { from: mark, to: `m${n}` });
              mark = `m${n}`;
              for (const r of rows) if (!model.has(r.id)) model.set(r.id, r.id <= watermark);
            } else if (op.kind === 'read') {
              const ids = [...model.keys()].sort();
              const picked = op.picks
                .map((i) => ids[i % Math.max(1, ids.length)])
                .filter((id) => id !== undefined);
              await h.inbox.markRead(
                user,
                picked.map((id) => ({ id })),
              );
              for (const id of picked) model.set(id, true);
            } else if (op.kind === 'readAll') {
              const upTo = maxUlidAt(T0 + op.offset);
              await h.inbox.markAllRead(user, upTo);
              if (upTo > watermark) watermark = upTo;
              for (const id of model.keys()) if (id <= upTo) model.set(id, true);
            } else {
              const bound = op.offset === null ? NONE_EXPIRED : maxUlidAt(T0 + op.offset);
              // Assess
              const expected = [...model].filter(([id, read]) => !read && id > bound).length;
              expect(await h.inbox.unreadCount(user, bound)).toBe(expected);
            }
          }
          // Assess: whatever came before, a last count over everything agrees
          expect(await h.inbox.unreadCount(user, NONE_EXPIRED)).toBe(
            [...model.values()].filter((r) => !r).length,
          );
        }),
        { numRuns: 25 },
      );
    });
  });
}

/** Bob, of the same tenant as `user`: a user with no mark at all. */
function bobOf(user: UserKey): UserKey {
  return { tenantId: user.tenantId, userId: 'bob' };
}

type Operation =
  | { kind: 'put'; offsets: number[]; read: boolean }
  | { kind: 'catchUp'; offsets: number[] }
  | { kind: 'read'; picks: number[] }
  | { kind: 'readAll'; offset: number }
  | { kind: 'count'; offset: number | null };

// Weighted towards counts: a count moves the counted range, and a later write or catch-up below
// it is the case that must still come out exact.
const operation: fc.Arbitrary<Operation> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('put' as const),
      offsets: fc.array(fc.nat(60), { maxLength: 4 }),
      read: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('catchUp' as const),
      offsets: fc.array(fc.nat(60), { maxLength: 4 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('read' as const),
      picks: fc.array(fc.nat(50), { maxLength: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('readAll' as const), offset: fc.nat(60) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('count' as const), offset: fc.option(fc.nat(60)) }) },
);

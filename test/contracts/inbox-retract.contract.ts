import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.ts';
import { minUlidAt } from '../../src/domain/ids.ts';
import type { InboxRow, UserKey } from '../../src/domain/types.ts';
import { inboxRow as row } from '../support/rows.ts';
import type { InboxHarness } from './inbox.contract.ts';

const T0 = Date.UTC(2026, 0, 1);
/** A TTL bound below every id the suite writes: nothing is expired. */
const NONE_EXPIRED = minUlidAt(0);
const ALICE: UserKey = { tenantId: 'acme', userId: 'alice' };
const BOB: UserKey = { tenantId: 'acme', userId: 'bob' };
const OTHER_TENANT: UserKey = { tenantId: 'globex', userId: 'alice' };
const LATER = T0 + 90 * 24 * 60 * 60 * 1000;

function like(user: UserKey, eventId: string, actor: string, ms: number): InboxRow {
  return row(user, eventId, T0 + ms, {
    type: 'like',
    actorId: actor,
    objectId: 'post-1',
    groupKey: 'like\u001fpost-1',
  });
}

async function ids(h: InboxHarness, user: UserKey): Promise<string[]> {
  return (await h.inbox.page(user, { limit: 50, afterId: NONE_EXPIRED })).map((r) => r.id);
}

/**
 * The Inbox port's retraction half: tombstones of retracted events (per tenant and actor) and the
 * removal of rows with exact unread counts; aggregated items are left to `retractFromGroup`.
 */
export function inboxRetractContract(name: string, make: () => Promise<InboxHarness>): void {
  describe(`Inbox contract (retraction): ${name}`, () => {
    let h: InboxHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    it('finds a recorded retraction by event id and actor, within its tenant only', async () => {
      // Act
      await h.inbox.recordRetraction('acme', { eventId: 'e1', actorId: 'bob' }, LATER);
      await h.inbox.recordRetraction('acme', { eventId: 'e1', actorId: 'bob' }, LATER);
      // Assess
      const refs = [
        { eventId: 'e1', actorId: 'bob' },
        { eventId: 'e2', actorId: 'bob' },
      ];
      expect(await h.inbox.retractedAmong('acme', refs)).toEqual(new Set(['e1']));
      expect(await h.inbox.retractedAmong('globex', refs)).toEqual(new Set());
      // Another actor naming bob's event id does not retract it
      expect(await h.inbox.retractedAmong('acme', [{ eventId: 'e1', actorId: 'eve' }])).toEqual(new Set());
      expect(await h.inbox.retractedAmong('acme', [])).toEqual(new Set());
    });

    it('answers for many events in one call, repeats included', async () => {
      // Prepare
      for (let i = 0; i < 120; i += 3) {
        await h.inbox.recordRetraction('acme', { eventId: `e${i}`, actorId: 'bob' }, LATER);
      }
      const refs = Array.from({ length: 120 }, (_, i) => ({ eventId: `e${i}`, actorId: 'bob' }));
      // Act
      const found = await h.inbox.retractedAmong('acme', [...refs, refs[0]!]);
      // Assess
      expect([...found].sort()).toEqual(Array.from({ length: 40 }, (_, i) => `e${i * 3}`).sort());
    });

    it('removes rows, keeping the unread count exact, and is idempotent', async () => {
      // Prepare: three unread rows and one read row
      const mine = [row(ALICE, 'e1', T0 + 1), row(ALICE, 'e2', T0 + 2), row(ALICE, 'e3', T0 + 3)];
      const read = row(ALICE, 'e4', T0 + 4);
      await h.inbox.putMany([...mine, read]);
      await h.inbox.markRead(ALICE, [{ id: read.id }]);
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(3);
      // Act
      const removed = await h.inbox.removeRows(ALICE, [mine[1]!.id, read.id, 'no-such-row']);
      const again = await h.inbox.removeRows(ALICE, [mine[1]!.id, read.id]);
      // Assess
      expect(removed).toBe(2);
      expect(again).toBe(0);
      expect(await ids(h, ALICE)).toEqual([mine[2]!.id, mine[0]!.id]);
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(2);
      expect(await h.inbox.has(ALICE, mine[1]!.id)).toBe(false);
    });

    it("removes only the named user's rows, and never another tenant's", async () => {
      // Prepare: the same event reached alice, bob, and alice of another tenant
      const alice = row(ALICE, 'e1', T0 + 1);
      const bob = row(BOB, 'e1', T0 + 1);
      const other = row(OTHER_TENANT, 'e1', T0 + 1);
      await h.inbox.putMany([alice, bob, other]);
      // Act
      await h.inbox.removeRows(ALICE, [alice.id, bob.id]);
      // Assess
      expect(await ids(h, ALICE)).toEqual([]);
      expect(await ids(h, BOB)).toEqual([bob.id]);
      expect(await ids(h, OTHER_TENANT)).toEqual([other.id]);
      expect(await h.inbox.unreadCount(BOB, NONE_EXPIRED)).toBe(1);
      expect(await h.inbox.unreadCount(OTHER_TENANT, NONE_EXPIRED)).toBe(1);
    });

    it('leaves an aggregated item alone, even under the id of its newest row', async () => {
      // Prepare
      const likes = [like(ALICE, 'l1', 'ana', 10), like(ALICE, 'l2', 'bo', 20)];
      await h.inbox.putMany(likes);
      const [item] = await h.inbox.page(ALICE, { limit: 5, afterId: NONE_EXPIRED });
      // Act
      const removed = await h.inbox.removeRows(ALICE, [item!.id]);
      // Assess
      expect(removed).toBe(0);
      expect((await h.inbox.page(ALICE, { limit: 5, afterId: NONE_EXPIRED }))[0]?.group?.actorCount).toBe(2);
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(1);
    });

    it('removes a caught-up pointer row, and counts stay exact', async () => {
      // Prepare: a pointer caught up unread, a row of fan-out read
      const pointer: InboxRow = { ...row(ALICE, 'p1', T0 + 5), source: 'celebrity', actorId: 'star' };
      const plain = row(ALICE, 'e1', T0 + 1);
      await h.inbox.putMany([plain]);
      await h.inbox.materialise(ALICE, [pointer], { from: undefined, to: 'm1' });
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(2);
      // Act
      await h.inbox.removeRows(ALICE, [pointer.id]);
      // Assess
      expect(await ids(h, ALICE)).toEqual([plain.id]);
      expect(await h.inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(1);
    });

    it('refuses bad input with a ValidationError and changes nothing', async () => {
      // Prepare
      const kept = row(ALICE, 'e1', T0 + 1);
      await h.inbox.putMany([kept]);
      // Act, Assess
      await expect(h.inbox.removeRows(ALICE, [kept.id, ''])).rejects.toBeInstanceOf(ValidationError);
      await expect(h.inbox.removeRows({ tenantId: '', userId: 'alice' }, [kept.id])).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(
        h.inbox.recordRetraction('acme', { eventId: 'e1', actorId: '' }, LATER),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(
        h.inbox.recordRetraction('acme', { eventId: 'e1', actorId: 'bob' }, -1),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(h.inbox.retractedAmong('', [{ eventId: 'e1', actorId: 'bob' }])).rejects.toBeInstanceOf(
        ValidationError,
      );
      expect(await ids(h, ALICE)).toEqual([kept.id]);
      expect(await h.inbox.retractedAmong('acme', [{ eventId: 'e1', actorId: 'bob' }])).toEqual(new Set());
    });
  });
}

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.ts';
import type { InboxRow, UserKey } from '../../src/domain/types.ts';
import { inboxRow as row } from '../support/rows.ts';
import type { InboxHarness } from './inbox.contract.ts';

const T0 = Date.UTC(2026, 0, 1);
const ALICE: UserKey = { tenantId: 'acme', userId: 'alice' };
const BOB: UserKey = { tenantId: 'acme', userId: 'bob' };
const OTHER_TENANT: UserKey = { tenantId: 'globex', userId: 'alice' };
const POST = 'like\u001fpost-1';

function like(user: UserKey, eventId: string, actor: string, ms: number): InboxRow {
  return row(user, eventId, T0 + ms, { type: 'like', actorId: actor, objectId: 'post-1', groupKey: POST });
}

/** `Inbox.group`: a group as it is now, what push digests render from. */
export function inboxGroupReadContract(name: string, make: () => Promise<InboxHarness>): void {
  describe(`Inbox contract (group read): ${name}`, () => {
    let h: InboxHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    it('reads a group as its item shows it: id, exact count, newest actors', async () => {
      // Prepare
      const likes = ['ana', 'bo', 'cy', 'di'].map((a, i) => like(ALICE, `l${i}`, a, 10 + i));
      await h.inbox.putMany(likes);
      await h.inbox.putMany([like(ALICE, 'l0', 'ana', 10), like(ALICE, 'again', 'bo', 50)]);
      // Act
      const group = await h.inbox.group(ALICE, POST);
      // Assess
      expect(group).toEqual({ id: likes[3]!.id, actorCount: 4, actors: ['di', 'cy', 'bo'] });
    });

    it('reads nothing for a group never started, of another user or tenant, or emptied', async () => {
      // Prepare
      await h.inbox.putMany([like(ALICE, 'l1', 'ana', 10)]);
      // Act / Assess
      expect(await h.inbox.group(ALICE, 'like\u001fpost-9')).toBeUndefined();
      expect(await h.inbox.group(BOB, POST)).toBeUndefined();
      expect(await h.inbox.group(OTHER_TENANT, POST)).toBeUndefined();
      await h.inbox.retractFromGroup(ALICE, POST, 'ana', 'l1');
      expect(await h.inbox.group(ALICE, POST)).toBeUndefined();
    });

    it('refuses a missing user or group key', async () => {
      await expect(h.inbox.group(ALICE, '')).rejects.toThrow(ValidationError);
      await expect(h.inbox.group({ tenantId: '', userId: 'alice' }, POST)).rejects.toThrow(ValidationError);
    });
  });
}

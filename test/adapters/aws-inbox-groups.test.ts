import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoInbox, type DynamoInboxOptions } from '../../src/adapters/aws/inbox.ts';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { minUlidAt } from '../../src/domain/ids.ts';
import type { InboxRow, UserKey } from '../../src/domain/types.ts';
import { emulatorClients, freshTables } from '../support/aws.ts';
import { inboxRow } from '../support/rows.ts';

const clients = emulatorClients();
afterAll(() => clients.destroy());

const T0 = Date.UTC(2026, 0, 1);
const TEST_TTL_MS = 10 * 365 * 24 * 60 * 60 * 1000;
const NONE_EXPIRED = minUlidAt(0);
const OWNER: UserKey = { tenantId: 'acme', userId: 'owner' };

function like(eventId: string, actor: string, ms: number): InboxRow {
  return inboxRow(OWNER, eventId, T0 + ms, {
    type: 'like',
    actorId: actor,
    objectId: 'post-1',
    groupKey: 'like\u001fpost-1',
  });
}

function likes(n: number, from = 0): InboxRow[] {
  return Array.from({ length: n }, (_, i) => like(`l${from + i}`, `u${from + i}`, from + i));
}

/** A document client whose next TransactWriteItems fails as a crash would: after the puts. */
function crashingOnce(): { documents: DynamoInboxOptions['documents']; armed: { on: boolean } } {
  const armed = { on: true };
  const real = clients.documents;
  const documents = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop !== 'send') return Reflect.get(target, prop, receiver);
      return (command: unknown) => {
        if (armed.on && command instanceof TransactWriteCommand) {
          armed.on = false;
          return Promise.reject(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
        }
        return target.send(command as never);
      };
    },
  });
  return { documents, armed };
}

async function table(): Promise<string> {
  return (await freshTables(clients, ['inbox'])).inbox;
}

async function groupItem(inbox: DynamoInbox): Promise<InboxRow> {
  const page = await inbox.page(OWNER, { limit: 10, afterId: NONE_EXPIRED });
  expect(page).toHaveLength(1);
  return page[0]!;
}

describe('DynamoInbox aggregated items across crashes', () => {
  it('counts every actor once when the retry of a crashed write adopts its intent', async () => {
    // Prepare: the write of five likes crashes after its actor items are in
    const tableName = await table();
    const { documents } = crashingOnce();
    const inbox = new DynamoInbox({ documents, tableName, ttlMs: TEST_TTL_MS, unread: 'gsi' });
    const batch = likes(5);
    await expect(inbox.putMany(batch)).rejects.toBeInstanceOf(StoreUnavailableError);
    // Act: the batch is retried, then a sixth actor joins
    await inbox.putMany(batch);
    await inbox.putMany(likes(1, 5));
    // Assess
    expect((await groupItem(inbox)).group).toEqual({ actors: ['u5', 'u4', 'u3'], actorCount: 6 });
    expect(await inbox.unreadCount(OWNER, NONE_EXPIRED)).toBe(1);
  });

  it('lets any later write adopt an intent older than the lease, and the retry then counts nothing', async () => {
    // Prepare: a crashed write of three likes
    const tableName = await table();
    let now = T0;
    const { documents } = crashingOnce();
    const inbox = new DynamoInbox({ documents, tableName, ttlMs: TEST_TTL_MS, clock: { now: () => now } });
    const crashed = likes(3);
    await expect(inbox.putMany(crashed)).rejects.toBeInstanceOf(StoreUnavailableError);
    // Act: 17 minutes on, another actor's like; then the crashed batch comes again
    now += 17 * 60 * 1000;
    await inbox.putMany(likes(1, 3));
    await inbox.putMany(crashed);
    // Assess
    expect((await groupItem(inbox)).group?.actorCount).toBe(4);
  });

  it('does not adopt a young intent of another write (it may still be running)', async () => {
    // Prepare
    const tableName = await table();
    const { documents } = crashingOnce();
    const inbox = new DynamoInbox({ documents, tableName, ttlMs: TEST_TTL_MS, clock: { now: () => T0 } });
    await expect(inbox.putMany(likes(3))).rejects.toBeInstanceOf(StoreUnavailableError);
    // Act
    await inbox.putMany(likes(1, 3));
    // Assess: only the finished write counts so far; the retry will count the rest
    expect((await groupItem(inbox)).group?.actorCount).toBe(1);
    await inbox.putMany(likes(3));
    expect((await groupItem(inbox)).group?.actorCount).toBe(4);
  });
});

describe('DynamoInbox aggregated items: write cost', () => {
  it('costs little more than one write unit per like when a call holds many likes of one group', async () => {
    // Prepare
    const tableName = await table();
    let wcu = 0;
    const inbox = new DynamoInbox({
      documents: clients.documents,
      tableName,
      ttlMs: TEST_TTL_MS,
      unread: 'counter',
      clock: { now: () => T0 + 200 },
      capacity: { add: (_t, w) => (wcu += w) },
    });
    // Act
    await inbox.putMany(likes(100));
    // Assess: 100 actor items, the intent, one transaction (group, row)
    expect(wcu).toBeGreaterThanOrEqual(100);
    expect(wcu / 100).toBeLessThan(1.2);
  });
});

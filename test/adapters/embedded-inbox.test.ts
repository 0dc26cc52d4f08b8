import { describe, expect, it } from 'vitest';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedInbox } from '../../src/adapters/embedded/inbox.ts';
import { notificationId, POINTER_RECIPIENT } from '../../src/domain/ids.ts';
import { liveLowerBound } from '../../src/domain/ttl.ts';
import type { InboxRow } from '../../src/domain/types.ts';
import { inboxContract } from '../contracts/inbox.contract.ts';

inboxContract('embedded', async () => {
  const db = new EmbeddedDb({ path: ':memory:' });
  return {
    inbox: new EmbeddedInbox({ db }),
    async close() {
      db.close();
    },
  };
});

// Every count that finds a row outside the counted range folds it in: the counter's write path
// under every operation of the suite.
inboxContract('embedded, counter folded on every count', async () => {
  const db = new EmbeddedDb({ path: ':memory:' });
  return {
    inbox: new EmbeddedInbox({ db, unreadFoldAt: 1 }),
    async close() {
      db.close();
    },
  };
});

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.UTC(2026, 4, 1);

function row(userId: string, eventId: string, createdAt: number): InboxRow {
  return {
    tenantId: 'acme',
    userId,
    id: notificationId(eventId, userId, createdAt),
    eventId,
    type: 'like',
    category: 'social',
    actorId: 'carol',
    createdAt,
    read: false,
  };
}

describe('EmbeddedInbox.purgeExpired', () => {
  it('deletes expired rows of every user, in small batches, keeps live ones and the counts exact', async () => {
    // Prepare: old and new rows and caught-up pointers, counted before the purge
    const db = new EmbeddedDb({ path: ':memory:' });
    const inbox = new EmbeddedInbox({ db, ttlMs: 10 * DAY });
    const users = ['u1', 'u2', 'u3'];
    const everything = liveLowerBound(0);
    for (const user of users) {
      const key = { tenantId: 'acme', userId: user };
      await inbox.putMany([
        ...Array.from({ length: 4 }, (_, i) => row(user, `old-${i}`, NOW - 20 * DAY + i)),
        row(user, 'new', NOW - DAY),
      ]);
      expect(await inbox.unreadCount(key, everything)).toBe(5);
      await inbox.materialise(
        key,
        [pointerRow(user, 'old-p', NOW - 11 * DAY), pointerRow(user, 'new-p', NOW - DAY + 1)],
        {
          from: undefined,
          to: '1',
        },
      );
    }
    // Act
    const purged = await inbox.purgeExpired(NOW, { batchSize: 3 });
    const again = await inbox.purgeExpired(NOW);
    // Assess
    expect(purged).toEqual({ rows: 15 });
    expect(again).toEqual({ rows: 0 });
    for (const user of users) {
      const key = { tenantId: 'acme', userId: user };
      const left = await inbox.page(key, { limit: 10, afterId: everything });
      expect(left.map((r) => r.eventId)).toEqual(['new-p', 'new']);
      expect(await inbox.unreadCount(key, everything)).toBe(2);
    }
    db.close();
  });
});

function pointerRow(userId: string, eventId: string, createdAt: number): InboxRow {
  return {
    ...row(userId, eventId, createdAt),
    id: notificationId(eventId, POINTER_RECIPIENT, createdAt),
    actorId: 'star',
    source: 'celebrity',
  };
}

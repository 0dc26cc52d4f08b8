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
  it('deletes expired rows and read marks of every user, in small batches, and keeps live ones', async () => {
    // Prepare
    const db = new EmbeddedDb({ path: ':memory:' });
    const inbox = new EmbeddedInbox({ db, ttlMs: 10 * DAY });
    const users = ['u1', 'u2', 'u3'];
    for (const user of users) {
      await inbox.putMany([
        ...Array.from({ length: 4 }, (_, i) => row(user, `old-${i}`, NOW - 20 * DAY + i)),
        row(user, 'new', NOW - DAY),
      ]);
      await inbox.markRead({ tenantId: 'acme', userId: user }, [
        { id: notificationId('old-p', POINTER_RECIPIENT, NOW - 11 * DAY), authorId: 'star' },
        { id: notificationId('new-p', POINTER_RECIPIENT, NOW - DAY), authorId: 'star' },
      ]);
    }
    // Act
    const purged = await inbox.purgeExpired(NOW, { batchSize: 3 });
    const again = await inbox.purgeExpired(NOW);
    // Assess
    expect(purged).toEqual({ rows: 12, readMarks: 3 });
    expect(again).toEqual({ rows: 0, readMarks: 0 });
    const everything = liveLowerBound(0);
    for (const user of users) {
      const key = { tenantId: 'acme', userId: user };
      const left = await inbox.page(key, { limit: 10, afterId: everything });
      expect(left.map((r) => r.eventId)).toEqual(['new']);
      expect(await inbox.countReadMarks(key, ['star'], everything)).toBe(1);
    }
    db.close();
  });
});

import { describe, expect, it } from 'vitest';
import { EmbeddedCelebrityFeed } from '../../src/adapters/embedded/celebrity-feed.ts';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { notificationId, POINTER_RECIPIENT } from '../../src/domain/ids.ts';
import { liveLowerBound } from '../../src/domain/ttl.ts';
import type { CelebrityPointer } from '../../src/domain/types.ts';
import { celebrityFeedContract } from '../contracts/celebrity-feed.contract.ts';

celebrityFeedContract('embedded', async () => {
  const db = new EmbeddedDb({ path: ':memory:' });
  return {
    feed: new EmbeddedCelebrityFeed({ db }),
    async close() {
      db.close();
    },
  };
});

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.UTC(2026, 4, 1);

function pointer(authorId: string, eventId: string, createdAt: number): CelebrityPointer {
  return {
    tenantId: 'acme',
    authorId,
    id: notificationId(eventId, POINTER_RECIPIENT, createdAt),
    eventId,
    type: 'post',
    category: 'content',
    createdAt,
  };
}

describe('EmbeddedCelebrityFeed.purgeExpired', () => {
  it('deletes expired pointers of every author and their log entries, and keeps live ones', async () => {
    // Prepare
    const db = new EmbeddedDb({ path: ':memory:' });
    const feed = new EmbeddedCelebrityFeed({ db, ttlMs: 10 * DAY });
    for (const author of ['s1', 's2']) {
      await feed.put([
        ...Array.from({ length: 5 }, (_, i) => pointer(author, `${author}-old-${i}`, NOW - 30 * DAY + i)),
        pointer(author, `${author}-new`, NOW - DAY),
      ]);
    }
    // Act
    const purged = await feed.purgeExpired(NOW, { batchSize: 2 });
    const again = await feed.purgeExpired(NOW);
    // Assess
    expect(purged).toEqual({ pointers: 10, arrivals: 10 });
    expect(again).toEqual({ pointers: 0, arrivals: 0 });
    const arrivals = await feed.arrivals('acme', undefined, 100);
    expect(arrivals.entries.map((e) => e.authorId).sort()).toEqual(['s1', 's2']);
    for (const author of ['s1', 's2']) {
      const left = await feed.page(
        { tenantId: 'acme', userId: author },
        { limit: 10, afterId: liveLowerBound(0) },
      );
      expect(left.map((p) => p.eventId)).toEqual([`${author}-new`]);
    }
    db.close();
  });
});

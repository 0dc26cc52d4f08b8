import { describe, expect, it } from 'vitest';
import { digestStorm } from '../../bench/aggregate-push.ts';
import { withTempDir } from '../../bench/support.ts';
import type { AuthorEvent } from '../../src/domain/types.ts';
import { kinesisEvent } from '../support/events.ts';

const AT = Date.UTC(2026, 0, 1);

function like(i: number): AuthorEvent {
  return {
    tenantId: 'bench',
    id: `like-${i}`,
    type: 'like',
    actorId: `liker-${i}`,
    objectId: 'post-1',
    recipients: ['owner'],
    occurredAt: AT + i,
    acceptedAt: AT + i,
  };
}

describe('the aggregate benchmark push side (small)', () => {
  it('pushes the owner of 1,200 likes over ~20 minutes once per window, with one collapse id', async () => {
    // Prepare: 12 batches of 100 likes, 100 s of clock each
    const batches = Array.from({ length: 12 }, (_, b) =>
      kinesisEvent(Array.from({ length: 100 }, (_, i) => ({ event: like(b * 100 + i) }))),
    );
    // Act
    const figures = await withTempDir('digest-smoke', (dir) =>
      digestStorm({
        dir,
        owner: { tenantId: 'bench', userId: 'owner' },
        batches,
        start: AT,
        msPerBatch: 100_000,
      }),
    );
    // Assess
    expect(figures.jobs).toBeGreaterThanOrEqual(1200);
    expect(figures.maxPerWindow).toBe(1);
    expect(figures.collapseIds).toBe(1);
    expect(figures.pushes).toBeGreaterThan(1);
    expect(figures.pushes).toBeLessThanOrEqual(figures.windows);
    expect([figures.items, figures.actorCount, figures.unread]).toEqual([1, 1200, 1]);
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.ts';
import { minUlidAt, notificationId, POINTER_RECIPIENT } from '../../src/domain/ids.ts';
import type { CelebrityPointer } from '../../src/domain/types.ts';
import type { CelebrityFeedHarness } from './celebrity-feed.contract.ts';

const T0 = Date.UTC(2026, 0, 1);
const NONE_EXPIRED = minUlidAt(0);

function pointer(tenantId: string, authorId: string, eventId: string, ms: number): CelebrityPointer {
  return {
    tenantId,
    authorId,
    id: notificationId(`${tenantId}/${eventId}`, POINTER_RECIPIENT, T0 + ms),
    eventId,
    type: 'post',
    category: 'content',
    createdAt: T0 + ms,
  };
}

/**
 * `CelebrityFeed.remove`: a retracted celebrity event's pointer is gone from every read, idempotently,
 * and only that author's pointer in that tenant.
 */
export function celebrityFeedRemoveContract(name: string, make: () => Promise<CelebrityFeedHarness>): void {
  describe(`CelebrityFeed contract (remove): ${name}`, () => {
    let h: CelebrityFeedHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    it('removes a pointer from the feed, get and getMany; a second remove is a no-op', async () => {
      // Prepare
      const [gone, kept] = [pointer('acme', 'star', 'e1', 1), pointer('acme', 'star', 'e2', 2)];
      await h.feed.put([gone, kept]);
      // Act
      const first = await h.feed.remove('acme', 'star', gone.id);
      const second = await h.feed.remove('acme', 'star', gone.id);
      // Assess
      expect([first, second]).toEqual([true, false]);
      expect(await h.feed.get('acme', gone.id)).toBeUndefined();
      const refs = [gone, kept].map((p) => ({ authorId: p.authorId, id: p.id }));
      expect((await h.feed.getMany('acme', refs)).map((p) => p.id)).toEqual([kept.id]);
      const page = await h.feed.page(
        { tenantId: 'acme', userId: 'star' },
        { limit: 10, afterId: NONE_EXPIRED },
      );
      expect(page.map((p) => p.id)).toEqual([kept.id]);
    });

    it("leaves another author's and another tenant's pointer alone", async () => {
      // Prepare
      const mine = pointer('acme', 'star', 'e1', 1);
      const theirs = pointer('globex', 'star', 'e1', 1);
      await h.feed.put([mine, theirs]);
      // Act
      const wrongAuthor = await h.feed.remove('acme', 'other', mine.id);
      const otherTenant = await h.feed.remove('acme', 'star', theirs.id);
      // Assess
      expect(wrongAuthor).toBe(false);
      expect(await h.feed.get('acme', mine.id)).toEqual(mine);
      expect(await h.feed.get('globex', theirs.id)).toEqual(theirs);
      expect(otherTenant).toBe(false);
    });

    it('refuses empty names', async () => {
      await expect(h.feed.remove('', 'star', 'x')).rejects.toBeInstanceOf(ValidationError);
      await expect(h.feed.remove('acme', '', 'x')).rejects.toBeInstanceOf(ValidationError);
      await expect(h.feed.remove('acme', 'star', '')).rejects.toBeInstanceOf(ValidationError);
    });
  });
}

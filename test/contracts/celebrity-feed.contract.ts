import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.ts';
import { minUlidAt, notificationId, POINTER_RECIPIENT } from '../../src/domain/ids.ts';
import type { CelebrityPointer, UserKey } from '../../src/domain/types.ts';
import type { CelebrityFeed } from '../../src/ports/celebrity-feed.ts';
import { celebrityFeedRemoveContract } from './celebrity-feed-remove.contract.ts';

/** What a suite run needs: a fresh, empty feed per test. */
export interface CelebrityFeedHarness {
  readonly feed: CelebrityFeed;
  close(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 1);
/** A TTL bound below every id the suite writes: nothing is expired. */
const NONE_EXPIRED = minUlidAt(0);
const STAR: UserKey = { tenantId: 'acme', userId: 'star' };

function pointer(
  author: UserKey,
  eventId: string,
  createdAt: number,
  extra: Partial<CelebrityPointer> = {},
): CelebrityPointer {
  return {
    tenantId: author.tenantId,
    authorId: author.userId,
    id: notificationId(`${author.tenantId}/${eventId}`, POINTER_RECIPIENT, createdAt),
    eventId,
    type: 'post',
    category: 'content',
    createdAt,
    ...extra,
  };
}

/** Pointers of `author`, one per ms from T0, oldest first. */
function pointers(author: UserKey, n: number): CelebrityPointer[] {
  return Array.from({ length: n }, (_, i) => pointer(author, `e${i}`, T0 + i));
}

function ids(list: readonly { readonly id: string }[]): Set<string> {
  return new Set(list.map((p) => p.id));
}

function sortById<T extends { readonly id: string }>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => (a.id < b.id ? -1 : 1));
}

/**
 * The CelebrityFeed port's contract: one pointer per event, read newest first by author, fetched
 * by reference, and an arrival log per tenant that hands every pointer out from a mark.
 */
export function celebrityFeedContract(name: string, make: () => Promise<CelebrityFeedHarness>): void {
  describe(`CelebrityFeed contract: ${name}`, () => {
    let h: CelebrityFeedHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    it('reads back a pointer with every field as written', async () => {
      // Prepare
      const written = pointer(STAR, 'e1', T0, { objectId: 'post-1', data: { title: 'hello', n: 2 } });
      // Act
      await h.feed.put([written]);
      // Assess
      expect(await h.feed.page(STAR, { limit: 10, afterId: NONE_EXPIRED })).toEqual([written]);
      expect(await h.feed.get('acme', written.id)).toEqual(written);
    });

    it('writes a pointer once per id: a repeat changes nothing', async () => {
      // Prepare
      const [first] = pointers(STAR, 1);
      await h.feed.put([first!]);
      // Act
      await h.feed.put([{ ...first!, data: { changed: true } }, first!]);
      // Assess
      expect(await h.feed.page(STAR, { limit: 10, afterId: NONE_EXPIRED })).toEqual([first]);
    });

    it('pages an author’s pointers newest first, strictly within the bounds', async () => {
      // Prepare
      const written = pointers(STAR, 8);
      await h.feed.put([...written].reverse());
      // Act
      const everything = await h.feed.page(STAR, { limit: 100, afterId: NONE_EXPIRED });
      const bounded = await h.feed.page(STAR, {
        limit: 100,
        afterId: written[1]!.id,
        beforeId: written[6]!.id,
      });
      const limited = await h.feed.page(STAR, { limit: 2, afterId: NONE_EXPIRED, beforeId: written[6]!.id });
      // Assess
      expect(everything.map((p) => p.eventId)).toEqual(['e7', 'e6', 'e5', 'e4', 'e3', 'e2', 'e1', 'e0']);
      expect(bounded.map((p) => p.eventId)).toEqual(['e5', 'e4', 'e3', 'e2']);
      expect(limited.map((p) => p.eventId)).toEqual(['e5', 'e4']);
    });

    it('never repeats or skips a pointer across pages of any size', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 0, max: 15 }), { maxLength: 30 }),
          fc.integer({ min: 1, max: 7 }),
          async (offsets, limit) => {
            // Prepare: an author of its own per run
            const author: UserKey = { tenantId: 'acme', userId: `star-${run++}` };
            const written = offsets.map((offset, i) => pointer(author, `e${i}`, T0 + offset));
            await h.feed.put(written);
            // Act
            const seen: string[] = [];
            let beforeId: string | undefined;
            for (;;) {
              const page = await h.feed.page(author, {
                limit,
                afterId: NONE_EXPIRED,
                ...(beforeId === undefined ? {} : { beforeId }),
              });
              if (page.length === 0) break;
              seen.push(...page.map((p) => p.id));
              beforeId = page.at(-1)!.id;
            }
            // Assess
            expect(seen).toEqual(
              written
                .map((p) => p.id)
                .sort()
                .reverse(),
            );
          },
        ),
        { numRuns: 30 },
      );
    });

    it('finds a pointer by id within its tenant only', async () => {
      // Prepare
      const written = pointer(STAR, 'e1', T0);
      await h.feed.put([written]);
      // Act
      const found = await h.feed.get('acme', written.id);
      const elsewhere = await h.feed.get('globex', written.id);
      const unknown = await h.feed.get('acme', notificationId('nope', POINTER_RECIPIENT, T0));
      // Assess
      expect(found).toEqual(written);
      expect(elsewhere).toBeUndefined();
      expect(unknown).toBeUndefined();
    });

    it('keeps the same author id of two tenants apart', async () => {
      // Prepare
      const otherStar: UserKey = { tenantId: 'globex', userId: 'star' };
      await h.feed.put([...pointers(STAR, 3), pointer(otherStar, 'g0', T0 + 50)]);
      // Act
      const acme = await h.feed.page(STAR, { limit: 10, afterId: NONE_EXPIRED });
      const globex = await h.feed.page(otherStar, { limit: 10, afterId: NONE_EXPIRED });
      // Assess
      expect(acme.map((p) => p.eventId)).toEqual(['e2', 'e1', 'e0']);
      expect(globex.map((p) => [p.tenantId, p.eventId])).toEqual([['globex', 'g0']]);
    });

    it('fetches the pointers named, within the tenant, leaving out those not there', async () => {
      // Prepare
      const [p0, p1, p2] = pointers(STAR, 3);
      await h.feed.put([p0!, p1!, p2!]);
      // Act
      const found = await h.feed.getMany('acme', [
        { authorId: 'star', id: p2!.id },
        { authorId: 'star', id: p0!.id },
        { authorId: 'idol', id: p1!.id },
        { authorId: 'star', id: notificationId('nope', POINTER_RECIPIENT, T0) },
        { authorId: 'star', id: p0!.id },
      ]);
      // Assess
      expect(sortById(found)).toEqual([p0, p2]);
      expect(await h.feed.getMany('globex', [{ authorId: 'star', id: p0!.id }])).toEqual([]);
      expect(await h.feed.getMany('acme', [])).toEqual([]);
    });

    it('logs every pointer put and hands each out once, oldest first, from a mark', async () => {
      // Prepare
      const [p0, p1, p2, p3] = pointers(STAR, 4);
      await h.feed.put([p0!, p1!]);
      // Act
      const first = await h.feed.arrivals('acme', undefined, 10);
      await h.feed.put([p2!]);
      await h.feed.put([p3!]);
      const second = await h.feed.arrivals('acme', first.next, 10);
      const third = await h.feed.arrivals('acme', second.next, 10);
      // Assess
      expect(ids(first.entries)).toEqual(new Set([p0!.id, p1!.id]));
      expect(first.entries.every((e) => e.authorId === 'star')).toBe(true);
      expect(first.more).toBe(false);
      // Entries may repeat; what arrived after the mark must be there.
      expect([...ids(second.entries)]).toEqual(expect.arrayContaining([p2!.id, p3!.id]));
      expect(second.entries.findIndex((e) => e.id === p2!.id)).toBeLessThan(
        second.entries.findIndex((e) => e.id === p3!.id),
      );
      // Nothing new: nothing handed out and the same mark, so a catch-up writes nothing.
      expect(third).toEqual({ entries: [], next: second.next, more: false });
    });

    it('logs a retried put again, naming the same pointer', async () => {
      // Prepare
      const [p0] = pointers(STAR, 1);
      await h.feed.put([p0!]);
      const first = await h.feed.arrivals('acme', undefined, 10);
      // Act: a retried put of the same pointer
      await h.feed.put([p0!]);
      const after = await h.feed.arrivals('acme', first.next, 10);
      // Assess
      expect(first.entries).toEqual([{ authorId: 'star', id: p0!.id }]);
      expect(after.entries.every((e) => e.id === p0!.id)).toBe(true);
      expect(await h.feed.page(STAR, { limit: 10, afterId: NONE_EXPIRED })).toEqual([p0]);
    });

    it('pages the arrival log by limit without losing an entry', async () => {
      // Prepare
      const written = pointers(STAR, 7);
      for (const p of written) await h.feed.put([p]);
      // Act
      const seen = new Set<string>();
      let after: string | undefined;
      let pages = 0;
      for (;;) {
        const page = await h.feed.arrivals('acme', after, 2);
        for (const e of page.entries) seen.add(e.id);
        pages++;
        if (page.entries.length === 0 && page.next === after) break;
        after = page.next;
        if (!page.more) break;
        if (pages > 50) throw new Error('paging does not end');
      }
      // Assess
      expect(seen).toEqual(ids(written));
      expect(pages).toBeGreaterThan(1);
    });

    it('starts a reader who follows nobody yet after everything logged so far', async () => {
      // Prepare
      const [p0, p1] = pointers(STAR, 2);
      await h.feed.put([p0!]);
      // Act
      const tail = await h.feed.arrivalTail('acme');
      const atTail = await h.feed.arrivals('acme', tail, 10);
      await h.feed.put([p1!]);
      const later = await h.feed.arrivals('acme', tail, 10);
      // Assess
      expect(atTail.entries).toEqual([]);
      expect(later.entries).toEqual([{ authorId: 'star', id: p1!.id }]);
      expect(await h.feed.arrivals('acme', await h.feed.arrivalTail('globex'), 10)).toMatchObject({
        more: false,
      });
    });

    it('keeps the arrival logs of two tenants apart', async () => {
      // Prepare
      const otherStar: UserKey = { tenantId: 'globex', userId: 'star' };
      await h.feed.put([...pointers(STAR, 2), pointer(otherStar, 'g0', T0 + 50)]);
      // Act
      const acme = await h.feed.arrivals('acme', undefined, 10);
      const globex = await h.feed.arrivals('globex', undefined, 10);
      const initech = await h.feed.arrivals('initech', undefined, 10);
      // Assess
      expect(acme.entries).toHaveLength(2);
      expect(globex.entries).toEqual([{ authorId: 'star', id: pointer(otherStar, 'g0', T0 + 50).id }]);
      expect(initech.entries).toEqual([]);
    });

    it('rejects a batch holding an invalid pointer and writes none of it', async () => {
      // Prepare
      const good = pointers(STAR, 2);
      const bad = { ...pointer(STAR, 'bad', T0 + 9), eventId: '' };
      // Act
      const writing = h.feed.put([good[0]!, bad, good[1]!]);
      // Assess
      await expect(writing).rejects.toBeInstanceOf(ValidationError);
      expect(await h.feed.page(STAR, { limit: 10, afterId: NONE_EXPIRED })).toEqual([]);
      expect((await h.feed.arrivals('acme', undefined, 10)).entries).toEqual([]);
    });

    it.each([
      ['an empty author', { authorId: '' }],
      ['an empty id', { id: '' }],
      ['a createdAt that is not epoch ms', { createdAt: Number.NaN }],
    ])('rejects a pointer with %s', async (_label, change) => {
      // Act
      const writing = h.feed.put([{ ...pointer(STAR, 'e1', T0), ...change }]);
      // Assess
      await expect(writing).rejects.toBeInstanceOf(ValidationError);
    });

    it('rejects bad reads with a ValidationError', async () => {
      // Act / Assess
      await expect(h.feed.page(STAR, { limit: 0, afterId: NONE_EXPIRED })).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(h.feed.page(STAR, { limit: 5, afterId: '' })).rejects.toBeInstanceOf(ValidationError);
      await expect(
        h.feed.page({ tenantId: 'acme', userId: '' }, { limit: 5, afterId: NONE_EXPIRED }),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(h.feed.get('', 'x')).rejects.toBeInstanceOf(ValidationError);
      await expect(h.feed.getMany('acme', [{ authorId: '', id: 'x' }])).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(h.feed.arrivals('', undefined, 10)).rejects.toBeInstanceOf(ValidationError);
      await expect(h.feed.arrivals('acme', undefined, 0)).rejects.toBeInstanceOf(ValidationError);
      await expect(h.feed.arrivals('acme', 'not a mark', 10)).rejects.toBeInstanceOf(ValidationError);
    });
  });
  celebrityFeedRemoveContract(name, make);
}

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { notificationId } from '../../src/domain/ids.ts';
import { mergeNewestFirst } from '../../src/domain/merge.ts';
import type { InboxItem } from '../../src/domain/types.ts';

function item(id: string, source: InboxItem['source'] = 'row'): InboxItem {
  return {
    id,
    type: 'post',
    category: 'content',
    actorId: 'a',
    objectId: null,
    eventId: 'e',
    createdAt: 0,
    read: false,
    data: null,
    source,
  };
}

// A shared pool of ids lets sources overlap, so duplicates are exercised.
const pool = fc.uniqueArray(
  fc
    .tuple(fc.integer({ min: 0, max: 1_000 }), fc.string({ minLength: 1, maxLength: 6 }))
    .map(([t, r]) => notificationId('evt', r, t)),
  { minLength: 1, maxLength: 60 },
);

const scenario = pool.chain((ids) =>
  fc.record({
    sources: fc.array(
      fc.subarray(ids).map((sub) =>
        [...sub]
          .sort()
          .reverse()
          .map((id) => item(id)),
      ),
      { maxLength: 8 },
    ),
    limit: fc.integer({ min: 0, max: 80 }),
  }),
);

describe('mergeNewestFirst', () => {
  it('returns the newest `limit` distinct ids of all sources, newest first, never repeating', () => {
    fc.assert(
      fc.property(scenario, ({ sources, limit }) => {
        // Act
        const merged = mergeNewestFirst(sources, limit).map((i) => i.id);
        // Assess
        for (let k = 1; k < merged.length; k++) expect(merged[k - 1]! > merged[k]!).toBe(true);
        const expected = [...new Set(sources.flat().map((i) => i.id))].sort().reverse().slice(0, limit);
        expect(merged).toEqual(expected);
      }),
    );
  });

  it('pages through the union without skipping or repeating when the next page starts below the last id', () => {
    fc.assert(
      fc.property(scenario, fc.integer({ min: 1, max: 7 }), ({ sources }, pageSize) => {
        // Prepare
        const seen: string[] = [];
        let after: string | undefined;
        // Act: each page re-reads every source strictly below the cursor, as the inbox does
        for (;;) {
          const below = sources.map((s) => s.filter((i) => after === undefined || i.id < after));
          const page = mergeNewestFirst(below, pageSize);
          if (page.length === 0) break;
          seen.push(...page.map((i) => i.id));
          after = page[page.length - 1]!.id;
        }
        // Assess
        expect(seen).toEqual([...new Set(sources.flat().map((i) => i.id))].sort().reverse());
      }),
    );
  });

  it('keeps the item of the earlier source when two sources hold the same id', () => {
    const id = notificationId('evt', 'x', 10);
    const merged = mergeNewestFirst([[item(id, 'row')], [item(id, 'celebrity')]], 10);
    expect(merged).toHaveLength(1);
    expect(merged[0]!.source).toBe('row');
  });

  it('returns nothing for no sources or a non-positive limit', () => {
    expect(mergeNewestFirst([], 10)).toEqual([]);
    expect(mergeNewestFirst([[item(notificationId('e', 'r', 1))]], 0)).toEqual([]);
  });
});

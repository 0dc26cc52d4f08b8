import type { InboxItem } from './types.ts';

/**
 * Newest-first merge of sources that are each newest first. Duplicate ids appear once. Returns
 * at most `limit` items. Global ULID order is what makes one cursor enough.
 *
 * On equal ids the earlier source wins, so callers list inbox rows before celebrity pointers.
 * An item not strictly older than the last one taken is skipped, which keeps the output strictly
 * decreasing (no repeats) even if a source breaks its order.
 */
export function mergeNewestFirst(sources: readonly (readonly InboxItem[])[], limit: number): InboxItem[] {
  const out: InboxItem[] = [];
  if (limit <= 0) return out;
  const heads = sources.map(() => 0);
  let last: string | undefined;
  while (out.length < limit) {
    // Sources are few (one per followed celebrity plus the inbox) and pages short: a linear scan
    // of the heads beats a heap here.
    let best = -1;
    let bestId = '';
    for (let s = 0; s < sources.length; s++) {
      const source = sources[s]!;
      let h = heads[s]!;
      while (h < source.length && last !== undefined && source[h]!.id >= last) h++;
      heads[s] = h;
      if (h < source.length && (best < 0 || source[h]!.id > bestId)) {
        best = s;
        bestId = source[h]!.id;
      }
    }
    if (best < 0) break;
    out.push(sources[best]![heads[best]!]!);
    heads[best]! += 1;
    last = bestId;
  }
  return out;
}

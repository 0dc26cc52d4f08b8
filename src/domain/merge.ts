import type { InboxItem } from './types.ts';

/**
 * Newest-first merge of sources that are each newest first. Duplicate ids appear once. Returns
 * at most `limit` items. Global ULID order is what makes one cursor enough.
 */
export function mergeNewestFirst(sources: readonly (readonly InboxItem[])[], limit: number): InboxItem[] {
  throw new Error(`not implemented ${sources} ${limit}`);
}

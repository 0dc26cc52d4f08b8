import type { CelebrityPointer, NotificationId, TenantId, UserKey } from '../domain/types.ts';

export interface FeedPageOptions {
  readonly limit: number;
  readonly beforeId?: NotificationId;
  /** TTL bound: only ids strictly newer. */
  readonly afterId: NotificationId;
}

/** One pointer per celebrity event, read by author and merged into inboxes at read time. */
export interface CelebrityFeed {
  /** Idempotent per (tenant, author, id). */
  put(pointers: readonly CelebrityPointer[]): Promise<void>;
  /** Newest first within (afterId, beforeId). `author` is the celebrity. */
  page(author: UserKey, opts: FeedPageOptions): Promise<CelebrityPointer[]>;
  /** Pointers of this author strictly newer than `afterId`. */
  countAfter(author: UserKey, afterId: NotificationId): Promise<number>;
  /** The pointer with this id, within the tenant, if it exists. */
  get(tenantId: TenantId, id: NotificationId): Promise<CelebrityPointer | undefined>;
}

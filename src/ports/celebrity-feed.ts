import type { CelebrityPointer, NotificationId, TenantId, UserId, UserKey } from '../domain/types.ts';

export interface FeedPageOptions {
  readonly limit: number;
  readonly beforeId?: NotificationId;
  /** TTL bound: only ids strictly newer. */
  readonly afterId: NotificationId;
}

/**
 * Where a reader's catch-up stands in their tenant's arrival log. Opaque: made by `arrivals` and
 * `arrivalTail` of one feed, stored by the inbox, and only ever handed back to the same feed.
 */
export type ArrivalMark = string;

/** A pointer as the arrival log names it: enough to fetch it. */
export interface PointerRef {
  readonly authorId: UserId;
  readonly id: NotificationId;
}

/** One page of a tenant's arrival log, oldest arrival first. */
export interface ArrivalPage {
  readonly entries: readonly PointerRef[];
  /** Where the next page starts; store it once every entry of this page has been handled. */
  readonly next: ArrivalMark;
  /** More entries were there than `limit`: ask again from `next`. */
  readonly more: boolean;
}

/**
 * One pointer per celebrity event, written once whatever the follower count (O(1) per event),
 * and a per-tenant arrival log of those pointers in the order they were written, from which
 * each reader's catch-up copies the pointers of the authors they follow into their own inbox.
 */
export interface CelebrityFeed {
  /**
   * Idempotent per (tenant, author, id). Appends one arrival-log entry per pointer every time,
   * even when the pointer exists already: a crash between the pointer and its log entry must not
   * lose the entry (a repeated entry is harmless: materialising a pointer is idempotent).
   */
  put(pointers: readonly CelebrityPointer[]): Promise<void>;
  /** Newest first within (afterId, beforeId). `author` is the celebrity. */
  page(author: UserKey, opts: FeedPageOptions): Promise<CelebrityPointer[]>;
  /** The pointer with this id, within the tenant, if it exists. */
  get(tenantId: TenantId, id: NotificationId): Promise<CelebrityPointer | undefined>;
  /** The pointers named, within the tenant; those that do not exist (any more) are left out. */
  getMany(tenantId: TenantId, refs: readonly PointerRef[]): Promise<CelebrityPointer[]>;
  /**
   * Up to `limit` entries of the tenant's arrival log after `after` (from the start of the live
   * window when undefined), oldest first. A pointer whose `put` resolved before this call is
   * returned by it or by a later page of the same catch-up, unless the call that produced `after`
   * returned it already. Entries may repeat; entries of expired pointers may appear.
   */
  arrivals(tenantId: TenantId, after: ArrivalMark | undefined, limit: number): Promise<ArrivalPage>;
  /** A mark after every entry written so far: where a reader who follows nobody yet starts. */
  arrivalTail(tenantId: TenantId): Promise<ArrivalMark>;
  /**
   * Deletes the author's pointer with this id (a retracted event): `get` and `getMany` no longer
   * find it, so no later catch-up copies it; its arrival-log entries stay and are skipped.
   * Idempotent: resolves true when it removed the pointer, false when there was none.
   */
  remove(tenantId: TenantId, authorId: UserId, id: NotificationId): Promise<boolean>;
}

import type { GroupSummary } from '../domain/grouping.ts';
import type { InboxRow, NotificationId, TenantId, UserId, UserKey } from '../domain/types.ts';
import type { ArrivalMark } from './celebrity-feed.ts';

export interface InboxPageOptions {
  readonly limit: number;
  /** Only ids strictly older than this (the cursor). */
  readonly beforeId?: NotificationId;
  /** Only ids strictly newer than this: the TTL bound, so expired rows never return. */
  readonly afterId: NotificationId;
  /**
   * Which rows: `all` (not archived, read or unread), `unread` (unread; never archived) or
   * `archived`. @default 'all'
   */
  readonly status?: InboxStatus;
}

/** The inbox's tabs. */
export const InboxStatus = { All: 'all', Unread: 'unread', Archived: 'archived' } as const;
export type InboxStatus = (typeof InboxStatus)[keyof typeof InboxStatus];

/** The span of the arrival log one `materialise` call covers. */
export interface CatchUpRange {
  /** The catch-up mark the caller read (undefined: the reader had none). */
  readonly from: ArrivalMark | undefined;
  /** The mark stored once the rows are written. */
  readonly to: ArrivalMark;
}

/**
 * Where a user's notifications live, newest first: the rows fan-out wrote and the celebrity
 * pointers their catch-up copied in. Every read is a read of the user's own rows only.
 */
export interface Inbox {
  /**
   * Idempotent per (tenant, user, id): a re-written row changes nothing (read state kept).
   *
   * A row with a `groupKey` folds into its group's one item instead: its actor joins the group
   * unless already in it (a re-delivered event or a second like by the same actor counts
   * nothing), the item's `group.actorCount` is the exact number of distinct actors and
   * `group.actors` the newest `GROUP_ACTORS_SHOWN`. When a new actor joins, the item becomes
   * unread and, when the joining row's id is newer than the item's, takes that id: it moves to
   * the top of the inbox and its old id is gone (`has` says false). The unread count counts the
   * item once. The row's own `read` is ignored for a group.
   */
  putMany(rows: readonly InboxRow[]): Promise<void>;
  /**
   * Takes `actorId` out of the user's group `groupKey` when it is there through `eventId` (an
   * "unlike" retracting its like): the count drops by one, the item keeps its place and read
   * state, and disappears when no actor is left. Resolves true when it took the actor out; false
   * when there was nothing to take (never there, retracted already, or there through another
   * event): retracting is idempotent.
   */
  retractFromGroup(user: UserKey, groupKey: string, actorId: UserId, eventId: string): Promise<boolean>;
  /** Newest first within (afterId, beforeId). */
  page(user: UserKey, opts: InboxPageOptions): Promise<InboxRow[]>;
  /** Unread rows newer than `afterId`, exactly. */
  unreadCount(user: UserKey, afterId: NotificationId): Promise<number>;
  /** Marks the user's rows with these ids read; ids that are not rows of this user are ignored. */
  markRead(user: UserKey, marks: readonly ReadMark[]): Promise<void>;
  /**
   * Marks every row up to and including `upToId` read and keeps the newest such id as the read
   * watermark: a pointer materialised later with an id at or below it is written read.
   */
  markAllRead(user: UserKey, upToId: NotificationId): Promise<void>;
  /** Whether the user has a row with this id. */
  has(user: UserKey, id: NotificationId): Promise<boolean>;
  /** The user's catch-up mark in their tenant's arrival log; undefined before their first catch-up. */
  catchUpMark(user: UserKey): Promise<ArrivalMark | undefined>;
  /**
   * Writes the rows (caught-up pointers of `user`) that are not there yet, read when their id is
   * at or below the read watermark, counts the new unread ones into the unread count, and moves
   * the catch-up mark from `range.from` to `range.to` together with the last of them. A call that
   * fails part-way leaves the mark where it was, and the rows it wrote are found and skipped by
   * the retry: nothing is written or counted twice. Throws CatchUpConflictError when the stored
   * mark is not `range.from` (another catch-up moved it); the mark is then left alone. Resolves
   * with the number of rows written.
   */
  materialise(user: UserKey, rows: readonly InboxRow[], range: CatchUpRange): Promise<number>;
  /**
   * Marks the user's rows with these ids unread, and takes them out of the archive (an archived
   * row is always read, so an unread one is in All): the unread count grows by each row that was
   * read. Ids that are not rows of this user are ignored; idempotent.
   */
  markUnread(user: UserKey, ids: readonly NotificationId[]): Promise<void>;
  /**
   * Archives the user's rows with these ids and marks them read (the unread count drops by each
   * that was unread). A group's item that a new actor joins later comes back unarchived and
   * unread. Ids that are not rows of this user are ignored; idempotent.
   */
  archive(user: UserKey, ids: readonly NotificationId[]): Promise<void>;
  /** Takes these rows out of the archive; they stay read. Others' ids ignored; idempotent. */
  unarchive(user: UserKey, ids: readonly NotificationId[]): Promise<void>;
  /**
   * Raises the user's seen watermark to `upToId` (never lowers it): a row is seen when its id is
   * at or below it, so a group's item that moves up with a newer id is unseen again.
   */
  markSeen(user: UserKey, upToId: NotificationId): Promise<void>;
  /** The seen watermark; undefined before the first `markSeen`. */
  seenMark(user: UserKey): Promise<NotificationId | undefined>;
  /**
   * Rows newer than both `afterId` (the TTL bound) and the seen watermark that are not archived,
   * counted up to `cap` (a result of `cap` means "`cap` or more"): reads at most about `cap` rows.
   */
  unseenCount(user: UserKey, afterId: NotificationId, cap: number): Promise<number>;
  /**
   * The user's aggregated item of `groupKey` as it is now (a strongly consistent read), or
   * undefined when there is none (never started, every actor retracted, or expired). Push digests
   * render from it (src/handlers/push-digest.ts).
   */
  group(user: UserKey, groupKey: string): Promise<InboxGroup | undefined>;
  /**
   * Records the tenant's event `ref.eventId` of actor `ref.actorId` as retracted (its tombstone),
   * kept until `expiresAt` (epoch ms; the inbox TTL after the retraction, so it outlives every row
   * the event could have written). Idempotent. Keyed by the actor as well, so a retraction naming
   * another actor's event never silences that event.
   */
  recordRetraction(tenantId: TenantId, ref: EventRef, expiresAt: number): Promise<void>;
  /**
   * The event ids among `refs` that the tenant has a retraction recorded for, by the same actor
   * (another tenant's or another actor's never count).
   */
  retractedAmong(tenantId: TenantId, refs: readonly EventRef[]): Promise<Set<string>>;
  /**
   * Deletes the user's rows with these ids, keeping the unread count exact (an unread row removed
   * is no longer counted). Aggregated items are left alone (`retractFromGroup` takes an actor out
   * of one), and so are ids the user has no row for: removing is idempotent. Resolves with the
   * number of rows removed.
   */
  removeRows(user: UserKey, ids: readonly NotificationId[]): Promise<number>;
}

/** An aggregated item's group as `Inbox.group` reads it. */
export interface InboxGroup extends GroupSummary {
  /** The item's id: its newest activity's notification id (it changes when the item moves up). */
  readonly id: NotificationId;
}

/** An event by its id and its actor: what a retraction tombstone is keyed by. */
export interface EventRef {
  readonly eventId: string;
  readonly actorId: UserId;
}

/** A row to mark read. */
export interface ReadMark {
  readonly id: NotificationId;
}

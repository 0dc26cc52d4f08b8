import type { InboxRow, NotificationId, UserId, UserKey } from '../domain/types.ts';

export interface InboxPageOptions {
  readonly limit: number;
  /** Only ids strictly older than this (the cursor). */
  readonly beforeId?: NotificationId;
  /** Only ids strictly newer than this: the TTL bound, so expired rows never return. */
  readonly afterId: NotificationId;
}

/** Where a user's fan-out-on-write notifications live, newest first. */
export interface Inbox {
  /** Idempotent per (tenant, user, id): a re-written row changes nothing (read state kept). */
  putMany(rows: readonly InboxRow[]): Promise<void>;
  /** Newest first within (afterId, beforeId). */
  page(user: UserKey, opts: InboxPageOptions): Promise<InboxRow[]>;
  /** Unread rows newer than `afterId`. */
  unreadCount(user: UserKey, afterId: NotificationId): Promise<number>;
  /**
   * Marks ids read. Ids that are not rows of this user (merged celebrity pointers) are recorded
   * as read marks with their author, so the merge can show them read.
   */
  markRead(user: UserKey, marks: readonly ReadMark[]): Promise<void>;
  /** Marks every row up to and including `upToId` read and stores it as the read watermark. */
  markAllRead(user: UserKey, upToId: NotificationId): Promise<void>;
  /** The newest id markAllRead was called with, if any. */
  readWatermark(user: UserKey): Promise<NotificationId | undefined>;
  /** Which of these pointer ids the user marked read individually. */
  readMarks(user: UserKey, ids: readonly NotificationId[]): Promise<Set<NotificationId>>;
  /** How many pointer read marks this user has on `authors` strictly newer than `afterId`. */
  countReadMarks(user: UserKey, authors: readonly UserId[], afterId: NotificationId): Promise<number>;
  /** Whether the user has a row with this id. */
  has(user: UserKey, id: NotificationId): Promise<boolean>;
}

/** A read mark: the id read, and for a celebrity pointer its author. */
export interface ReadMark {
  readonly id: NotificationId;
  /** Set for celebrity pointers; undefined for the user's own rows. */
  readonly authorId?: UserId;
}

import type { CursorCodec } from '../domain/cursor.ts';
import { NotFoundError, ValidationError } from '../domain/errors.ts';
import { isUlid, minUlidAt } from '../domain/ids.ts';
import { liveLowerBound } from '../domain/ttl.ts';
import type { InboxItem, UserKey } from '../domain/types.ts';
import type { CelebrityFeed } from '../ports/celebrity-feed.ts';
import type { Clock } from '../ports/clock.ts';
import type { FollowerGraph } from '../ports/follower-graph.ts';
import { type Inbox, InboxStatus } from '../ports/inbox.ts';
import { catchUp } from './catch-up.ts';
import { itemOf } from './inbox-item.ts';

/** What the inbox read side needs. */
export interface InboxDeps {
  readonly inbox: Inbox;
  readonly feed: CelebrityFeed;
  readonly graph: FollowerGraph;
  readonly cursors: CursorCodec;
  readonly clock: Clock;
  /**
   * The user's locale preference, for the items' sentences (the push and email catalogs').
   * @default none: the default locale
   */
  readonly localeOf?: (user: UserKey) => Promise<string | undefined>;
}

export const INBOX_PAGE_LIMITS = { default: 20, max: 100 } as const;

/**
 * One page of a user's inbox, newest first: their rows, the pointers of the celebrities they
 * follow included (the catch-up copies those in first, see catch-up.ts), under one opaque cursor
 * bound to the tab (`status`). Expired items never appear, whether or not the store has deleted
 * them. Items carry their sentence in the user's locale and whether they are seen. Throws
 * ValidationError for a bad limit or status and InvalidCursorError for a cursor that is not this
 * user's or not this tab's.
 */
export async function readInbox(
  user: UserKey,
  opts: { limit?: number; cursor?: string; status?: string },
  deps: InboxDeps,
): Promise<{ items: InboxItem[]; nextCursor: string | null }> {
  const limit = opts.limit ?? INBOX_PAGE_LIMITS.default;
  if (!Number.isInteger(limit) || limit < 1 || limit > INBOX_PAGE_LIMITS.max) {
    throw new ValidationError([{ path: 'limit', message: `must be an integer 1..${INBOX_PAGE_LIMITS.max}` }]);
  }
  const status = parseStatus(opts.status);
  // All keeps the cursors issued before tabs existed valid; the other tabs bind theirs.
  const scope = status === InboxStatus.All ? undefined : status;
  const beforeId = opts.cursor === undefined ? undefined : deps.cursors.decode(user, opts.cursor, scope);
  await catchUp(user, deps);
  const afterId = liveLowerBound(deps.clock.now());
  // One row past the page tells, exactly, whether another page exists: the last page has no cursor.
  const [rows, seen, locale] = await Promise.all([
    deps.inbox.page(
      user,
      beforeId === undefined
        ? { limit: limit + 1, afterId, status }
        : { limit: limit + 1, afterId, beforeId, status },
    ),
    deps.inbox.seenMark(user),
    deps.localeOf?.(user),
  ]);
  const items = rows.slice(0, limit).map((row) => itemOf(row, seen, locale));
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > limit && last ? deps.cursors.encode(user, last.id, scope) : null,
  };
}

/** The tab asked for; `all` when absent. Throws ValidationError for anything else. */
export function parseStatus(status: string | undefined): InboxStatus {
  if (status === undefined) return InboxStatus.All;
  if ((Object.values(InboxStatus) as string[]).includes(status)) return status as InboxStatus;
  throw new ValidationError([{ path: 'status', message: 'must be all, unread or archived' }]);
}

/** Unread items of the inbox, celebrity events of followed authors included; exact. */
export async function unreadCount(user: UserKey, deps: InboxDeps): Promise<number> {
  await catchUp(user, deps);
  return deps.inbox.unreadCount(user, liveLowerBound(deps.clock.now()));
}

/**
 * Marks items read. The catch-up runs first, so a pointer of a celebrity the user follows is a
 * row by then. All or nothing: an id that is not in this inbox (another user's row, a pointer of
 * a celebrity the user does not follow, not an id at all) throws NotFoundError and nothing is
 * marked.
 */
export async function markRead(user: UserKey, ids: readonly string[], deps: InboxDeps): Promise<void> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return;
  if (unique.some((id) => !isUlid(id))) throw notFound(unique.find((id) => !isUlid(id))!);
  await catchUp(user, deps);
  const present = await Promise.all(unique.map((id) => deps.inbox.has(user, id)));
  const missing = unique.find((_, i) => !present[i]);
  if (missing !== undefined) throw notFound(missing);
  await deps.inbox.markRead(
    user,
    unique.map((id) => ({ id })),
  );
}

/**
 * Marks everything visible now read: up to the newest item of the inbox, or, when the inbox is
 * empty, up to now. Pointers caught up later with an older id count as read (the watermark's
 * price for one write instead of one per item).
 */
export async function markAllRead(user: UserKey, deps: InboxDeps): Promise<void> {
  await catchUp(user, deps);
  const now = deps.clock.now();
  const [newest] = await deps.inbox.page(user, { limit: 1, afterId: liveLowerBound(now) });
  await deps.inbox.markAllRead(user, newest?.id ?? minUlidAt(now));
}

/** The error of an id that is not in this inbox. */
export function notFound(id: string): NotFoundError {
  return new NotFoundError(`no notification ${id} in this inbox`);
}

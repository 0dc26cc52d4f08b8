import { isUlid } from '../domain/ids.ts';
import { liveLowerBound } from '../domain/ttl.ts';
import type { UserKey } from '../domain/types.ts';
import { catchUp } from './catch-up.ts';
import { type InboxDeps, notFound } from './inbox.ts';

/** The most unseen items counted: the badge shows "99+" from 100 on, so more is never read. */
export const UNSEEN_CAP = 100;

/** What one item can be marked. */
export type ItemMark = 'unread' | 'archive' | 'unarchive';

/**
 * Marks one item of the user's inbox unread, archived (which marks it read) or unarchived (it
 * stays read). The catch-up runs first, so a pointer of a followed celebrity is a row by then.
 * Throws NotFoundError, and changes nothing, when the id is not in this inbox (another user's
 * row, not an id at all). Idempotent.
 */
export async function markItem(user: UserKey, id: string, mark: ItemMark, deps: InboxDeps): Promise<void> {
  if (!isUlid(id)) throw notFound(id);
  await catchUp(user, deps);
  if (!(await deps.inbox.has(user, id))) throw notFound(id);
  if (mark === 'unread') await deps.inbox.markUnread(user, [id]);
  else if (mark === 'archive') await deps.inbox.archive(user, [id]);
  else await deps.inbox.unarchive(user, [id]);
}

/**
 * Marks everything in All seen, up to its newest item now (an empty inbox changes nothing): the
 * seen watermark. An aggregated item that moves to the top later has a newer id: unseen again.
 */
export async function markSeen(user: UserKey, deps: InboxDeps): Promise<void> {
  await catchUp(user, deps);
  const [newest] = await deps.inbox.page(user, { limit: 1, afterId: liveLowerBound(deps.clock.now()) });
  if (newest !== undefined) await deps.inbox.markSeen(user, newest.id);
}

/**
 * The badge's numbers: `count`, the exact unread count, and `unseen`, the items in All above the
 * seen watermark, counted up to UNSEEN_CAP (which means "that many or more").
 */
export async function inboxCounts(
  user: UserKey,
  deps: InboxDeps,
): Promise<{ count: number; unseen: number }> {
  await catchUp(user, deps);
  const afterId = liveLowerBound(deps.clock.now());
  const [count, unseen] = await Promise.all([
    deps.inbox.unreadCount(user, afterId),
    deps.inbox.unseenCount(user, afterId, UNSEEN_CAP),
  ]);
  return { count, unseen };
}

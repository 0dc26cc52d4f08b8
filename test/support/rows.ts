import { notificationId } from '../../src/domain/ids.ts';
import type { InboxRow, UserKey } from '../../src/domain/types.ts';

/** An unread 'comment' row of `user` for `eventId` by bob, with the id fan-out would give it. */
export function inboxRow(
  user: UserKey,
  eventId: string,
  createdAt: number,
  extra: Partial<InboxRow> = {},
): InboxRow {
  return {
    tenantId: user.tenantId,
    userId: user.userId,
    id: notificationId(eventId, user.userId, createdAt),
    eventId,
    type: 'comment',
    category: 'social',
    actorId: 'bob',
    createdAt,
    read: false,
    ...extra,
  };
}

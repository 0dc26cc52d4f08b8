import { notificationId, POINTER_RECIPIENT } from '../src/domain/ids.ts';
import { Category, type CelebrityPointer, type InboxRow, type UserKey } from '../src/domain/types.ts';

/**
 * What the inbox benchmarks seed: a reader's own rows and celebrities' pointers, spread evenly
 * over a span of time ending at `end`, shaped as fan-out writes them.
 */

/** `count` rows of `reader`'s own, oldest first, a third of them read, with a small payload. */
export function ownRows(reader: UserKey, count: number, end: number, span: number): InboxRow[] {
  return Array.from({ length: count }, (_, i) => {
    const createdAt = end - span + Math.floor((i * span) / count);
    const eventId = `row-event-${i}`;
    return {
      tenantId: reader.tenantId,
      userId: reader.userId,
      id: notificationId(eventId, reader.userId, createdAt),
      eventId,
      type: 'comment',
      category: Category.Social,
      actorId: `friend-${i % 300}`,
      objectId: `post-${i}`,
      data: { excerpt: 'Nice one', n: i },
      createdAt,
      read: i % 3 === 0,
    };
  });
}

/**
 * `perCelebrity` pointers of celebrity `c` (of `celebrities`), author `celebrity-<c>`, offset per
 * celebrity so pointers of different authors do not share a millisecond.
 */
export function celebrityPointers(
  tenantId: string,
  c: number,
  celebrities: number,
  perCelebrity: number,
  end: number,
  span: number,
): CelebrityPointer[] {
  return Array.from({ length: perCelebrity }, (_, p) => {
    const createdAt = end - span + Math.floor(((p + c / celebrities) * span) / perCelebrity);
    const eventId = `celebrity-${c}-event-${p}`;
    return {
      tenantId,
      authorId: `celebrity-${c}`,
      id: notificationId(eventId, POINTER_RECIPIENT, createdAt),
      eventId,
      type: 'post',
      category: Category.Content,
      objectId: `post-${c}-${p}`,
      data: { title: 'A new post', n: p },
      createdAt,
    };
  });
}

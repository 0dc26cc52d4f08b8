import type { CursorCodec } from '../domain/cursor.ts';
import { NotFoundError, ValidationError } from '../domain/errors.ts';
import { isUlid, minUlidAt } from '../domain/ids.ts';
import { mergeNewestFirst } from '../domain/merge.ts';
import { liveLowerBound } from '../domain/ttl.ts';
import type {
  CelebrityPointer,
  InboxItem,
  InboxRow,
  NotificationId,
  UserId,
  UserKey,
} from '../domain/types.ts';
import type { CelebrityFeed } from '../ports/celebrity-feed.ts';
import type { Clock } from '../ports/clock.ts';
import type { FollowerGraph } from '../ports/follower-graph.ts';
import type { Inbox, ReadMark } from '../ports/inbox.ts';

/** What the inbox read side needs. */
export interface InboxDeps {
  readonly inbox: Inbox;
  readonly feed: CelebrityFeed;
  readonly graph: FollowerGraph;
  readonly cursors: CursorCodec;
  readonly clock: Clock;
}

export const INBOX_PAGE_LIMITS = { default: 20, max: 100 } as const;

/**
 * One page of a user's inbox, newest first: the user's own rows merged with the pointers of the
 * celebrities they follow, under one opaque cursor (global ULID order makes one cursor enough).
 * Expired items never appear, whether or not the store has deleted them. Throws ValidationError
 * for a bad limit and InvalidCursorError for a cursor that is not this user's.
 */
export async function readInbox(
  user: UserKey,
  opts: { limit?: number; cursor?: string },
  deps: InboxDeps,
): Promise<{ items: InboxItem[]; nextCursor: string | null }> {
  const limit = opts.limit ?? INBOX_PAGE_LIMITS.default;
  if (!Number.isInteger(limit) || limit < 1 || limit > INBOX_PAGE_LIMITS.max) {
    throw new ValidationError([{ path: 'limit', message: `must be an integer 1..${INBOX_PAGE_LIMITS.max}` }]);
  }
  const beforeId = opts.cursor === undefined ? undefined : deps.cursors.decode(user, opts.cursor);
  const afterId = liveLowerBound(deps.clock.now());
  const celebrities = await deps.graph.celebrityFollowings(user);
  const sources: PageSource[] = [
    source((before, n) => deps.inbox.page(user, pageWindow(afterId, before, n)).then((r) => r.map(rowItem))),
    ...celebrities.map((authorId) => {
      const author = { tenantId: user.tenantId, userId: authorId };
      return source((before, n) =>
        deps.feed.page(author, pageWindow(afterId, before, n)).then((p) => p.map(pointerItem)),
      );
    }),
  ];
  // One item past the page tells, exactly, whether another page exists: the last page has no cursor.
  const merged = await mergeSources(sources, limit + 1, beforeId);
  const more = merged.length > limit;
  const items = await withPointerReadState(user, merged.slice(0, limit), deps.inbox);
  const last = items.at(-1);
  return { items, nextCursor: more && last ? deps.cursors.encode(user, last.id) : null };
}

/** One source of the merge (the user's rows, or one celebrity's pointers), read newest first. */
interface PageSource {
  /** Up to `limit` items strictly older than `beforeId` (within the TTL window). */
  readonly read: (beforeId: NotificationId | undefined, limit: number) => Promise<InboxItem[]>;
  /** What was read so far, newest first. */
  readonly items: InboxItem[];
  /** The last read returned fewer than asked: nothing older is left. */
  exhausted: boolean;
}

function source(read: PageSource['read']): PageSource {
  return { read, items: [], exhausted: false };
}

function pageWindow(afterId: NotificationId, beforeId: NotificationId | undefined, limit: number) {
  return beforeId === undefined ? { limit, afterId } : { limit, afterId, beforeId };
}

/**
 * Merges the newest `limit` items of every source while reading little from each. Asking every
 * followed celebrity for a full page would read (celebrities + 1) × limit items to keep `limit`;
 * instead the user's rows get a full page and each celebrity a fair share, and only a source
 * whose every item made it into the page (so its next one might too) is read again, from where
 * it stopped. The result is the merge of full pages: a source read again only ever adds items
 * older than those it gave.
 */
async function mergeSources(
  sources: readonly PageSource[],
  limit: number,
  beforeId: NotificationId | undefined,
): Promise<InboxItem[]> {
  const share = Math.min(limit, Math.max(2, Math.ceil((2 * limit) / sources.length)));
  const readMore = (s: PageSource, n: number) =>
    s.read(s.items.at(-1)?.id ?? beforeId, n).then((got) => {
      for (const item of got) s.items.push(item);
      s.exhausted = got.length < n;
    });
  await Promise.all(sources.map((s, i) => readMore(s, i === 0 ? limit : share)));
  for (;;) {
    const merged = mergeNewestFirst(
      sources.map((s) => s.items),
      limit,
    );
    const cutoff = merged.length === limit ? merged[limit - 1]!.id : undefined;
    const short = sources.filter(
      (s) => !s.exhausted && (cutoff === undefined || s.items.at(-1)!.id > cutoff),
    );
    if (short.length === 0) return merged;
    await Promise.all(short.map((s) => readMore(s, limit)));
  }
}

/** Unread items of the inbox: unread rows plus celebrity pointers not read by watermark or mark. */
export async function unreadCount(user: UserKey, deps: InboxDeps): Promise<number> {
  const live = liveLowerBound(deps.clock.now());
  const [rows, watermark, celebrities] = await Promise.all([
    deps.inbox.unreadCount(user, live),
    deps.inbox.readWatermark(user),
    deps.graph.celebrityFollowings(user),
  ]);
  if (celebrities.length === 0) return rows;
  const after = watermark !== undefined && watermark > live ? watermark : live;
  const [pointers, marked] = await Promise.all([
    Promise.all(
      celebrities.map((authorId) =>
        deps.feed.countAfter({ tenantId: user.tenantId, userId: authorId }, after),
      ),
    ),
    deps.inbox.countReadMarks(user, celebrities, after),
  ]);
  const unreadPointers = pointers.reduce((n, c) => n + c, 0) - marked;
  return rows + Math.max(0, unreadPointers);
}

/**
 * Marks items read: the user's own rows, or pointers of celebrities they follow (recorded as read
 * marks). All or nothing: an id that is neither throws NotFoundError and nothing is marked.
 */
export async function markRead(user: UserKey, ids: readonly string[], deps: InboxDeps): Promise<void> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return;
  const celebrities = new Set<UserId>(await deps.graph.celebrityFollowings(user));
  const marks = await Promise.all(unique.map((id) => readMark(user, id, celebrities, deps)));
  await deps.inbox.markRead(user, marks);
}

async function readMark(
  user: UserKey,
  id: string,
  celebrities: ReadonlySet<UserId>,
  deps: InboxDeps,
): Promise<ReadMark> {
  if (isUlid(id)) {
    if (await deps.inbox.has(user, id)) return { id };
    const pointer = await deps.feed.get(user.tenantId, id);
    if (pointer !== undefined && celebrities.has(pointer.authorId)) return { id, authorId: pointer.authorId };
  }
  throw new NotFoundError(`no notification ${id} in this inbox`);
}

/**
 * Marks everything visible now read: up to the newest item of the merged inbox, or, when the inbox
 * is empty, up to now. Items that arrive later with an older id count as read (the watermark's
 * price for one write instead of one per item).
 */
export async function markAllRead(user: UserKey, deps: InboxDeps): Promise<void> {
  const { items } = await readInbox(user, { limit: 1 }, deps);
  const upToId = items[0]?.id ?? minUlidAt(deps.clock.now());
  await deps.inbox.markAllRead(user, upToId);
}

/** Pointers carry no per-user state: read comes from the watermark or an individual read mark. */
async function withPointerReadState(user: UserKey, items: InboxItem[], inbox: Inbox): Promise<InboxItem[]> {
  const pointerIds = items.filter((i) => i.source === 'celebrity').map((i) => i.id);
  if (pointerIds.length === 0) return items;
  const [watermark, marks] = await Promise.all([
    inbox.readWatermark(user),
    inbox.readMarks(user, pointerIds),
  ]);
  const isRead = (id: NotificationId) => (watermark !== undefined && id <= watermark) || marks.has(id);
  return items.map((i) => (i.source === 'celebrity' ? { ...i, read: isRead(i.id) } : i));
}

function rowItem(row: InboxRow): InboxItem {
  return {
    id: row.id,
    type: row.type,
    category: row.category,
    actorId: row.actorId,
    objectId: row.objectId ?? null,
    eventId: row.eventId,
    createdAt: row.createdAt,
    read: row.read,
    data: row.data ?? null,
    source: 'row',
  };
}

function pointerItem(pointer: CelebrityPointer): InboxItem {
  return {
    id: pointer.id,
    type: pointer.type,
    category: pointer.category,
    actorId: pointer.authorId,
    objectId: pointer.objectId ?? null,
    eventId: pointer.eventId,
    createdAt: pointer.createdAt,
    read: false,
    data: pointer.data ?? null,
    source: 'celebrity',
  };
}

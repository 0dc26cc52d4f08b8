import { CatchUpConflictError, StoreUnavailableError } from '../domain/errors.ts';
import { liveLowerBound } from '../domain/ttl.ts';
import type { CelebrityPointer, InboxRow, UserId, UserKey } from '../domain/types.ts';
import type { CelebrityFeed, PointerRef } from '../ports/celebrity-feed.ts';
import type { Clock } from '../ports/clock.ts';
import type { FollowerGraph } from '../ports/follower-graph.ts';
import type { Inbox } from '../ports/inbox.ts';

/** What a catch-up needs. */
export interface CatchUpDeps {
  readonly inbox: Inbox;
  readonly feed: CelebrityFeed;
  readonly graph: FollowerGraph;
  readonly clock: Clock;
}

/** What one catch-up did. */
export interface CatchUpResult {
  /** Arrival-log entries read. */
  readonly scanned: number;
  /** Pointers written into the reader's inbox as rows. */
  readonly materialised: number;
}

/** Arrival-log entries read per step; each step is one materialise call. */
export const ARRIVALS_PAGE = 1000;
/** Catch-ups racing for one reader that a call outlasts before it gives up (each lost race means another made progress). */
const CONFLICT_ATTEMPTS = 10;

/**
 * Brings a reader's inbox up to date with the celebrity pointers that arrived in their tenant
 * since their catch-up mark: the pointers of authors they follow now are copied into their inbox
 * as rows (same id as the pointer, `source: 'celebrity'`), and the mark moves past what was read.
 * Afterwards every read of the inbox is a read of the reader's own rows, whatever the number of
 * celebrities they follow.
 *
 * The cost is O(tenant arrivals since the mark) + O(pointers copied), once per (reader, pointer):
 * a reader with nothing new pays one mark read and one empty log read, and writes nothing.
 *
 * Where a reader without a mark starts: one who never followed anyone has no pointer to catch up
 * on, so their mark starts at the log's tail; one who did (follows written straight to the
 * follower graph, an import, a data file from before the arrival log) starts at the live window's
 * start, once, so nothing of theirs is lost. The follow routes catch a follower up before they
 * change an edge (handlers/follows.ts), so through the API every reader has a mark from their
 * first follow on.
 */
export async function catchUp(user: UserKey, deps: CatchUpDeps): Promise<CatchUpResult> {
  let scanned = 0;
  let materialised = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      let from = await deps.inbox.catchUpMark(user);
      if (from === undefined && !(await deps.graph.hasFollowed(user))) {
        const tail = await deps.feed.arrivalTail(user.tenantId);
        await deps.inbox.materialise(user, [], { from, to: tail });
        return { scanned, materialised };
      }
      // Authors asked about once per catch-up, however many of their pointers arrived.
      const followed = new Map<UserId, boolean>();
      for (;;) {
        const page = await deps.feed.arrivals(user.tenantId, from, ARRIVALS_PAGE);
        // Nothing new: no write at all.
        if (page.entries.length === 0 && page.next === from) return { scanned, materialised };
        scanned += page.entries.length;
        const rows = await rowsFor(user, page.entries, followed, deps);
        materialised += await deps.inbox.materialise(user, rows, { from, to: page.next });
        from = page.next;
        if (!page.more) return { scanned, materialised };
      }
    } catch (err) {
      if (!(err instanceof CatchUpConflictError)) throw err;
      // Another request caught this reader up meanwhile: start again from the mark it left.
      if (attempt >= CONFLICT_ATTEMPTS) {
        throw new StoreUnavailableError('inbox catch-up kept conflicting; try again', { cause: err });
      }
    }
  }
}

/** The live pointers among `entries` whose author the reader follows, as rows of their inbox. */
async function rowsFor(
  user: UserKey,
  entries: readonly PointerRef[],
  followed: Map<UserId, boolean>,
  deps: CatchUpDeps,
): Promise<InboxRow[]> {
  const unknown = [...new Set(entries.map((e) => e.authorId))].filter((a) => !followed.has(a));
  if (unknown.length > 0) {
    const found = await deps.graph.followedAmong(user, unknown);
    for (const authorId of unknown) followed.set(authorId, found.has(authorId));
  }
  const live = liveLowerBound(deps.clock.now());
  const seen = new Set<string>();
  const wanted = entries.filter((e) => {
    if (!followed.get(e.authorId) || e.id <= live || seen.has(e.id)) return false;
    seen.add(e.id);
    return true;
  });
  if (wanted.length === 0) return [];
  const pointers = await deps.feed.getMany(user.tenantId, wanted);
  if (pointers.length === 0) return [];
  // A pointer being retracted right now may still be found: its tombstone is written first.
  const retracted = await deps.inbox.retractedAmong(
    user.tenantId,
    pointers.map((p) => ({ eventId: p.eventId, actorId: p.authorId })),
  );
  return pointers.filter((p) => !retracted.has(p.eventId)).map((p) => pointerRow(user, p));
}

function pointerRow(user: UserKey, p: CelebrityPointer): InboxRow {
  return {
    tenantId: user.tenantId,
    userId: user.userId,
    id: p.id,
    eventId: p.eventId,
    type: p.type,
    category: p.category,
    actorId: p.authorId,
    createdAt: p.createdAt,
    read: false,
    source: 'celebrity',
    ...(p.objectId === undefined ? {} : { objectId: p.objectId }),
    ...(p.data === undefined ? {} : { data: p.data }),
  };
}

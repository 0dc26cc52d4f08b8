import type { InboxItem, NotificationId, UserKey } from '../domain/types.ts';
import { type InboxDeps, readInbox } from '../handlers/inbox.ts';
import { inboxCounts } from '../handlers/inbox-marks.ts';
import { errorName } from '../lib/error-name.ts';
import type { Logger } from '../ports/logger.ts';
import type { InboxNotifier, InboxWatch } from '../runtime/inbox-notifier.ts';
import { itemView } from './routes/inbox.ts';
import type { SseSink } from './sse.ts';

/**
 * The live-inbox engine behind `GET /v1/me/inbox/stream` (`routes/stream.ts`): what one open
 * stream sends and when. It writes SSE frames to a sink (`sse.ts`) and knows nothing of Fastify.
 */

/** Items read per wake-up; a burst larger than this is read once more, up to the backlog bound. */
const WAKE_PAGE = 20;
/** Most items one wake-up (or a reconnect with Last-Event-ID) sends; older ones stay in the inbox. */
export const STREAM_BACKLOG = 100;
/** How often an open stream re-reads whose celebrity pointers should wake it. */
const AUTHORS_REFRESH_MS = 60_000;

export interface LiveInboxOptions {
  readonly user: UserKey;
  readonly deps: InboxDeps;
  readonly notifier: InboxNotifier;
  readonly sink: SseSink;
  /** The last id the client saw (Last-Event-ID): items newer than it are sent first. */
  readonly lastEventId?: NotificationId;
  readonly pollMs: number;
  readonly heartbeatMs: number;
  readonly logger: Logger;
}

/**
 * One user's live inbox: sends every new item once, oldest first, as a `notification` event whose
 * `id` is the item's, and the unread count whenever it changes. It re-reads the inbox through the
 * same handlers as the inbox routes (so the celebrity catch-up, TTL and read state are the same) when
 * the notifier wakes it, and every `pollMs` in case no one did.
 *
 * "New" is judged against a floor (Last-Event-ID, or the oldest item on screen when the stream
 * opened) plus the ids already sent: a back-dated event newer than the floor is still sent once.
 */
export class LiveInbox {
  readonly #o: LiveInboxOptions;
  readonly #watch: InboxWatch;
  readonly #heartbeat: NodeJS.Timeout;
  #floor: NotificationId | undefined;
  /** Ids sent (or on screen when the stream opened), each with its distinct-actor count. */
  #seen = new Map<NotificationId, number>();
  /** The counts last sent, as `count/unseen`. */
  #count: string | undefined;
  #dirty = false;
  #closed = false;
  /** When the celebrities whose pointers wake this stream were last read. */
  #authorsAt: number | undefined;
  #wakeUp: (() => void) | undefined;
  #loop: Promise<void> | undefined;

  constructor(opts: LiveInboxOptions) {
    this.#o = opts;
    this.#floor = opts.lastEventId;
    this.#watch = opts.notifier.watch(opts.user, () => this.#wake());
    this.#heartbeat = setInterval(() => this.#send(': heartbeat\n\n'), opts.heartbeatMs);
  }

  /** Starts reading; the first read sends the backlog after Last-Event-ID and the unread count. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops timers and wake-ups and ends the response. Idempotent; resolves once the loop stopped. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      clearInterval(this.#heartbeat);
      this.#watch.close();
      this.#wakeUp?.();
      this.#o.sink.end();
    }
    await this.#loop;
  }

  #wake(): void {
    this.#dirty = true;
    this.#wakeUp?.();
  }

  async #run(): Promise<void> {
    let first = true;
    while (!this.#closed) {
      this.#dirty = false;
      try {
        await this.#sync(first);
        first = false;
      } catch (err) {
        // The store was busy or closing: the next wake-up or poll tries again.
        this.#o.logger.warn('live inbox read failed', {
          tenantId: this.#o.user.tenantId,
          error: errorName(err),
        });
      }
      if (!this.#dirty && !this.#closed) await this.#idle();
    }
  }

  #idle(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, this.#o.pollMs);
      this.#wakeUp = done;
    });
  }

  async #sync(first: boolean): Promise<void> {
    const { user, deps } = this.#o;
    // Whose pointers wake this stream. The list costs a read of the tenant's celebrities, so it is
    // refreshed now and then, not on every wake-up; a pointer of a celebrity followed since is
    // still picked up by the next poll (the read itself catches up on every arrival).
    const now = deps.clock.now();
    if (this.#authorsAt === undefined || now - this.#authorsAt >= AUTHORS_REFRESH_MS) {
      this.#watch.setAuthors(await deps.graph.celebrityFollowings(user));
      this.#authorsAt = now;
    }
    let page = await readInbox(user, { limit: WAKE_PAGE }, deps);
    if (first && this.#floor === undefined) {
      // No Last-Event-ID: what is there now is what the client loaded; only later items are news.
      this.#floor = page.nextCursor === null ? undefined : page.items.at(-1)?.id;
      for (const item of page.items) this.#seen.set(item.id, actorsOf(item));
    }
    let fresh = page.items.filter((i) => this.#isNew(i));
    if (fresh.length === page.items.length && page.nextCursor !== null) {
      page = await readInbox(user, { limit: STREAM_BACKLOG }, deps);
      fresh = page.items.filter((i) => this.#isNew(i));
    }
    for (const item of fresh.reverse()) {
      this.#send(`id: ${item.id}\nevent: notification\ndata: ${JSON.stringify(itemView(item))}\n\n`);
    }
    // Only ids still on the newest page can come up again: the set stays one page large.
    const onPage = new Set(page.items.map((i) => i.id));
    for (const item of fresh) this.#seen.set(item.id, actorsOf(item));
    for (const id of this.#seen.keys()) if (!onPage.has(id)) this.#seen.delete(id);
    const counts = await inboxCounts(user, deps);
    const key = `${counts.count}/${counts.unseen}`;
    if (key !== this.#count) {
      this.#count = key;
      this.#send(`event: unread-count\ndata: ${JSON.stringify(counts)}\n\n`);
    }
  }

  /**
   * Not sent yet, or an aggregated item that grew where it stands (news older than the item does
   * not move it, docs/architecture.md): sent again under its id, which the client replaces.
   */
  #isNew(item: InboxItem): boolean {
    const sent = this.#seen.get(item.id);
    if (sent !== undefined) return sent !== actorsOf(item);
    return this.#floor === undefined || item.id > this.#floor;
  }

  #send(frame: string): void {
    if (this.#closed) return;
    if (!this.#o.sink.write(frame)) void this.close();
  }
}

/** An item's distinct actors: the group's count, 1 for an item of one event. */
function actorsOf(item: InboxItem): number {
  return item.group?.actorCount ?? 1;
}

import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isUlid } from '../../domain/ids.ts';
import type { NotificationId, UserKey } from '../../domain/types.ts';
import { type InboxDeps, readInbox, unreadCount } from '../../handlers/inbox.ts';
import { errorName } from '../../lib/error-name.ts';
import { type Logger, silentLogger } from '../../ports/logger.ts';
import type { InboxNotifier, InboxWatch } from '../../runtime/inbox-notifier.ts';
import type { Auth } from '../auth.ts';
import { ApiError, ApiErrorCode } from '../errors.ts';
import { errorResponses } from '../schemas.ts';
import { itemView } from './inbox.ts';

export interface StreamRoutesOptions {
  readonly inbox: InboxDeps;
  readonly notifier: InboxNotifier;
  readonly auth: Pick<Auth, 'userFromRequest'>;
  readonly logger?: Logger;
  /** Re-read when no wake-up came (changes made by another process, or an unwired writer). @default 2000 */
  readonly pollMs?: number;
  /** Comment lines that keep proxies and the browser from dropping an idle stream. @default 15000 */
  readonly heartbeatMs?: number;
  /** Open streams this process serves; more get 503. @default 10000 */
  readonly maxStreams?: number;
  /** Open streams of one user (tabs, devices); more get 429, so no one user holds every slot. @default 8 */
  readonly maxStreamsPerUser?: number;
}

/** Items read per wake-up; a burst larger than this is read once more, up to the backlog bound. */
const WAKE_PAGE = 20;
/** Most items one wake-up (or a reconnect with Last-Event-ID) sends; older ones stay in the inbox. */
export const STREAM_BACKLOG = 100;
/** Unsent bytes after which a client is too slow: it is cut off and resumes with Last-Event-ID. */
const MAX_BUFFERED_BYTES = 1 << 20;

/** Where a live inbox writes its SSE frames. `false` from `write` means the client is gone or stalled. */
export interface SseSink {
  write(frame: string): boolean;
  end(): void;
}

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
 * same handlers as the inbox routes (so the celebrity merge, TTL and read state are the same) when
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
  #seen = new Set<NotificationId>();
  #count: number | undefined;
  #dirty = false;
  #closed = false;
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
    this.#watch.setAuthors(await deps.graph.celebrityFollowings(user));
    let page = await readInbox(user, { limit: WAKE_PAGE }, deps);
    if (first && this.#floor === undefined) {
      // No Last-Event-ID: what is there now is what the client loaded; only later items are news.
      this.#floor = page.nextCursor === null ? undefined : page.items.at(-1)?.id;
      for (const item of page.items) this.#seen.add(item.id);
    }
    let fresh = page.items.filter((i) => this.#isNew(i.id));
    if (fresh.length === page.items.length && page.nextCursor !== null) {
      page = await readInbox(user, { limit: STREAM_BACKLOG }, deps);
      fresh = page.items.filter((i) => this.#isNew(i.id));
    }
    for (const item of fresh.reverse()) {
      this.#send(`id: ${item.id}\nevent: notification\ndata: ${JSON.stringify(itemView(item))}\n\n`);
    }
    // Only ids still on the newest page can come up again: the set stays one page large.
    const onPage = new Set(page.items.map((i) => i.id));
    this.#seen = new Set([...this.#seen, ...fresh.map((i) => i.id)].filter((id) => onPage.has(id)));
    const count = await unreadCount(user, deps);
    if (count !== this.#count) {
      this.#count = count;
      this.#send(`event: unread-count\ndata: ${JSON.stringify({ count })}\n\n`);
    }
  }

  #isNew(id: NotificationId): boolean {
    return (this.#floor === undefined || id > this.#floor) && !this.#seen.has(id);
  }

  #send(frame: string): void {
    if (this.#closed) return;
    if (!this.#o.sink.write(frame)) void this.close();
  }
}

/**
 * Takes the response over from Fastify and starts an event stream on it; `retryMs` is the
 * browser's reconnect delay.
 */
export function openEventStream(reply: FastifyReply, retryMs: number): ServerResponse {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // Reverse proxies must pass events through as they come, not in buffered chunks.
    'x-accel-buffering': 'no',
  });
  res.write(`retry: ${retryMs}\n\n`);
  return res;
}

/** A sink over the raw response; a client that stops reading is cut off rather than buffered for. */
export function responseSink(res: ServerResponse): SseSink {
  return {
    write(frame) {
      if (res.destroyed || res.writableEnded) return false;
      res.write(frame);
      return res.writableLength <= MAX_BUFFERED_BYTES;
    },
    end() {
      if (!res.writableEnded) res.end();
    },
  };
}

/** Last-Event-ID from the header (EventSource's reconnect) or `?lastEventId=` (the first connect). */
function lastEventIdOf(request: FastifyRequest): NotificationId | undefined {
  const header = request.headers['last-event-id'];
  const query = (request.query as Record<string, unknown> | undefined)?.lastEventId;
  const candidate = typeof header === 'string' && header !== '' ? header : query;
  if (candidate === undefined || candidate === '') return undefined;
  if (typeof candidate !== 'string' || !isUlid(candidate)) {
    throw new ApiError(400, ApiErrorCode.Validation, 'Last-Event-ID: must be a notification id');
  }
  return candidate;
}

/**
 * `GET /v1/me/inbox/stream`: the user's inbox as server-sent events. EventSource cannot send an
 * Authorization header, so the user token may come as `?access_token=`. Register with
 * `app.register(streamRoutes, options)`; open streams end when the app closes.
 */
export async function streamRoutes(app: FastifyInstance, opts: StreamRoutesOptions): Promise<void> {
  const logger = opts.logger ?? silentLogger;
  const maxStreams = opts.maxStreams ?? 10_000;
  const open = new Set<LiveInbox>();
  const maxPerUser = opts.maxStreamsPerUser ?? 8;
  const perUser = new Map<string, number>();
  app.addHook('preClose', async () => {
    await Promise.all([...open].map((s) => s.close()));
  });

  app.get(
    '/v1/me/inbox/stream',
    {
      // A HEAD would open a stream that never ends.
      exposeHeadRoute: false,
      schema: {
        tags: ['end user'],
        summary: 'Live inbox: server-sent `notification` and `unread-count` events',
        description:
          'An EventSource stream. Resumes after `Last-Event-ID` (header, or `lastEventId` on the first connect). EventSource cannot set headers, so the user token may also come as `access_token`.',
        security: [{ userToken: [] }],
        response: {
          200: { description: 'text/event-stream', type: 'string' },
          ...errorResponses,
        },
        querystring: {
          type: 'object',
          properties: {
            access_token: { type: 'string', maxLength: 1024 },
            lastEventId: { type: 'string', maxLength: 26 },
          },
          additionalProperties: false,
        },
        headers: {
          type: 'object',
          properties: { 'last-event-id': { type: 'string', maxLength: 26 } },
        },
      },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const user = await opts.auth.userFromRequest(request);
      const lastEventId = lastEventIdOf(request);
      if (open.size >= maxStreams) {
        throw new ApiError(503, ApiErrorCode.Unavailable, 'too many open streams; retry later', 5);
      }
      const userKey = `${user.tenantId}\u0000${user.userId}`;
      const mine = perUser.get(userKey) ?? 0;
      if (mine >= maxPerUser) {
        throw new ApiError(429, ApiErrorCode.RateLimited, 'too many open streams for this user', 5);
      }
      perUser.set(userKey, mine + 1);
      const res = openEventStream(reply, opts.pollMs ?? 2000);
      const live = new LiveInbox({
        user,
        deps: opts.inbox,
        notifier: opts.notifier,
        sink: responseSink(res),
        pollMs: opts.pollMs ?? 2000,
        heartbeatMs: opts.heartbeatMs ?? 15_000,
        logger,
        ...(lastEventId === undefined ? {} : { lastEventId }),
      });
      open.add(live);
      // The stream lives no longer than its token: the browser's reconnect then meets a 401.
      const expiry = setTimeout(() => res.end(), Math.max(0, user.expiresAt - opts.inbox.clock.now()));
      res.on('close', () => {
        clearTimeout(expiry);
        open.delete(live);
        const left = (perUser.get(userKey) ?? 1) - 1;
        if (left <= 0) perUser.delete(userKey);
        else perUser.set(userKey, left);
        void live.close();
      });
      live.start();
    },
  );
}

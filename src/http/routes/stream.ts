import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isUlid } from '../../domain/ids.ts';
import type { NotificationId } from '../../domain/types.ts';
import type { InboxDeps } from '../../handlers/inbox.ts';
import { type Logger, silentLogger } from '../../ports/logger.ts';
import type { InboxNotifier } from '../../runtime/inbox-notifier.ts';
import type { Auth } from '../auth.ts';
import { ApiError, ApiErrorCode } from '../errors.ts';
import { LiveInbox } from '../live-inbox.ts';
import { errorResponses } from '../schemas.ts';
import { openEventStream, responseSink } from '../sse.ts';

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
  /**
   * Open streams of one tenant; more get 429, so no one tenant holds every slot of the process.
   * @default 1000
   */
  readonly maxStreamsPerTenant?: number;
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
  const maxPerTenant = opts.maxStreamsPerTenant ?? 1_000;
  const perTenant = new Map<string, number>();
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
      const tenants = perTenant.get(user.tenantId) ?? 0;
      if (tenants >= maxPerTenant) {
        throw new ApiError(429, ApiErrorCode.RateLimited, 'too many open streams for this tenant', 5);
      }
      perUser.set(userKey, mine + 1);
      perTenant.set(user.tenantId, tenants + 1);
      // The reconnect delay a browser is told stays short whatever the poll: it is how soon a dropped
      // stream comes back, not how often an open one looks.
      const res = openEventStream(reply, Math.min(opts.pollMs ?? 2000, 2000));
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
        const tenantLeft = (perTenant.get(user.tenantId) ?? 1) - 1;
        if (tenantLeft <= 0) perTenant.delete(user.tenantId);
        else perTenant.set(user.tenantId, tenantLeft);
        void live.close();
      });
      live.start();
    },
  );
}

import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { InboxItem, UserKey } from '../../domain/types.ts';
import { markAllRead, markRead, readInbox, unreadCount } from '../../handlers/inbox.ts';
import type { RouteContext } from '../context.ts';
import {
  errorResponses,
  inboxPageSchema,
  inboxQuerySchema,
  noContent,
  notificationIdSchema,
} from '../schemas.ts';

const userSecurity = [{ userToken: [] }];

/** The end user's own inbox: pages by cursor, unread count, read marks. */
export async function inboxRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const deps = ctx.inboxDeps;
  const common = { onRequest: ctx.auth.userAuth } as const;

  app.get<{ Querystring: { limit?: string; cursor?: string } }>(
    '/v1/me/inbox',
    {
      ...common,
      schema: {
        tags: ['end user'],
        summary: 'A page of the inbox, newest first',
        description:
          "The user's notifications, the events of the celebrities they follow included (copied in as the user reads). A cursor altered or issued to another user is refused with INVALID_CURSOR.",
        security: userSecurity,
        querystring: inboxQuerySchema,
        response: { 200: inboxPageSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const page = await readInbox(
        userOf(request),
        {
          ...(limit === undefined ? {} : { limit: Number(limit) }),
          ...(cursor === undefined ? {} : { cursor }),
        },
        deps,
      );
      return { items: page.items.map(itemView), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/me/inbox/unread-count',
    {
      ...common,
      schema: {
        tags: ['end user'],
        summary: 'Unread notifications, celebrity events included; exact',
        security: userSecurity,
        response: {
          200: { type: 'object', required: ['count'], properties: { count: { type: 'integer' } } },
          ...errorResponses,
        },
      },
    },
    async (request) => ({ count: await unreadCount(userOf(request), deps) }),
  );

  app.post<{ Params: { notificationId: string } }>(
    '/v1/me/inbox/:notificationId/read',
    {
      ...common,
      schema: {
        tags: ['end user'],
        summary: 'Mark one notification read',
        security: userSecurity,
        params: {
          type: 'object',
          required: ['notificationId'],
          properties: { notificationId: notificationIdSchema },
        },
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      await markRead(userOf(request), [request.params.notificationId], deps);
      return reply.code(204).send();
    },
  );

  app.post(
    '/v1/me/inbox/read-all',
    {
      ...common,
      schema: {
        tags: ['end user'],
        summary: 'Mark everything in the inbox read',
        security: userSecurity,
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      await markAllRead(userOf(request), deps);
      return reply.code(204).send();
    },
  );
}

function userOf(request: FastifyRequest): UserKey {
  return { tenantId: request.tenantId, userId: request.userId };
}

/** The item as the API shows it: ISO time, no internal source marker. */
export function itemView(item: InboxItem) {
  return {
    id: item.id,
    type: item.type,
    actorId: item.actorId,
    objectId: item.objectId,
    eventId: item.eventId,
    createdAt: new Date(item.createdAt).toISOString(),
    read: item.read,
    data: item.data,
    group:
      item.group === null || item.groupKey === null
        ? null
        : { key: item.groupKey, actors: item.group.actors, actorCount: item.group.actorCount },
  };
}

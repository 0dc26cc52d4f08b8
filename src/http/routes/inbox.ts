import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { InboxItem, UserKey } from '../../domain/types.ts';
import { markAllRead, markRead, readInbox } from '../../handlers/inbox.ts';
import { type ItemMark, inboxCounts, markItem, markSeen, UNSEEN_CAP } from '../../handlers/inbox-marks.ts';
import type { RouteContext } from '../context.ts';
import {
  errorResponses,
  inboxPageSchema,
  inboxQuerySchema,
  noContent,
  notificationIdSchema,
} from '../schemas.ts';

const userSecurity = [{ userToken: [] }];

/** The marks of one item, by path suffix, with what each route says. */
const ITEM_MARKS: readonly { path: ItemMark; summary: string; description: string }[] = [
  {
    path: 'unread',
    summary: 'Mark one notification unread',
    description:
      'The unread count goes up by one if it was read. An archived item comes back to All (an archived item is always read).',
  },
  {
    path: 'archive',
    summary: 'Archive one notification',
    description:
      'Archiving marks the item read (it leaves the unread count) and lists it under status=archived only. Idempotent. An aggregated item that a new actor joins later comes back unarchived and unread.',
  },
  {
    path: 'unarchive',
    summary: 'Take one notification out of the archive',
    description: 'Back in All; it stays read. Idempotent.',
  },
];

/** The end user's own inbox: pages by cursor and tab, counts, read, unread, archive and seen marks. */
export async function inboxRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const deps = ctx.inboxDeps;
  const common = { onRequest: ctx.auth.userAuth } as const;

  app.get<{ Querystring: { limit?: string; cursor?: string; status?: string } }>(
    '/v1/me/inbox',
    {
      ...common,
      schema: {
        tags: ['end user'],
        summary: 'A page of the inbox, newest first',
        description:
          "The user's notifications, the events of the celebrities they follow included (copied in as the user reads), in one tab (status). A cursor altered, issued to another user or issued for another status is refused with INVALID_CURSOR.",
        security: userSecurity,
        querystring: inboxQuerySchema,
        response: { 200: inboxPageSchema, ...errorResponses },
      },
    },
    async (request) => {
      const { limit, cursor, status } = request.query;
      const page = await readInbox(
        userOf(request),
        {
          ...(limit === undefined ? {} : { limit: Number(limit) }),
          ...(cursor === undefined ? {} : { cursor }),
          ...(status === undefined ? {} : { status }),
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
        summary: 'Unread and unseen notifications, celebrity events included',
        security: userSecurity,
        response: {
          200: {
            type: 'object',
            required: ['count', 'unseen'],
            properties: {
              count: { type: 'integer', minimum: 0, description: 'Unread items, exactly.' },
              unseen: {
                type: 'integer',
                minimum: 0,
                maximum: UNSEEN_CAP,
                description: `Items not archived and not seen, counted up to ${UNSEEN_CAP} (${UNSEEN_CAP} means ${UNSEEN_CAP} or more; a badge shows "99+").`,
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => inboxCounts(userOf(request), deps),
  );

  for (const mark of ITEM_MARKS) {
    app.post<{ Params: { notificationId: string } }>(
      `/v1/me/inbox/:notificationId/${mark.path}`,
      {
        ...common,
        schema: {
          tags: ['end user'],
          summary: mark.summary,
          description: `${mark.description} An id not in this inbox is 404 NOT_FOUND.`,
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
        await markItem(userOf(request), request.params.notificationId, mark.path, deps);
        return reply.code(204).send();
      },
    );
  }

  app.post(
    '/v1/me/inbox/seen',
    {
      ...common,
      schema: {
        tags: ['end user'],
        summary: 'Mark everything in the inbox seen',
        description:
          'Raises the seen watermark to the newest item now: an item is seen when its id is at or below it. An aggregated item that moves to the top with a newer id is unseen again.',
        security: userSecurity,
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      await markSeen(userOf(request), deps);
      return reply.code(204).send();
    },
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

/** The item as the API shows it (the pages and the live stream): ISO time, no internal source marker. */
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
    seen: item.seen,
    archived: item.archived,
    title: item.title,
    text: item.text,
    url: item.url,
    avatarUrl: item.avatarUrl,
    group:
      item.group === null || item.groupKey === null
        ? null
        : { key: item.groupKey, actors: item.group.actors, actorCount: item.group.actorCount },
  };
}

import type { FastifyInstance } from 'fastify';
import { ValidationError } from '../../domain/errors.ts';
import type { FollowEdge } from '../../domain/types.ts';
import { follow, unfollow } from '../../handlers/follows.ts';
import type { RouteContext } from '../context.ts';
import {
  errorResponses,
  followBatchBodySchema,
  followBodySchema,
  noContent,
  userIdSchema,
} from '../schemas.ts';

interface EdgeParams {
  readonly userId: string;
  readonly followerId: string;
}

const edgeParams = {
  type: 'object',
  required: ['userId', 'followerId'],
  properties: { userId: userIdSchema, followerId: userIdSchema },
} as const;

/**
 * The follow graph: one edge at a time, or a batch for bulk import. Each follower named is caught
 * up on celebrity pointers before their edges change (handlers/follows.ts).
 */
export async function followRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const deps = ctx.inboxDeps;
  const common = { onRequest: ctx.auth.apiKeyAuth } as const;
  const schema = (summary: string, withBody: boolean) => ({
    tags: ['server'],
    summary,
    security: [{ apiKey: [] }],
    params: edgeParams,
    ...(withBody ? { body: followBodySchema } : {}),
    response: { 204: noContent, ...errorResponses },
  });

  app.put<{ Params: EdgeParams; Body: { alerts?: boolean } | undefined }>(
    '/v1/users/:userId/followers/:followerId',
    {
      ...common,
      // The body is optional: no body is `{}`. A JSON null is a body, and is refused.
      preValidation: async (request) => {
        if (request.body === undefined) request.body = {};
      },
      schema: schema('Make followerId follow userId (idempotent; updates alerts)', true),
    },
    async (request, reply) => {
      const { userId, followerId } = request.params;
      const edge = checkEdge(request.tenantId, userId, followerId, request.body?.alerts, '');
      await follow([edge], deps);
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: EdgeParams }>(
    '/v1/users/:userId/followers/:followerId',
    { ...common, schema: schema('Make followerId stop following userId (idempotent)', false) },
    async (request, reply) => {
      const { userId, followerId } = request.params;
      await unfollow([{ tenantId: request.tenantId, authorId: userId, followerId }], deps);
      return reply.code(204).send();
    },
  );

  app.post<{ Body: { follows: { userId: string; followerId: string; alerts?: boolean }[] } }>(
    '/v1/follows::batch',
    {
      ...common,
      schema: {
        tags: ['server'],
        summary: 'Bulk import of follow edges, all or nothing',
        security: [{ apiKey: [] }],
        body: followBatchBodySchema,
        response: {
          200: { type: 'object', required: ['count'], properties: { count: { type: 'integer' } } },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      // Every edge is checked before any is written: nothing is partially applied.
      const edges = request.body.follows.map((f, i) =>
        checkEdge(request.tenantId, f.userId, f.followerId, f.alerts, `follows[${i}].`),
      );
      await follow(edges, deps);
      return { count: edges.length };
    },
  );
}

function checkEdge(
  tenantId: string,
  authorId: string,
  followerId: string,
  alerts: boolean | undefined,
  prefix: string,
): FollowEdge {
  if (authorId === followerId) {
    throw new ValidationError([{ path: `${prefix}followerId`, message: 'a user cannot follow themselves' }]);
  }
  return { tenantId, authorId, followerId, ...(alerts === undefined ? {} : { alerts }) };
}

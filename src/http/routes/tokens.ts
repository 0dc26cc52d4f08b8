import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context.ts';
import { errorResponses, userIdSchema } from '../schemas.ts';

/** `POST /v1/users/{userId}/tokens`: the app's server hands its end user a short-lived token. */
export async function tokenRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  app.post<{ Params: { userId: string } }>(
    '/v1/users/:userId/tokens',
    {
      onRequest: ctx.auth.apiKeyAuth,
      schema: {
        tags: ['server'],
        summary: 'Issue a short-lived user token for the end-user routes',
        security: [{ apiKey: [] }],
        params: {
          type: 'object',
          required: ['userId'],
          properties: { userId: userIdSchema },
        },
        response: {
          201: {
            type: 'object',
            required: ['token', 'expiresAt'],
            properties: {
              token: { type: 'string' },
              expiresAt: { type: 'string', format: 'date-time' },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (request, reply) => {
      const issued = ctx.tokens.issue(
        { tenantId: request.tenantId, userId: request.params.userId },
        ctx.clock.now(),
      );
      reply.code(201);
      return { token: issued.token, expiresAt: new Date(issued.expiresAt).toISOString() };
    },
  );
}

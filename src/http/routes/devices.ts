import type { FastifyInstance } from 'fastify';
import type { Platform } from '../../domain/types.ts';
import type { RouteContext } from '../context.ts';
import { deviceBodySchema, deviceTokenSchema, errorResponses, noContent, userIdSchema } from '../schemas.ts';

interface DeviceParams {
  readonly userId: string;
  readonly token: string;
}

const deviceParams = {
  type: 'object',
  required: ['userId', 'token'],
  properties: { userId: userIdSchema, token: deviceTokenSchema },
} as const;

/** Push tokens of a user. Tokens are personal data: never logged. */
export async function deviceRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { devices } = ctx.ports;
  app.put<{ Params: DeviceParams; Body: { platform: Platform } }>(
    '/v1/users/:userId/devices/:token',
    {
      onRequest: ctx.auth.apiKeyAuth,
      schema: {
        tags: ['server'],
        summary: "Register a user's push token (re-registering moves it to this user)",
        security: [{ apiKey: [] }],
        params: deviceParams,
        body: deviceBodySchema,
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { userId, token } = request.params;
      await devices.register({
        tenantId: request.tenantId,
        userId,
        token,
        platform: request.body.platform,
        registeredAt: ctx.clock.now(),
      });
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: DeviceParams }>(
    '/v1/users/:userId/devices/:token',
    {
      onRequest: ctx.auth.apiKeyAuth,
      schema: {
        tags: ['server'],
        summary: "Remove a user's push token (idempotent)",
        security: [{ apiKey: [] }],
        params: deviceParams,
        response: { 204: noContent, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { userId, token } = request.params;
      await devices.unregister({ tenantId: request.tenantId, userId }, token);
      return reply.code(204).send();
    },
  );
}

import type { FastifyInstance } from 'fastify';
import { parsePreferences } from '../../domain/delivery.ts';
import { NotFoundError } from '../../domain/errors.ts';
import type { Preferences } from '../../domain/types.ts';
import type { RouteContext } from '../context.ts';
import { errorResponses, preferencesBodySchema, preferencesSchema, userIdSchema } from '../schemas.ts';

interface UserParams {
  readonly userId: string;
}

const userParams = {
  type: 'object',
  required: ['userId'],
  properties: { userId: userIdSchema },
} as const;

/** A user's delivery preferences: replaced whole, read back as stored. */
export async function preferenceRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const { preferences } = ctx.ports;
  const response = { 200: preferencesSchema, ...errorResponses };

  app.put<{ Params: UserParams; Body: unknown }>(
    '/v1/users/:userId/preferences',
    {
      onRequest: ctx.auth.apiKeyAuth,
      schema: {
        tags: ['server'],
        summary: "Replace a user's preferences: channels, categories, consent, quiet hours, timezone",
        security: [{ apiKey: [] }],
        params: userParams,
        body: preferencesBodySchema,
        response,
      },
    },
    async (request) => {
      const prefs = parsePreferences(request.body, request.tenantId, request.params.userId, ctx.clock.now());
      await preferences.put(prefs);
      return view(prefs);
    },
  );

  app.get<{ Params: UserParams }>(
    '/v1/users/:userId/preferences',
    {
      onRequest: ctx.auth.apiKeyAuth,
      schema: {
        tags: ['server'],
        summary: "A user's preferences (404 until some were put)",
        security: [{ apiKey: [] }],
        params: userParams,
        response,
      },
    },
    async (request) => {
      const { userId } = request.params;
      const prefs = await preferences.get({ tenantId: request.tenantId, userId });
      if (prefs === undefined) throw new NotFoundError(`no preferences for user ${userId}`);
      return view(prefs);
    },
  );
}

function view(prefs: Preferences) {
  const { tenantId: _tenant, updatedAt, ...rest } = prefs;
  return { ...rest, updatedAt: new Date(updatedAt).toISOString() };
}

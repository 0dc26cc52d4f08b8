import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parsePreferences } from '../../domain/delivery.ts';
import type { Preferences, UserKey } from '../../domain/types.ts';
import { patchPreferences } from '../../handlers/preferences-patch.ts';
import type { RouteContext } from '../context.ts';
import { errorResponses, myPreferencesSchema, preferencesPatchSchema } from '../schemas.ts';

const userSecurity = [{ userToken: [] }];

/**
 * The end user's own preferences, with a user token: read, and changed by merge patch so a
 * user's change never erases a field the tenant set and the user did not name.
 */
export async function myPreferenceRoutes(app: FastifyInstance, ctx: RouteContext): Promise<void> {
  const common = { onRequest: ctx.auth.userAuth } as const;
  const response = { 200: myPreferencesSchema, ...errorResponses };

  app.get(
    '/v1/me/preferences',
    {
      ...common,
      schema: {
        tags: ['end user'],
        summary: 'My preferences; the defaults (updatedAt null) while none are stored',
        security: userSecurity,
        response,
      },
    },
    async (request) => {
      const user = userOf(request);
      const prefs = await ctx.ports.preferences.get(user);
      if (prefs !== undefined) return view(prefs);
      return { ...view(parsePreferences({}, user.tenantId, user.userId, 0)), updatedAt: null };
    },
  );

  app.patch<{ Body: unknown }>(
    '/v1/me/preferences',
    {
      ...common,
      schema: {
        tags: ['end user'],
        summary: 'Change my preferences by JSON merge patch (RFC 7396)',
        description:
          "Validated like the tenant's PUT; a bad patch is refused with 400 and changes nothing. Written only over the record it read: a concurrent tenant write is kept and the patch applied on top (409 CONFLICT only if that keeps happening).",
        security: userSecurity,
        body: preferencesPatchSchema,
        response,
      },
    },
    async (request) =>
      view(
        await patchPreferences(userOf(request), request.body, {
          preferences: ctx.ports.preferences,
          clock: ctx.clock,
        }),
      ),
  );
}

function userOf(request: FastifyRequest): UserKey {
  return { tenantId: request.tenantId, userId: request.userId };
}

function view(prefs: Preferences) {
  const { tenantId: _tenant, updatedAt, ...rest } = prefs;
  return { ...rest, updatedAt: new Date(updatedAt).toISOString() };
}

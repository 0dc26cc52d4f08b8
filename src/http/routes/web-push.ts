import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ValidationError } from '../../domain/errors.ts';
import { Platform, type UserKey } from '../../domain/types.ts';
import { DEFAULT_WEB_PUSH_HOSTS, endpointAllowed } from '../../domain/web-push-endpoints.ts';
import { parseWebPushSubscription, webPushToken } from '../../domain/web-push-subscription.ts';
import type { RouteContext } from '../context.ts';
import { ApiError, ApiErrorCode } from '../errors.ts';
import { errorResponses, noContent, webPushSubscriptionSchema } from '../schemas.ts';

/** Options of {@link webPushRoutes}. */
export interface WebPushRoutesOptions {
  readonly ctx: RouteContext;
  /**
   * The VAPID public key a tenant's browsers subscribe with; undefined when web push of that tenant
   * goes nowhere real. @default none: the key route answers 404
   */
  readonly publicKey?: (tenantId: string) => string | undefined;
  /** The push services' hosts a subscription may name (`endpointAllowed`). @default DEFAULT_WEB_PUSH_HOSTS */
  readonly endpointHosts?: readonly string[];
}

const userSecurity = [{ userToken: [] }];

/** Browser subscriptions a user keeps; a new one past this replaces their oldest. */
export const MAX_BROWSERS_PER_USER = 10;

/**
 * The end user's browser subscriptions (Web Push), with a user token: the key to subscribe with,
 * and the subscription registered as the user's `webpush` device or removed. A user only ever
 * names their own devices: the tenant and user come from the token, and a removal touches the
 * subscription only while it is this user's. Subscriptions are personal data: never logged.
 */
export async function webPushRoutes(app: FastifyInstance, opts: WebPushRoutesOptions): Promise<void> {
  const { ctx } = opts;
  const common = { onRequest: ctx.auth.userAuth } as const;

  app.get(
    '/v1/me/webpush/vapid-public-key',
    {
      ...common,
      schema: {
        tags: ['end user'],
        summary: 'The application server key to subscribe with (PushManager.subscribe)',
        description:
          'Base64url, 65 bytes (an uncompressed P-256 point). 404 when web push is not configured.',
        security: userSecurity,
        response: {
          200: {
            type: 'object',
            required: ['publicKey'],
            additionalProperties: false,
            properties: { publicKey: { type: 'string' } },
          },
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const publicKey = opts.publicKey?.(request.tenantId);
      if (publicKey === undefined) {
        throw new ApiError(404, ApiErrorCode.NotFound, 'web push is not configured for this tenant');
      }
      return { publicKey };
    },
  );

  const subscriptionRoute = {
    ...common,
    schema: {
      tags: ['end user'],
      security: userSecurity,
      body: webPushSubscriptionSchema,
      response: { 204: noContent, ...errorResponses },
    },
  } as const;

  app.post<{ Body: unknown }>(
    '/v1/me/webpush/subscriptions',
    {
      ...subscriptionRoute,
      schema: {
        ...subscriptionRoute.schema,
        summary: "Register this browser's push subscription as my device (idempotent)",
      },
    },
    async (request, reply) => {
      const subscription = parseWebPushSubscription(request.body);
      // The push consumer would refuse it anyway: say so now rather than register a dead device.
      if (!endpointAllowed(subscription.endpoint, opts.endpointHosts ?? DEFAULT_WEB_PUSH_HOSTS)) {
        throw new ValidationError([{ path: 'endpoint', message: "must be a push service's URL" }]);
      }
      const token = webPushToken(subscription);
      const user = userOf(request);
      // A few browsers per user: the oldest make way, so no user can make every notification of
      // theirs fan out into thousands of requests signed with the service's key.
      const browsers = (await ctx.ports.devices.listActive(user))
        .filter((d) => d.platform === Platform.WebPush && d.token !== token)
        .sort((a, b) => a.registeredAt - b.registeredAt);
      for (const old of browsers.slice(0, Math.max(0, browsers.length - (MAX_BROWSERS_PER_USER - 1)))) {
        await ctx.ports.devices.unregister(user, old.token);
      }
      await ctx.ports.devices.register({
        ...user,
        token,
        platform: Platform.WebPush,
        registeredAt: ctx.clock.now(),
      });
      return reply.code(204).send();
    },
  );

  app.delete<{ Body: unknown }>(
    '/v1/me/webpush/subscriptions',
    {
      ...subscriptionRoute,
      schema: {
        ...subscriptionRoute.schema,
        summary: "Remove this browser's push subscription from my devices (idempotent)",
      },
    },
    async (request, reply) => {
      const token = webPushToken(parseWebPushSubscription(request.body));
      await ctx.ports.devices.unregister(userOf(request), token);
      return reply.code(204).send();
    },
  );
}

function userOf(request: FastifyRequest): UserKey {
  return { tenantId: request.tenantId, userId: request.userId };
}

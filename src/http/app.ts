import Fastify, { type FastifyInstance } from 'fastify';
import { createUnsubscribeTokens } from '../domain/unsubscribe.ts';
import { readPreferences } from '../handlers/preferences-read.ts';
import { type ServerLimits, serverOptions } from '../lib/server-limits.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import type { Ports } from '../ports/ports.ts';
import { InboxNotifier } from '../runtime/inbox-notifier.ts';
import { MemoryRequestBuckets } from '../runtime/memory-request-buckets.ts';
import { Metrics } from '../runtime/metrics.ts';
import { createAuth } from './auth.ts';
import { COMMON_HEADERS, clientErrorHandler } from './client-errors.ts';
import type { RouteContext } from './context.ts';
import { installCors } from './cors.ts';
import { ApiError, ApiErrorCode, errorHandler, installErrorHandling } from './errors.ts';
import { registerOpenApi } from './openapi.ts';
import { type Rate, RequestLimits } from './rate-limit.ts';
import { deviceRoutes } from './routes/devices.ts';
import { eventRoutes } from './routes/events.ts';
import { followRoutes } from './routes/follows.ts';
import { inboxRoutes } from './routes/inbox.ts';
import { myPreferenceRoutes } from './routes/my-preferences.ts';
import { opsRoutes } from './routes/ops.ts';
import { preferenceRoutes } from './routes/preferences.ts';
import { streamRoutes } from './routes/stream.ts';
import { tenantKeyRoutes } from './routes/tenant-keys.ts';
import { tokenRoutes } from './routes/tokens.ts';
import { unsubscribeRoutes } from './routes/unsubscribe.ts';
import { webRoutes } from './routes/web.ts';
import { webPushRoutes } from './routes/web-push.ts';
import { errorSchema } from './schemas.ts';
import { createUserTokens } from './user-tokens.ts';

/** Knobs of the HTTP API (from the runtime config in the serve command). */
export interface AppOptions {
  /**
   * Requests per second per tenant, all its credentials together (API keys and every user
   * token), and the burst above it; unlimited when undefined.
   */
  readonly rateLimit?: Rate;
  /** Each end user's share of their tenant's requests; none when undefined. */
  readonly userRateLimit?: Rate;
  /** Wrong credentials per source address; unlimited when undefined. */
  readonly authFailureLimit?: Rate;
  /**
   * Which proxies' `X-Forwarded-For` gives the client's address (the source address the failure
   * limit counts): true (any), a hop count, or addresses / CIDRs / 'loopback', comma-separated.
   * @default none: the socket's peer is the client
   */
  readonly trustProxy?: boolean | number | string;
  /**
   * Live inbox streams: of the process, of one tenant, of one user, and the fallback poll of a
   * stream no write woke, ms (see `streamRoutes`).
   */
  readonly streams?: {
    readonly max: number;
    readonly perTenant: number;
    readonly perUser: number;
    readonly pollMs?: number;
  };
  /** Largest request body, bytes. @default 262144 */
  readonly bodyLimit?: number;
  /** HMAC key of user tokens; at least 16 bytes. */
  readonly tokenSecret: string | Uint8Array;
  /**
   * HMAC key of unsubscribe links (a key is derived from it under a label of its own). The process
   * that signs them, the email consumer, must have the same. In AWS it is a secret of its own, so
   * the email consumer never holds the key that mints user tokens.
   * @default tokenSecret
   */
  readonly unsubscribeSecret?: string | Uint8Array;
  /** Lifetime of a user token. @default 3600 s */
  readonly tokenTtlSeconds?: number;
  /** Time source of the rate limiter, ms. @default performance.now */
  readonly rateClock?: () => number;
  /** The tenant the notification center may sign in to by user id alone (development). */
  readonly devTenantId?: string;
  /** The tenant whose API keys open the operations data (/ops). @default 'dev' */
  readonly operatorTenantId?: string;
  /** Seconds of per-second metrics kept for the /ops charts to start filled; 0 keeps none. @default 300 */
  readonly opsHistorySeconds?: number;
  /**
   * Socket timeouts and the connection cap of a listening server (`fanout serve`). Undefined for
   * an app only ever injected into (Lambda, where API Gateway holds the sockets).
   */
  readonly server?: ServerLimits;
  /**
   * The VAPID public key a tenant's browsers subscribe with (its Web Push provider's). Absent, or
   * undefined for a tenant: `GET /v1/me/webpush/vapid-public-key` answers 404.
   */
  readonly webPushPublicKey?: (tenantId: string) => string | undefined;
  /** The push services' hosts a browser subscription may name (FANOUT_WEBPUSH_ENDPOINT_HOSTS). @default the known ones */
  readonly webPushEndpointHosts?: readonly string[];
  /**
   * Origins whose pages may call the end user's routes (`/v1/me/*`) from the browser
   * (FANOUT_CORS_ORIGINS), or `*` for any. @default ['*']
   */
  readonly corsOrigins?: readonly string[];
}

/** The live side: wake-ups for inbox streams and the operator's metrics. */
export interface LiveDeps {
  readonly notifier: InboxNotifier;
  readonly metrics: Metrics;
}

export interface AppDeps {
  readonly ports: Ports;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly options: AppOptions;
  /**
   * Where one JSON line per answered request goes (`http request`: id, tenant, method, route
   * pattern, status, duration). Only those fields: never a URL, query, header or body, which
   * carry keys, tokens, cursors, push tokens and addresses. @default none
   */
  readonly accessLog?: Logger;
  /**
   * Wired to the same ports the pipeline writes through (see `observePorts`) so streams wake at
   * once. @default a notifier nobody calls (streams fall back to polling) and metrics of the API alone
   */
  readonly live?: LiveDeps;
}

/**
 * The HTTP API as a Fastify instance, ready but not listening (tests use `inject`; the serve
 * command calls `listen`). Everything is wired here by hand, once.
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { ports, clock, logger, options } = deps;
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit ?? 256 * 1024,
    // Unknown fields are refused, not silently dropped, and body values are never coerced:
    // `"true"` is not a boolean. Query values are text and are described as such.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    // Requests that arrive while closing get a 503 in the envelope (the hook below), not Fastify's own.
    return503OnClosing: false,
    clientErrorHandler,
    // Room for long push tokens in the path; the route schemas set the real limits.
    routerOptions: { maxParamLength: 600 },
    frameworkErrors: errorHandler(logger),
    ...(options.server === undefined ? {} : serverOptions(options.server)),
    trustProxy: trustedProxies(options.trustProxy),
  });
  if (options.server !== undefined) app.server.maxConnections = options.server.maxConnections;
  // JSON only: a text/plain body is 415, not a string the schema then refuses. An empty body with
  // a JSON content type (what many clients send on a body-less POST) is no body, not a 400; every
  // other body goes through Fastify's own parser with its prototype-poisoning protection.
  app.removeContentTypeParser('text/plain');
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') done(null, undefined);
    else json(request, body as string, done);
  });
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(COMMON_HEADERS);
    if (closing) {
      reply.header('connection', 'close');
      throw new ApiError(503, ApiErrorCode.Unavailable, 'the service is shutting down; retry', 1);
    }
  });
  const accessLog = deps.accessLog;
  if (accessLog !== undefined) {
    app.addHook('onResponse', async (request, reply) => {
      accessLog.info('http request', {
        requestId: request.id,
        ...(request.tenantId === '' ? {} : { tenantId: request.tenantId }),
        method: request.method,
        // The pattern (`/v1/users/:userId/devices/:token`), never the path: paths carry ids and push tokens.
        route: request.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
      });
    });
  }
  app.decorateRequest('tenantId', '');
  app.decorateRequest('userId', '');
  installErrorHandling(app, logger);
  installCors(app, options.corsOrigins);
  app.addSchema(errorSchema);
  await registerOpenApi(app);

  const tokens = createUserTokens(options.tokenSecret, (options.tokenTtlSeconds ?? 3600) * 1000);
  let lastLimitWarning = Number.NEGATIVE_INFINITY;
  const limits =
    options.rateLimit === undefined &&
    options.userRateLimit === undefined &&
    options.authFailureLimit === undefined
      ? undefined
      : new RequestLimits({
          // Shared buckets when the ports have them (Redis in AWS: every container takes from the
          // same tenant bucket); else this process's memory, which is exact for one `fanout serve`.
          buckets:
            ports.requestBuckets ??
            new MemoryRequestBuckets(options.rateClock ? { now: options.rateClock } : {}),
          ...(options.rateLimit ? { tenant: options.rateLimit } : {}),
          ...(options.userRateLimit ? { user: options.userRateLimit } : {}),
          ...(options.authFailureLimit ? { failures: options.authFailureLimit } : {}),
          onStoreError: (err) => {
            // Once a minute at most: while the store is down every request would say it again.
            if (clock.now() - lastLimitWarning < 60_000) return;
            lastLimitWarning = clock.now();
            logger.warn('request limits not checked: their store failed', { error: err.name });
          },
        });
  const notifier = deps.live?.notifier ?? new InboxNotifier();
  const metrics = deps.live?.metrics ?? new Metrics({ queues: ports.queues, clock });
  const auth = createAuth({
    tenants: ports.tenants,
    tokens,
    clock,
    ...(limits ? { limits } : {}),
    onFailure: () => metrics.authFailed(),
  });
  const ctx: RouteContext = {
    ports,
    clock,
    logger,
    auth,
    tokens,
    inboxDeps: {
      inbox: ports.inbox,
      feed: ports.feed,
      graph: ports.graph,
      cursors: ports.cursors,
      clock,
      localeOf: async (user) => (await readPreferences(ports, logger, user))?.locale,
    },
  };
  // Every route module is a Fastify plugin, registered the one way: hooks, parsers and limits a
  // module adds (the unsubscribe form parsers, the streams' close hooks) stay inside it.
  for (const routes of [
    eventRoutes,
    followRoutes,
    deviceRoutes,
    preferenceRoutes,
    tokenRoutes,
    inboxRoutes,
    myPreferenceRoutes,
  ]) {
    await app.register(routes, ctx);
  }
  await app.register(webPushRoutes, {
    ctx,
    ...(options.webPushPublicKey === undefined ? {} : { publicKey: options.webPushPublicKey }),
    ...(options.webPushEndpointHosts === undefined ? {} : { endpointHosts: options.webPushEndpointHosts }),
  });
  await app.register(unsubscribeRoutes, {
    tokens: createUnsubscribeTokens(options.unsubscribeSecret ?? options.tokenSecret),
    preferences: ports.preferences,
    clock,
    ...(limits ? { limits } : {}),
  });
  await app.register(streamRoutes, {
    inbox: ctx.inboxDeps,
    notifier,
    auth,
    logger,
    ...(options.streams === undefined
      ? {}
      : {
          maxStreams: options.streams.max,
          maxStreamsPerTenant: options.streams.perTenant,
          maxStreamsPerUser: options.streams.perUser,
          ...(options.streams.pollMs === undefined ? {} : { pollMs: options.streams.pollMs }),
        }),
  });
  await app.register(opsRoutes, {
    metrics,
    auth,
    logger,
    ...(options.operatorTenantId === undefined ? {} : { operatorTenantId: options.operatorTenantId }),
    ...(options.opsHistorySeconds === undefined ? {} : { historySeconds: options.opsHistorySeconds }),
  });
  await app.register(tenantKeyRoutes, {
    tenants: ports.tenants,
    clock,
    auth,
    ...(options.operatorTenantId === undefined ? {} : { operatorTenantId: options.operatorTenantId }),
  });
  const devTenantId = options.devTenantId;
  await app.register(webRoutes, {
    ...(options.corsOrigins === undefined ? {} : { corsOrigins: options.corsOrigins }),
    ...(devTenantId === undefined
      ? {}
      : {
          devTokens: {
            tenantId: devTenantId,
            issue: (userId: string) => tokens.issue({ tenantId: devTenantId, userId }, clock.now()),
          },
        }),
  });
  return app;
}

/** Fastify's trustProxy: a hop count becomes the function proxy-addr takes for it. */
function trustedProxies(
  trust: AppOptions['trustProxy'],
): boolean | string | ((address: string, hop: number) => boolean) {
  if (trust === undefined) return false;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return trust;
}

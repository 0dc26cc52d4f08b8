import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../http/app.ts';
import { ApiErrorCode, errorBody } from '../http/errors.ts';
import { rateOptions } from '../http/rate-limit.ts';
import type { LambdaEnv } from './env.ts';
import { type LambdaDeps, lambdaRuntime, MetricName } from './powertools.ts';

/**
 * API Gateway HTTP API (payload format 2.0, also what Lambda function URLs send) ↔ the Fastify
 * app, through `app.inject`: no socket, the same routes, schemas, auth and error envelope as
 * `fanout serve`.
 */

/** The live inbox route. Buffered HTTP API integrations cannot stream, so Lambda does not serve it. */
export const STREAM_ROUTE = '/v1/me/inbox/stream';

/** Headers that describe a connection, not a message: API Gateway owns them on both sides. */
const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade']);

/**
 * The request Fastify is to answer. `rawPath` and `rawQueryString` are used as sent (still
 * percent-encoded), so routing and query parsing are Fastify's own. On a named stage API Gateway
 * puts the stage in front of the path; it is taken off, so routes are the same on every stage.
 */
export function toInjectOptions(event: APIGatewayProxyEventV2): InjectOptions {
  const stage = event.requestContext.stage;
  let path = event.rawPath || '/';
  if (stage && stage !== '$default' && (path === `/${stage}` || path.startsWith(`/${stage}/`))) {
    path = path.slice(stage.length + 1) || '/';
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    // The body may have been base64-decoded here: inject counts its bytes itself.
    if (value !== undefined && name.toLowerCase() !== 'content-length') headers[name.toLowerCase()] = value;
  }
  // Format 2.0 moves cookies out of the headers into their own array.
  if (event.cookies !== undefined && event.cookies.length > 0) headers.cookie = event.cookies.join('; ');
  const body =
    event.body === undefined || event.body === null
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64')
        : event.body;
  return {
    method: event.requestContext.http.method.toUpperCase() as NonNullable<InjectOptions['method']>,
    url: event.rawQueryString ? `${path}?${event.rawQueryString}` : path,
    headers,
    remoteAddress: event.requestContext.http.sourceIp,
    ...(body === undefined ? {} : { payload: body }),
  };
}

/**
 * The answer API Gateway expects. Format 2.0 has no multi-value headers: repeated headers are
 * joined with commas, except `set-cookie` (commas occur inside cookies), which goes to `cookies`.
 * Text bodies are sent as text, anything else base64-encoded.
 */
export function fromInjectResponse(response: LightMyRequestResponse): APIGatewayProxyStructuredResultV2 {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    if (name === 'set-cookie') {
      cookies.push(...(Array.isArray(value) ? value : [String(value)]));
      continue;
    }
    headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  const binary = response.rawPayload.length > 0 && !isText(headers);
  return {
    statusCode: response.statusCode,
    headers,
    ...(cookies.length > 0 ? { cookies } : {}),
    body: binary ? response.rawPayload.toString('base64') : response.rawPayload.toString('utf8'),
    isBase64Encoded: binary,
  };
}

/** A body is text when its type says so and no content coding (gzip, br) was applied. */
function isText(headers: Readonly<Record<string, string>>): boolean {
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding !== 'identity') return false;
  const type = (headers['content-type'] ?? '').toLowerCase();
  return (
    type.startsWith('text/') ||
    /^application\/(?:[\w.+-]*\+)?(?:json|xml|javascript|x-www-form-urlencoded)\b/.test(type) ||
    type.startsWith('image/svg+xml')
  );
}

/** The 501 the Lambda deployment answers the live stream with (see docs/lambda.md). */
function streamUnsupported(): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: 501,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    },
    body: JSON.stringify(
      errorBody(
        ApiErrorCode.Unavailable,
        'live inbox streams are not served by this deployment; poll GET /v1/me/inbox and /v1/me/inbox/unread-count',
      ),
    ),
    isBase64Encoded: false,
  };
}

/** A VAPID public key as browsers take it: 65 bytes (an uncompressed P-256 point), base64url. */
const VAPID_PUBLIC_KEY = /^[A-Za-z0-9_-]{87}$/;

/**
 * The app's options in Lambda: the request limits (their buckets are in the cache Redis, shared by
 * every container: see `ports.requestBuckets`), no dev sign-in.
 */
function appOptions(env: LambdaEnv) {
  if (env.tokenSecret === undefined)
    throw new TypeError('FANOUT_TOKEN_SECRET is required by the HTTP functions');
  return {
    tokenSecret: env.tokenSecret,
    ...(env.unsubscribeSecret === undefined ? {} : { unsubscribeSecret: env.unsubscribeSecret }),
    tokenTtlSeconds: env.tokenTtlSeconds,
    bodyLimit: env.bodyLimit,
    corsOrigins: env.corsOrigins,
    ...rateOptions(env.requestRates),
    // One key for every tenant: per-tenant web push apps of a providers document are the push
    // consumer's alone, so their tenants' browsers cannot subscribe through this route.
    ...(env.vapidPublicKey !== undefined && VAPID_PUBLIC_KEY.test(env.vapidPublicKey)
      ? { webPushPublicKey: () => env.vapidPublicKey }
      : {}),
    ...(env.webPushEndpointHosts === undefined ? {} : { webPushEndpointHosts: env.webPushEndpointHosts }),
  };
}

/**
 * An HTTP API function. The Fastify app is built once per container, on the first request, and
 * re-used; a failed build is forgotten so the next request tries again.
 */
export function createHttpApiHandler(
  deps: LambdaDeps,
): (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2> {
  const runtime = lambdaRuntime(deps);
  let app: Promise<FastifyInstance> | undefined;
  const appOnce = (): Promise<FastifyInstance> => {
    if (app === undefined) {
      const building = (async () => {
        // No sampler between invocations: a frozen container's history would be gaps.
        const env = deps.env();
        const options = { ...appOptions(env), opsHistorySeconds: 0 };
        if (env.vapidPublicKey !== undefined && !VAPID_PUBLIC_KEY.test(env.vapidPublicKey)) {
          runtime.logger.warn(
            'FANOUT_VAPID_PUBLIC_KEY is no VAPID public key: the web push key route answers 404',
          );
        }
        const ports = await runtime.ports();
        const built = await buildApp({
          ports,
          clock: ports.clock,
          logger: runtime.logger,
          options,
          // One line per request in the function's log group, through Powertools (request ids, the
          // route pattern; never a credential).
          accessLog: runtime.logger,
        });
        await built.ready();
        return built;
      })();
      app = building;
      building.catch(() => {
        if (app === building) app = undefined;
      });
    }
    return app;
  };
  return runtime.wrap(async (event) => {
    runtime.counters.add(MetricName.HttpRequests, 1);
    const inject = toInjectOptions(event);
    // Answered here: through inject the stream would never end, and the invocation would time out.
    if (inject.method === 'GET' && String(inject.url).split('?')[0] === STREAM_ROUTE)
      return streamUnsupported();
    const result = fromInjectResponse(await (await appOnce()).inject(inject));
    const status = result.statusCode ?? 200;
    if (status >= 500) runtime.counters.add(MetricName.HttpServerErrors, 1);
    else if (status >= 400) runtime.counters.add(MetricName.HttpClientErrors, 1);
    if (status === 401) runtime.counters.add(MetricName.AuthFailures, 1);
    return result;
  });
}

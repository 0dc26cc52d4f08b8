import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Cross-origin access for the end user's routes (`/v1/me/*`), so a third-party page can embed the
 * inbox element. Those routes authenticate by a bearer header only, never a cookie, so a foreign
 * origin gains nothing a script holding the token did not already have: `*` is safe by default.
 * Tenant API-key routes and `/ops` send no CORS headers at all, so a browser never reads them
 * from another origin.
 */

/** The headers a browser may send cross-origin: the token, JSON bodies, and the stream's resume point. */
export const CORS_ALLOW_HEADERS = 'authorization, content-type, last-event-id';
const ALLOW_METHODS = 'GET, POST, PATCH, PUT, DELETE';
/** Seconds a browser may reuse a preflight's answer. */
const PREFLIGHT_MAX_AGE = '600';

/** True for the routes a user token opens: `/v1/me` and everything under it. */
export function isCorsPath(url: string): boolean {
  const path = url.split('?', 1)[0] ?? '';
  return path === '/v1/me' || path.startsWith('/v1/me/');
}

/**
 * The `Access-Control-Allow-Origin` value for a request from `origin`: `*` when every origin is
 * allowed, the origin itself when it is listed, undefined otherwise (no header: the browser refuses).
 */
export function allowedOrigin(origins: readonly string[], origin: string | undefined): string | undefined {
  if (origins.includes('*')) return '*';
  if (origin === undefined) return undefined;
  return origins.includes(origin.toLowerCase()) ? origin : undefined;
}

/**
 * Adds the CORS headers to every `/v1/me/*` answer (errors and the event stream included: they go
 * on the raw response, which a hijacked stream writes too) and answers their preflights with 204.
 */
export function installCors(app: FastifyInstance, origins: readonly string[] = ['*']): void {
  const apply = (request: FastifyRequest, raw: { setHeader(name: string, value: string): unknown }) => {
    const allow = allowedOrigin(origins, request.headers.origin);
    // A listed origin's answer differs by Origin: caches must keep them apart.
    if (allow !== '*') raw.setHeader('vary', 'Origin');
    if (allow === undefined) return false;
    raw.setHeader('access-control-allow-origin', allow);
    return true;
  };
  app.addHook('onRequest', async (request, reply) => {
    if (request.method === 'OPTIONS' || !isCorsPath(request.url)) return;
    if (apply(request, reply.raw)) reply.raw.setHeader('access-control-expose-headers', 'retry-after');
  });
  app.options('/v1/me', { schema: { hide: true } }, async (request, reply) => preflight(request, reply));
  app.options('/v1/me/*', { schema: { hide: true } }, async (request, reply) => preflight(request, reply));

  function preflight(request: FastifyRequest, reply: import('fastify').FastifyReply) {
    if (apply(request, reply.raw)) {
      reply.raw.setHeader('access-control-allow-methods', ALLOW_METHODS);
      reply.raw.setHeader('access-control-allow-headers', CORS_ALLOW_HEADERS);
      reply.raw.setHeader('access-control-max-age', PREFLIGHT_MAX_AGE);
    }
    return reply.code(204).send();
  }
}

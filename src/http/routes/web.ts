import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isLoopbackHost } from '../../lib/loopback.ts';
import { allowedOrigin } from '../cors.ts';
import { ApiError, ApiErrorCode } from '../errors.ts';
import { userIdSchema } from '../schemas.ts';
import type { IssuedToken } from '../user-tokens.ts';

/** The dev tenant's token issuer, for the page's "user id" sign-in. */
export interface DevTokens {
  readonly tenantId: string;
  issue(userId: string): IssuedToken;
}

export interface WebRoutesOptions {
  /** Directory of the pages. @default the repository's `web/` */
  readonly root?: string;
  /**
   * Lets the page sign in to the dev tenant by user id (`GET /v1/dev`, `GET /v1/dev/token`). Pass
   * it only in development (FANOUT_DEV=1) and only for a dev tenant this process created: anyone
   * who reaches the port can then read any dev user's inbox. Absent, those routes do not exist.
   */
  readonly devTokens?: DevTokens;
  /** Origins whose pages may load the inbox element's modules (FANOUT_CORS_ORIGINS). @default ['*'] */
  readonly corsOrigins?: readonly string[];
}

const DEFAULT_ROOT = fileURLToPath(new URL('../../../web/', import.meta.url));

/** URL → file of `web/` and its type. Only these are served: no path is ever joined from a request. */
const PAGES: Readonly<Record<string, readonly [file: string, type: string]>> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/preferences.js': ['preferences.js', 'text/javascript; charset=utf-8'],
  '/styles.css': ['styles.css', 'text/css; charset=utf-8'],
  '/sse.js': ['sse.js', 'text/javascript; charset=utf-8'],
  '/ops': ['ops.html', 'text/html; charset=utf-8'],
  '/ops.js': ['ops.js', 'text/javascript; charset=utf-8'],
  '/web-push.js': ['web-push.js', 'text/javascript; charset=utf-8'],
  '/sw.js': ['sw.js', 'text/javascript; charset=utf-8'],
  '/fanout-inbox.js': ['fanout-inbox.js', 'text/javascript; charset=utf-8'],
  '/inbox-api.js': ['inbox-api.js', 'text/javascript; charset=utf-8'],
  '/inbox-view.js': ['inbox-view.js', 'text/javascript; charset=utf-8'],
  '/inbox-styles.js': ['inbox-styles.js', 'text/javascript; charset=utf-8'],
  '/inbox-list.js': ['inbox-list.js', 'text/javascript; charset=utf-8'],
  '/inbox-template.js': ['inbox-template.js', 'text/javascript; charset=utf-8'],
};

/**
 * The inbox element and the modules it imports: other origins' pages load them (module scripts
 * are fetched with CORS), so they carry the CORS header and may be cached for a while. An hour,
 * then a cheap revalidation by ETag: a fix reaches every page within the hour, and the URL needs
 * no version in it. `/preferences.js` and `/sse.js` are imported by the element too.
 */
const ELEMENT_MODULES = new Set([
  '/fanout-inbox.js',
  '/inbox-api.js',
  '/inbox-view.js',
  '/inbox-styles.js',
  '/inbox-list.js',
  '/inbox-template.js',
  '/preferences.js',
  '/sse.js',
]);
const ELEMENT_CACHE = 'public, max-age=3600, stale-while-revalidate=60';

/**
 * The service worker controls the whole origin (scope `/`), which its place at the root already
 * allows; the header says so explicitly, and `no-cache` makes browsers check it on every update.
 */
const SERVICE_WORKER_HEADERS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  '/sw.js': { 'service-worker-allowed': '/' },
};

/**
 * Same-origin only, no inline code: the pages need nothing else, and a token in the page's memory
 * stays out of reach of injected markup. Images may also come from https (the inbox's avatars).
 * `no-referrer` keeps the stream's `access_token` out of Referer headers.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: https:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

/**
 * The notification center (`/`) and the operations page (`/ops`): static files read once at
 * start, no build step. Register with `app.register(webRoutes, options)`.
 */
export async function webRoutes(app: FastifyInstance, opts: WebRoutesOptions = {}): Promise<void> {
  const root = opts.root ?? DEFAULT_ROOT;
  const origins = opts.corsOrigins ?? ['*'];
  for (const [url, [file, type]] of Object.entries(PAGES)) {
    const body = readFileSync(join(root, file));
    const element = ELEMENT_MODULES.has(url);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    app.get(url, { schema: { hide: true } }, async (request: FastifyRequest, reply: FastifyReply) => {
      reply
        .headers(SECURITY_HEADERS)
        .header('content-type', type)
        .header('cache-control', element ? ELEMENT_CACHE : 'no-cache')
        .header('etag', etag)
        .headers(SERVICE_WORKER_HEADERS[url] ?? {});
      if (element) {
        const allow = allowedOrigin(origins, request.headers.origin);
        if (allow !== undefined) reply.header('access-control-allow-origin', allow);
        if (allow !== '*') reply.header('vary', 'Origin');
        reply.header('cross-origin-resource-policy', 'cross-origin');
      }
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.send(body);
    });
  }
  if (opts.devTokens !== undefined) devRoutes(app, opts.devTokens);
}

/** Headers a reverse proxy adds: their presence means the request did not come from this machine. */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip'] as const;

/**
 * Dev sign-in answers only requests addressed to a loopback address or `localhost` and carrying no
 * forwarding header. A reverse proxy on the same box forwards with `Host: 127.0.0.1:<port>` by
 * default, but it adds `X-Forwarded-For` (or `Forwarded`, `X-Real-IP`); a page that rebound its own
 * host name to 127.0.0.1 sends that name, and a name that only looks like loopback
 * (`127.evil.example`) is a name. Either way the routes do not exist.
 */
async function loopbackHostOnly(request: FastifyRequest): Promise<void> {
  const forwarded = FORWARDING_HEADERS.some((h) => request.headers[h] !== undefined);
  const host = (request.headers.host ?? '').toLowerCase();
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '');
  if (forwarded || !isLoopbackHost(name)) {
    throw new ApiError(404, ApiErrorCode.NotFound, 'no such route');
  }
}

function devRoutes(app: FastifyInstance, dev: DevTokens): void {
  app.get('/v1/dev', { onRequest: loopbackHostOnly, schema: { hide: true } }, async () => ({
    tenantId: dev.tenantId,
  }));
  app.get(
    '/v1/dev/token',
    {
      onRequest: loopbackHostOnly,
      schema: {
        hide: true,
        querystring: {
          type: 'object',
          required: ['userId'],
          properties: { userId: userIdSchema },
          additionalProperties: false,
        },
      },
    },
    async (request: FastifyRequest) => {
      const { userId } = request.query as { userId: string };
      const issued = dev.issue(userId);
      return {
        tenantId: dev.tenantId,
        userId,
        token: issued.token,
        expiresAt: new Date(issued.expiresAt).toISOString(),
      };
    },
  );
}

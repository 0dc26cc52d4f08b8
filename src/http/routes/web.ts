import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isLoopbackHost } from '../../lib/loopback.ts';
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
};

/**
 * The service worker controls the whole origin (scope `/`), which its place at the root already
 * allows; the header says so explicitly, and `no-cache` makes browsers check it on every update.
 */
const SERVICE_WORKER_HEADERS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  '/sw.js': { 'service-worker-allowed': '/' },
};

/**
 * Same-origin only, no inline code: the pages need nothing else, and a token in the page's memory
 * stays out of reach of injected markup. `no-referrer` keeps the stream's `access_token` out of
 * Referer headers.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
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
  for (const [url, [file, type]] of Object.entries(PAGES)) {
    const body = readFileSync(join(root, file));
    app.get(url, { schema: { hide: true } }, async (_request: FastifyRequest, reply: FastifyReply) =>
      reply
        .headers(SECURITY_HEADERS)
        .header('content-type', type)
        .header('cache-control', 'no-cache')
        .headers(SERVICE_WORKER_HEADERS[url] ?? {})
        .send(body),
    );
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

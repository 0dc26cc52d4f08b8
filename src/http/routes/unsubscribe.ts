import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ConflictError, ValidationError } from '../../domain/errors.ts';
import type { Category, Preferences } from '../../domain/types.ts';
import type { UnsubscribeScope as TokenScope, UnsubscribeTokens } from '../../domain/unsubscribe.ts';
import type { Clock } from '../../ports/clock.ts';
import type { PreferenceStore } from '../../ports/preferences.ts';
import { ApiErrorCode } from '../errors.ts';
import type { RequestLimits } from '../rate-limit.ts';
import { errorResponses, noContent } from '../schemas.ts';
import {
  confirmPage,
  donePage,
  invalidPage,
  OptOutScope,
  PAGE_HEADERS,
  type Page,
} from './unsubscribe-page.ts';

/** The `code` of the 400 answered to a token that is not one of ours. */
export const INVALID_UNSUBSCRIBE_TOKEN = ApiErrorCode.InvalidUnsubscribeToken;

/** The path of the link the email consumer signs (`unsubscribeUrl`). */
export const UNSUBSCRIBE_PATH = '/v1/unsubscribe';

export interface UnsubscribeRoutesOptions {
  readonly tokens: UnsubscribeTokens;
  readonly preferences: PreferenceStore;
  readonly clock: Clock;
  /** The API's limiter: the link's user spends from the same bucket as their user token. */
  readonly limits?: RequestLimits;
}

/** A one-click body is `List-Unsubscribe=One-Click` (and `scope=all` from the page): tiny. */
const FORM_BODY_LIMIT = 8 * 1024;
const FORM = 'application/x-www-form-urlencoded';
const MULTIPART = 'multipart/form-data';

interface Body {
  readonly 'List-Unsubscribe'?: string;
  readonly scope?: OptOutScope;
}

const bodyFields = {
  'List-Unsubscribe': { type: 'string', description: 'RFC 8058: `One-Click`' },
  scope: {
    type: 'string',
    enum: [OptOutScope.Category, OptOutScope.All],
    description: "`all` turns email off altogether; default: the link's category only",
  },
} as const;
const formBody = { type: 'object', properties: bodyFields } as const;
const bodySchema = {
  content: {
    [FORM]: { schema: formBody },
    [MULTIPART]: { schema: formBody },
    // No body at all is accepted too: the signed link is the whole credential.
    'application/json': {
      schema: {
        anyOf: [{ type: 'null' }, { type: 'object', additionalProperties: false, properties: bodyFields }],
      },
    },
  },
} as const;
const querySchema = {
  type: 'object',
  properties: { token: { type: 'string', description: 'The signed token of the link' } },
} as const;
const html = { description: 'A page', content: { 'text/html': { schema: { type: 'string' } } } } as const;
const errorOrHtml = {
  description: 'A token that is not valid: HTML for a browser, the error body otherwise',
  content: {
    'application/json': { schema: { $ref: 'Error#' } },
    'text/html': { schema: { type: 'string' } },
  },
} as const;

/**
 * `GET|POST /v1/unsubscribe?token=…`, the link of an email's `List-Unsubscribe` header and
 * footer (RFC 8058). The signed token is the only credential and names one user of one tenant and
 * one category. GET only asks (link scanners and prefetchers follow links); POST turns email off.
 * Register with `app.register`: the form parsers stay inside this plugin, every other route keeps
 * answering 415 to form bodies.
 */
export async function unsubscribeRoutes(app: FastifyInstance, opts: UnsubscribeRoutesOptions): Promise<void> {
  app.addContentTypeParser(
    FORM,
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
    (_request, body, done) => {
      done(null, fields(new URLSearchParams(body as string)));
    },
  );
  app.addContentTypeParser(
    MULTIPART,
    { parseAs: 'buffer', bodyLimit: FORM_BODY_LIMIT },
    (request, body, done) => {
      // The platform's own multipart parser, through a Response: no dependency for two text fields.
      new Response(body as Buffer, { headers: { 'content-type': String(request.headers['content-type']) } })
        .formData()
        .then(
          (form) => done(null, fields(form)),
          (err: unknown) =>
            done(
              new ValidationError([{ path: 'body', message: 'is not valid multipart/form-data' }], {
                cause: err,
              }),
            ),
        );
    },
  );
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(PAGE_HEADERS);
  });

  const common = { tags: ['end user'], querystring: querySchema } as const;

  app.get<{ Querystring: { token?: string } }>(
    UNSUBSCRIBE_PATH,
    {
      // A malformed query (a repeated token) is only one more link that is not valid: a page, not JSON.
      attachValidation: true,
      schema: {
        ...common,
        summary: 'The page of an email unsubscribe link: asks, changes nothing',
        response: { 200: html, ...errorResponses, 400: errorOrHtml },
      },
    },
    async (request, reply) => {
      const scope = await verify(opts, request);
      if (scope === undefined) return sendPage(reply, 400, invalidPage(request.headers['accept-language']));
      await limit(opts, scope);
      return sendPage(
        reply,
        200,
        confirmPage(request.headers['accept-language'], scope.category, tokenOf(request)),
      );
    },
  );

  app.post<{ Querystring: { token?: string }; Body: Body | undefined }>(
    UNSUBSCRIBE_PATH,
    {
      schema: {
        ...common,
        summary: 'RFC 8058 one-click unsubscribe: turns email off for the category of the link',
        description:
          "Turns email off for the link's category (or, with `scope=all`, altogether) in the user's preferences. The body may be left out: the signed link is the whole credential. A user without preferences had no email consent: nothing is written, the answer is the same. 200 with a page for a browser (Accept: text/html), 204 otherwise.",
        body: bodySchema,
        response: { 200: html, 204: noContent, ...errorResponses, 400: errorOrHtml },
      },
    },
    async (request, reply) => {
      const acceptLanguage = request.headers['accept-language'];
      const browser = wantsHtml(request.headers.accept);
      const scope = await verify(opts, request);
      if (scope === undefined) {
        if (browser) return sendPage(reply, 400, invalidPage(acceptLanguage));
        return reply
          .code(400)
          .send({ error: { code: INVALID_UNSUBSCRIBE_TOKEN, message: 'the unsubscribe link is not valid' } });
      }
      await limit(opts, scope);
      const which = request.body?.scope ?? OptOutScope.Category;
      await optOut(opts, scope, which);
      if (browser) return sendPage(reply, 200, donePage(acceptLanguage, scope.category, which));
      return reply.code(204).send();
    },
  );
}

/** Read-modify-write rounds before a conflict is given up on (each loses only to a concurrent write). */
const OPT_OUT_ATTEMPTS = 3;

/**
 * Reads, changes and writes back, only over the record it read: a tenant's write landing in
 * between is kept, and the opt-out is applied again on top of it. The put emits the change that
 * drops the cached copy.
 */
async function optOut(opts: UnsubscribeRoutesOptions, scope: TokenScope, which: OptOutScope): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const prefs = await opts.preferences.get(scope);
    if (prefs === undefined) return;
    // Never stamped earlier than what it replaces: the condition of the next round reads it.
    const next = withEmailOff(prefs, scope.category, which, Math.max(opts.clock.now(), prefs.updatedAt + 1));
    if (next === undefined) return;
    try {
      await opts.preferences.put(next, { ifUpdatedAt: prefs.updatedAt });
      return;
    } catch (err) {
      if (!(err instanceof ConflictError) || attempt >= OPT_OUT_ATTEMPTS) throw err;
    }
  }
}

/** The preferences with email off for `category` (and altogether for `all`); undefined when it already is. */
function withEmailOff(
  prefs: Preferences,
  category: Category,
  which: OptOutScope,
  now: number,
): Preferences | undefined {
  const categoryOff = prefs.categories[category]?.email === false;
  const channelOff = which !== OptOutScope.All || prefs.channels.email === false;
  if (categoryOff && channelOff) return undefined;
  return {
    ...prefs,
    categories: { ...prefs.categories, [category]: { ...prefs.categories[category], email: false } },
    channels: which === OptOutScope.All ? { ...prefs.channels, email: false } : prefs.channels,
    updatedAt: now,
  };
}

function tokenOf(request: FastifyRequest<{ Querystring: { token?: string } }>): string {
  const token = request.query.token;
  return typeof token === 'string' ? token : '';
}

async function verify(
  opts: UnsubscribeRoutesOptions,
  request: FastifyRequest<{ Querystring: { token?: string } }>,
): Promise<TokenScope | undefined> {
  // A link is a credential: wrong ones count against the source address like wrong keys.
  await opts.limits?.checkAddress(request.ip);
  const token = tokenOf(request);
  const scope = token === '' ? undefined : opts.tokens.verify(token);
  if (scope === undefined) await opts.limits?.failed(request.ip);
  return scope;
}

/** The link's user spends from the bucket their user token uses (see `createAuth`). */
async function limit(opts: UnsubscribeRoutesOptions, scope: TokenScope): Promise<void> {
  await opts.limits?.request(scope.tenantId, scope.userId);
}

function sendPage(reply: FastifyReply, status: number, page: Page) {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-language', page.language)
    .send(page.html);
}

/** Only the fields the route knows, as text: a form may carry others, and files are not read. */
function fields(form: URLSearchParams | FormData): Body {
  const out: Record<string, string> = {};
  for (const name of ['List-Unsubscribe', 'scope'] as const) {
    const value = form.get(name);
    if (typeof value === 'string') out[name] = value;
  }
  return out as Body;
}

/** Whether the client names HTML among what it accepts (browsers do; one-click clients do not). */
function wantsHtml(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept
    .split(',')
    .slice(0, 50)
    .some((part) => {
      const [type = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
      if (type !== 'text/html' && type !== 'application/xhtml+xml') return false;
      const q = params.find((p) => p.startsWith('q='));
      return q === undefined || Number(q.slice(2)) > 0;
    });
}

import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { Category, Preferences } from '../../src/domain/types.ts';
import { createUnsubscribeTokens, unsubscribeUrl } from '../../src/domain/unsubscribe.ts';
import { buildApp } from '../../src/http/app.ts';
import { createUserTokens } from '../../src/http/user-tokens.ts';
import { FunctionKind } from '../../src/lambda/env.ts';
import { createInboxApiHandler } from '../../src/lambda/inbox-api.ts';
import {
  captureOutput,
  FIXTURE_ENV,
  fixture,
  harnessesClosedAfterEach,
  lambdaContext,
} from '../lambda/support.ts';
import { recordingLogger } from '../support/world.ts';
import { bearer, TEST_SECRET, type TestApp, testApp } from './support.ts';

const signer = createUnsubscribeTokens(TEST_SECRET);
const FORM = 'application/x-www-form-urlencoded';
const ONE_CLICK = 'List-Unsubscribe=One-Click';

/** What the tenant's server put for bob: email consented, push off for social. */
const BOB_PREFS = {
  timezone: 'Europe/Paris',
  email: 'bob@example.com',
  consent: { push: true, email: true },
  channels: { push: true },
  categories: { social: { push: false }, content: { email: true } },
} as const;

function link(category: Category, userId = 'bob', tenantId = 'acme'): string {
  return signer.sign({ tenantId, userId, category });
}

function path(token: string): string {
  const url = new URL(unsubscribeUrl('http://127.0.0.1', token));
  return `${url.pathname}${url.search}`;
}

/** A multipart body as mail clients send it. */
function multipart(fields: Readonly<Record<string, string>>): { payload: string; contentType: string } {
  const boundary = '----fanout-test-boundary';
  const parts = Object.entries(fields).map(
    ([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  return {
    payload: `${parts.join('')}--${boundary}--\r\n`,
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

describe('unsubscribe links', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  async function setup(options: Parameters<typeof testApp>[0] = {}): Promise<TestApp> {
    t = await testApp(options);
    for (const [key, userId] of [
      [t.keys.acme, 'bob'],
      [t.keys.globex, 'bob'],
    ] as const) {
      const res = await t.app.inject({
        method: 'PUT',
        url: `/v1/users/${userId}/preferences`,
        headers: bearer(key),
        payload: BOB_PREFS,
      });
      expect(res.statusCode).toBe(200);
    }
    t.clock.advance(60_000);
    return t;
  }

  const prefsOf = (tenantId: string, userId = 'bob') => t!.ports.preferences.get({ tenantId, userId });
  const changeCount = async () => (await t!.ports.preferences.changes(undefined, 1000)).length;
  const post = (token: string, payload?: string, headers: Record<string, string> = {}) =>
    t!.app.inject({
      method: 'POST',
      url: path(token),
      headers: payload === undefined ? headers : { 'content-type': FORM, ...headers },
      ...(payload === undefined ? {} : { payload }),
    } as InjectOptions);

  it('one-click POST (urlencoded) turns off email for that category and nothing else', async () => {
    // Prepare
    await setup();
    const before = (await prefsOf('acme'))!;
    // Act
    const res = await post(link('social'), ONE_CLICK);
    // Assess
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    const after = (await prefsOf('acme'))!;
    expect(after).toEqual<Preferences>({
      ...before,
      categories: { social: { push: false, email: false }, content: { email: true } },
      updatedAt: t!.clock.now(),
    });
    expect(after.updatedAt).toBeGreaterThan(before.updatedAt);
  });

  it('one-click POST (multipart) turns off only that category', async () => {
    // Prepare
    await setup();
    const before = (await prefsOf('acme'))!;
    const body = multipart({ 'List-Unsubscribe': 'One-Click' });
    // Act
    const res = await post(link('mention'), body.payload, { 'content-type': body.contentType });
    // Assess
    expect(res.statusCode).toBe(204);
    expect(await prefsOf('acme')).toEqual({
      ...before,
      categories: { ...before.categories, mention: { email: false } },
      updatedAt: t!.clock.now(),
    });
  });

  it('scope=all turns email off altogether (urlencoded, multipart and JSON)', async () => {
    // Prepare
    await setup();
    const body = multipart({ 'List-Unsubscribe': 'One-Click', scope: 'all' });
    // Act
    const form = await post(link('content'), `${ONE_CLICK}&scope=all`);
    const multi = await post(link('social', 'bob', 'globex'), body.payload, {
      'content-type': body.contentType,
    });
    // Assess
    expect([form.statusCode, multi.statusCode]).toEqual([204, 204]);
    const acme = (await prefsOf('acme'))!;
    expect(acme.channels).toEqual({ push: true, email: false });
    expect(acme.categories.content).toEqual({ email: false });
    expect(acme.consent).toEqual({ push: true, email: true });
    expect((await prefsOf('globex'))!.channels).toEqual({ push: true, email: false });
  });

  it('also takes a JSON body or none, refusing unknown JSON fields and unknown scopes', async () => {
    // Prepare
    await setup();
    // Act
    const none = await post(link('social'));
    const json = await t!.app.inject({
      method: 'POST',
      url: path(link('content', 'bob', 'globex')),
      payload: { scope: 'all' },
    });
    const unknownField = await t!.app.inject({
      method: 'POST',
      url: path(link('mention')),
      payload: { scope: 'all', admin: true },
    });
    const emptyJson = await post(link('critical'), '', { 'content-type': 'application/json' });
    const unknownScope = await post(link('mention'), `${ONE_CLICK}&scope=everything`);
    // Assess
    expect(none.statusCode).toBe(204);
    expect((await prefsOf('acme'))!.categories.social).toEqual({ push: false, email: false });
    expect(json.statusCode).toBe(204);
    expect((await prefsOf('globex'))!.channels.email).toBe(false);
    expect(emptyJson.statusCode).toBe(204);
    expect((await prefsOf('acme'))!.categories.critical).toEqual({ email: false });
    expect(unknownField.statusCode).toBe(400);
    expect(unknownField.json().error.code).toBe('VALIDATION');
    expect(unknownScope.statusCode).toBe(400);
    expect((await prefsOf('acme'))!.categories.mention).toBeUndefined();
  });

  it('answers a browser (Accept: text/html) with a page, in its language', async () => {
    // Prepare
    await setup();
    const headers = {
      accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8',
      'accept-language': 'fr-CH, en;q=0.5',
    };
    // Act
    const res = await post(link('social'), `${ONE_CLICK}&scope=category`, headers);
    // Assess
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-language']).toBe('fr');
    expect(res.body).toContain('Vous ne recevrez plus d’e-mails d’activité.');
    expect((await prefsOf('acme'))!.categories.social?.email).toBe(false);
  });

  it('asks in every language the emails are written in, as the emails address the reader', async () => {
    // Prepare
    await setup();
    const ask = (acceptLanguage: string) =>
      t!.app.inject({
        method: 'GET',
        url: path(link('mention')),
        headers: { accept: 'text/html', 'accept-language': acceptLanguage },
      });
    // Act
    const [ja, pt, de] = await Promise.all([ask('ja-JP,ja;q=0.9'), ask('pt-BR'), ask('de-AT')]);
    const deDone = await post(link('mention'), ONE_CLICK, { accept: 'text/html', 'accept-language': 'de' });
    // Assess
    expect([ja.headers['content-language'], pt.headers['content-language']]).toEqual(['ja', 'pt-BR']);
    expect(ja.body).toContain('<html lang="ja">');
    expect(ja.body).toContain('メンションに関するメールの配信を停止しますか？');
    expect(pt.body).toContain('<html lang="pt-BR">');
    expect(pt.body).toContain('Parar de receber e-mails de menções');
    // The German emails say "du": the page does not switch to "Sie".
    expect(de.body).toContain('Keine Erwähnungs-E-Mails mehr erhalten?');
    expect(deDone.body).toContain('Du erhältst keine Erwähnungs-E-Mails mehr.');
    expect(deDone.body).not.toMatch(/\bSie\b/);
  });

  it('GET changes nothing and shows a form that posts the one-click body back', async () => {
    // Prepare
    await setup();
    const before = await prefsOf('acme');
    const changes = await changeCount();
    const token = link('social');
    // Act
    const res = await t!.app.inject({ method: 'GET', url: path(token), headers: { accept: 'text/html' } });
    const head = await t!.app.inject({ method: 'HEAD', url: path(token) });
    // Assess
    expect(res.statusCode).toBe(200);
    expect(head.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-language']).toBe('en');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(res.headers['content-security-policy']).toMatch(/form-action 'self'/);
    expect(res.headers['content-security-policy']).not.toMatch(/script-src|unsafe-inline/);
    expect(res.body).not.toMatch(/<script/i);
    expect(res.body).toContain(`<form method="post" action="?token=${token}">`);
    expect(res.body).toContain('<input type="hidden" name="List-Unsubscribe" value="One-Click">');
    expect(res.body).toMatch(
      /<button type="submit" name="scope" value="category">Unsubscribe from activity emails<\/button>/,
    );
    expect(res.body).toMatch(/name="scope" value="all"[^>]*>Unsubscribe from all emails</);
    expect(await prefsOf('acme')).toEqual(before);
    expect(await changeCount()).toBe(changes);
  });

  it('refuses forged, altered, truncated, other-secret and missing tokens with 400, writing nothing', async () => {
    // Prepare
    await setup();
    const before = await prefsOf('acme');
    const changes = await changeCount();
    const good = link('social');
    const [payload = '', mac = ''] = good.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ t: 'acme', u: 'bob', c: 'social' })).toString(
      'base64url',
    );
    const bad = {
      forged: `${forgedPayload}.${'A'.repeat(43)}`,
      altered: `${Buffer.from(JSON.stringify({ t: 'acme', u: 'bob', c: 'content' })).toString('base64url')}.${mac}`,
      flipped: `${payload}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`,
      truncated: good.slice(0, -5),
      otherSecret: createUnsubscribeTokens('another-secret-of-enough-bytes!!').sign({
        tenantId: 'acme',
        userId: 'bob',
        category: 'social',
      }),
      userToken: createUserTokens(TEST_SECRET, 3_600_000).issue(
        { tenantId: 'acme', userId: 'bob' },
        t!.clock.now(),
      ).token,
      oversized: `${payload}${'A'.repeat(2000)}.${mac}`,
    };
    // Act
    const posts = await Promise.all(Object.values(bad).map((token) => post(token, ONE_CLICK)));
    const missing = await t!.app.inject({
      method: 'POST',
      url: '/v1/unsubscribe',
      headers: { 'content-type': FORM },
      payload: ONE_CLICK,
    });
    const gets = await Promise.all(
      [...Object.values(bad), ''].map((token) => t!.app.inject({ method: 'GET', url: path(token) })),
    );
    const repeated = await t!.app.inject({
      method: 'GET',
      url: `/v1/unsubscribe?token=${good}&token=${good}`,
    });
    const browserPost = await post(bad.forged, ONE_CLICK, { accept: 'text/html' });
    // Assess
    for (const res of [...posts, missing]) {
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({
        error: { code: 'INVALID_UNSUBSCRIBE_TOKEN', message: expect.any(String) },
      });
    }
    for (const res of [...gets, repeated, browserPost]) {
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('This unsubscribe link is not valid.');
      expect(res.body).not.toContain('<form');
    }
    expect(await prefsOf('acme')).toEqual(before);
    expect(await changeCount()).toBe(changes);
  });

  it("never touches another tenant's user of the same id", async () => {
    // Prepare
    await setup();
    const globexBefore = await prefsOf('globex');
    // Act
    const res = await post(link('social', 'bob', 'acme'), `${ONE_CLICK}&scope=all`);
    // Assess
    expect(res.statusCode).toBe(204);
    expect((await prefsOf('acme'))!.channels.email).toBe(false);
    expect(await prefsOf('globex')).toEqual(globexBefore);
  });

  it('answers the same for a user without preferences, and creates none', async () => {
    // Prepare
    await setup();
    const changes = await changeCount();
    // Act
    const res = await post(link('social', 'carol'), ONE_CLICK);
    const page = await post(link('social', 'carol'), ONE_CLICK, { accept: 'text/html' });
    // Assess
    expect(res.statusCode).toBe(204);
    expect(page.statusCode).toBe(200);
    expect(await prefsOf('acme', 'carol')).toBeUndefined();
    expect(await changeCount()).toBe(changes);
  });

  it('is idempotent: the same POST again answers the same and writes nothing more', async () => {
    // Prepare
    await setup();
    const first = await post(link('social'), `${ONE_CLICK}&scope=all`);
    const afterFirst = await prefsOf('acme');
    const changes = await changeCount();
    t!.clock.advance(1000);
    // Act
    const again = await post(link('social'), `${ONE_CLICK}&scope=all`);
    const narrower = await post(link('social'), ONE_CLICK);
    // Assess
    expect([first.statusCode, again.statusCode, narrower.statusCode]).toEqual([204, 204, 204]);
    expect(await prefsOf('acme')).toEqual(afterFirst);
    expect(await changeCount()).toBe(changes);
  });

  it('shows the change through GET /v1/users/{userId}/preferences', async () => {
    // Prepare
    await setup();
    // Act
    await post(link('mention'), ONE_CLICK);
    const res = await t!.app.inject({
      method: 'GET',
      url: '/v1/users/bob/preferences',
      headers: bearer(t!.keys.acme),
    });
    // Assess
    expect(res.statusCode).toBe(200);
    expect(res.json().categories).toEqual({
      social: { push: false },
      content: { email: true },
      mention: { email: false },
    });
    expect(res.json().updatedAt).toBe(new Date(t!.clock.now()).toISOString());
  });

  it('keeps form bodies away from every other route (415)', async () => {
    // Prepare
    await setup();
    const body = multipart({ scope: 'all' });
    // Act
    const answers: LightMyRequestResponse[] = [
      await t!.app.inject({
        method: 'PUT',
        url: '/v1/users/bob/preferences',
        headers: { ...bearer(t!.keys.acme), 'content-type': FORM },
        payload: 'timezone=UTC',
      }),
      await t!.app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: { ...bearer(t!.keys.acme), 'content-type': body.contentType },
        payload: body.payload,
      }),
      await post(link('social'), 'hello', { 'content-type': 'text/plain' }),
    ];
    // Assess
    for (const res of answers) {
      expect(res.statusCode).toBe(415);
      expect(res.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    expect((await prefsOf('acme'))!.categories.social?.email).toBeUndefined();
  });

  it("refuses a malformed multipart body and one over the route's small body limit", async () => {
    // Prepare
    await setup();
    // Act
    const malformed = await post(link('social'), '--nope\r\nbroken', {
      'content-type': 'multipart/form-data; boundary=other',
    });
    const large = await post(link('social'), `${ONE_CLICK}&pad=${'x'.repeat(9000)}`);
    // Assess
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.code).toBe('VALIDATION');
    expect(large.statusCode).toBe(413);
    expect((await prefsOf('acme'))!.categories.social?.email).toBeUndefined();
  });

  it("rate-limits per link's user, in the share of that user's tokens", async () => {
    // Prepare
    let now = 0;
    await setup({
      rateLimit: { perSecond: 100, burst: 100 },
      userRateLimit: { perSecond: 1, burst: 2 },
      rateClock: () => now,
    });
    now += 10_000;
    // Act
    const answers = [await post(link('social'), ONE_CLICK), await post(link('content'), ONE_CLICK)];
    const over = await post(link('mention'), ONE_CLICK);
    const page = await t!.app.inject({ method: 'GET', url: path(link('mention')) });
    const otherUser = await post(link('social', 'carol'), ONE_CLICK);
    now += 1000;
    const later = await post(link('mention'), ONE_CLICK);
    // Assess
    expect(answers.map((r) => r.statusCode)).toEqual([204, 204]);
    expect(over.statusCode).toBe(429);
    expect(over.json().error.code).toBe('RATE_LIMITED');
    expect(over.headers['retry-after']).toBe('1');
    expect(page.statusCode).toBe(429);
    expect(otherUser.statusCode).toBe(204);
    expect(later.statusCode).toBe(204);
    expect((await prefsOf('acme'))!.categories.mention).toEqual({ email: false });
  });

  it('limits altered links per source address, like wrong keys', async () => {
    // Prepare: 2 wrong credentials at once per address
    await setup({ authFailureLimit: { perSecond: 1, burst: 2 }, rateClock: () => 0 });
    const altered = `${link('social').slice(0, -4)}AAAA`;
    // Act
    const guesses = [
      await post(altered, ONE_CLICK),
      await post(altered, ONE_CLICK),
      await post(altered, ONE_CLICK),
    ];
    const genuine = await post(link('social'), ONE_CLICK);
    // Assess
    expect(guesses.map((r) => r.statusCode)).toEqual([400, 400, 429]);
    expect(genuine.statusCode).toBe(429);
    expect((await prefsOf('acme'))!.categories.social?.email).toBeUndefined();
  });

  it("keeps a tenant's write that lands between the opt-out's read and write, and opts out on top of it", async () => {
    // Prepare: the tenant changes bob's address while the one-click is in flight
    await setup();
    const store = t!.ports.preferences;
    let raced = false;
    const racing = await buildApp({
      ports: {
        ...t!.ports,
        preferences: {
          ...store,
          get: (user) => store.get(user),
          changes: (after, limit) => store.changes(after, limit),
          put: async (prefs, opts) => {
            if (!raced) {
              raced = true;
              const current = (await store.get(prefs))!;
              await store.put({ ...current, email: 'bob@new.example', updatedAt: current.updatedAt + 5 });
            }
            return store.put(prefs, opts);
          },
        },
      },
      clock: t!.clock,
      logger: recordingLogger(),
      options: { tokenSecret: TEST_SECRET },
    });
    try {
      // Act
      const res = await racing.inject({
        method: 'POST',
        url: path(link('content')),
        headers: { 'content-type': FORM },
        payload: ONE_CLICK,
      });
      // Assess: both changes are there; the first attempt's stale write was refused
      expect(res.statusCode).toBe(204);
      expect(await prefsOf('acme')).toMatchObject({
        email: 'bob@new.example',
        categories: { content: { email: false } },
      });
    } finally {
      await racing.close();
    }
  });

  it('keeps the token out of the log when a store fails', async () => {
    // Prepare
    await setup();
    const logger = recordingLogger();
    const failing = await buildApp({
      ports: {
        ...t!.ports,
        preferences: {
          ...t!.ports.preferences,
          get: async () => {
            throw new Error('disk on fire');
          },
        },
      },
      clock: t!.clock,
      logger,
      options: { tokenSecret: TEST_SECRET },
    });
    const token = link('social');
    try {
      // Act
      const res = await failing.inject({
        method: 'POST',
        url: path(token),
        headers: { 'content-type': FORM },
        payload: ONE_CLICK,
      });
      // Assess
      expect(res.statusCode).toBe(500);
      expect(logger.lines).toHaveLength(1);
      expect(logger.lines[0]?.attributes.route).toBe('/v1/unsubscribe');
      expect(JSON.stringify(logger.lines)).not.toContain(token.slice(0, 20));
    } finally {
      await failing.close();
    }
  });

  it('lists both methods in the OpenAPI document, without security', async () => {
    // Prepare
    await setup();
    // Act
    const doc = (await t!.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    // Assess
    const route = doc.paths['/v1/unsubscribe'];
    expect(Object.keys(route).sort()).toEqual(['get', 'post']);
    expect(route.post.security).toBeUndefined();
    expect(Object.keys(route.post.requestBody.content).sort()).toEqual([
      'application/json',
      FORM,
      'multipart/form-data',
    ]);
  });
});

describe('unsubscribe links through the inbox API Lambda', () => {
  const harness = harnessesClosedAfterEach();
  // The Lambda functions check links with their own secret, not the user-token key.
  const lambdaSigner = createUnsubscribeTokens(FIXTURE_ENV.FANOUT_UNSUBSCRIBE_SECRET ?? '');

  /** An API Gateway (payload 2.0) request for the link, built on the fixture of an inbox read. */
  function request(method: 'GET' | 'POST', token: string, body?: string): APIGatewayProxyEventV2 {
    const base = fixture<APIGatewayProxyEventV2>('apigw-v2-get-inbox.json');
    const { authorization: _none, ...headers } = base.headers;
    return {
      ...base,
      rawPath: '/v1/unsubscribe',
      rawQueryString: new URLSearchParams({ token }).toString(),
      queryStringParameters: { token },
      headers: body === undefined ? headers : { ...headers, 'content-type': FORM, accept: '*/*' },
      requestContext: {
        ...base.requestContext,
        http: { ...base.requestContext.http, method, path: '/v1/unsubscribe' },
      },
      // API Gateway hands form bodies over base64-encoded.
      ...(body === undefined ? {} : { body: Buffer.from(body).toString('base64'), isBase64Encoded: true }),
    };
  }

  it('serves the page and the one-click POST without credentials, logging no token', async () => {
    // Prepare
    const h = harness(FunctionKind.InboxApi);
    const ports = await h.ports();
    await ports.preferences.put({
      tenantId: 'acme',
      userId: 'bob',
      timezone: 'UTC',
      email: 'bob@example.com',
      consent: { email: true },
      channels: {},
      categories: {},
      updatedAt: h.clock.now() - 60_000,
    });
    const handler = createInboxApiHandler(h.deps);
    const token = lambdaSigner.sign({ tenantId: 'acme', userId: 'bob', category: 'mention' });
    // Act
    const { result: page, lines: pageLines } = await captureOutput(() =>
      handler(request('GET', token), lambdaContext('fanout-inbox-api')),
    );
    const { result: click, lines: clickLines } = await captureOutput(() =>
      handler(request('POST', token, ONE_CLICK), lambdaContext('fanout-inbox-api')),
    );
    const { result: forged } = await captureOutput(() =>
      handler(request('POST', `${token.slice(0, -2)}AA`, ONE_CLICK), lambdaContext('fanout-inbox-api')),
    );
    // Assess
    expect(page.statusCode).toBe(200);
    expect(page.isBase64Encoded).toBe(false);
    expect(page.headers?.['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('Unsubscribe from mention emails');
    expect(click.statusCode).toBe(204);
    expect(forged.statusCode).toBe(400);
    expect((await ports.preferences.get({ tenantId: 'acme', userId: 'bob' }))?.categories).toEqual({
      mention: { email: false },
    });
    expect(JSON.stringify([...pageLines, ...clickLines])).not.toContain(token.slice(0, 20));
  });
});

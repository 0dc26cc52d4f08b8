import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, type TestApp, testApp, userToken } from './support.ts';

/**
 * Thousands of generated malformed requests at every route, in process (inject) for speed. Each
 * request carries at least one defect that must refuse it; the answer must be a 4xx in the error
 * envelope, and no table of the data file may change.
 */
describe('malformed requests', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await testApp();
    token = await userToken(t.app, t.keys.acme, 'bob');
    // Some state, so that "nothing changed" has something to not change.
    await t.app.inject({ method: 'PUT', url: '/v1/users/alice/followers/bob', headers: bearer(t.keys.acme) });
  });
  afterAll(async () => {
    await t.close();
  });

  type Cred = 'key' | 'token';
  interface Route {
    readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
    readonly path: (p: readonly string[]) => string;
    readonly params: number;
    readonly cred: Cred;
    /** A valid body, or undefined when the route takes none. */
    readonly body?: object;
  }

  const validEvent = { id: 'ev-1', type: 'post', actorId: 'alice' };
  const ROUTES: readonly Route[] = [
    { method: 'POST', path: () => '/v1/events', params: 0, cred: 'key', body: validEvent },
    {
      method: 'PUT',
      path: ([a, b]) => `/v1/users/${a}/followers/${b}`,
      params: 2,
      cred: 'key',
      body: { alerts: true },
    },
    { method: 'DELETE', path: ([a, b]) => `/v1/users/${a}/followers/${b}`, params: 2, cred: 'key' },
    {
      method: 'POST',
      path: () => '/v1/follows:batch',
      params: 0,
      cred: 'key',
      body: { follows: [{ userId: 'carol', followerId: 'dave' }] },
    },
    {
      method: 'PUT',
      path: ([u, d]) => `/v1/users/${u}/devices/${d}`,
      params: 2,
      cred: 'key',
      body: { platform: 'fcm' },
    },
    { method: 'DELETE', path: ([u, d]) => `/v1/users/${u}/devices/${d}`, params: 2, cred: 'key' },
    {
      method: 'PUT',
      path: ([u]) => `/v1/users/${u}/preferences`,
      params: 1,
      cred: 'key',
      body: { timezone: 'UTC' },
    },
    { method: 'GET', path: ([u]) => `/v1/users/${u}/preferences`, params: 1, cred: 'key' },
    { method: 'POST', path: ([u]) => `/v1/users/${u}/tokens`, params: 1, cred: 'key' },
    { method: 'GET', path: () => '/v1/me/inbox', params: 0, cred: 'token' },
    { method: 'GET', path: () => '/v1/me/inbox/unread-count', params: 0, cred: 'token' },
    { method: 'POST', path: ([n]) => `/v1/me/inbox/${n}/read`, params: 1, cred: 'token' },
    { method: 'POST', path: () => '/v1/me/inbox/read-all', params: 0, cred: 'token' },
    { method: 'POST', path: ([n]) => `/v1/me/inbox/${n}/unread`, params: 1, cred: 'token' },
    { method: 'POST', path: ([n]) => `/v1/me/inbox/${n}/archive`, params: 1, cred: 'token' },
    { method: 'POST', path: ([n]) => `/v1/me/inbox/${n}/unarchive`, params: 1, cred: 'token' },
    { method: 'POST', path: () => '/v1/me/inbox/seen', params: 0, cred: 'token' },
  ];

  /** Row counts of every table: the state a refused request must leave as it was. */
  function snapshot(): Record<string, number> {
    const tables = t.ports.db.sqlite
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all() as { name: string }[];
    return Object.fromEntries(
      tables.map(({ name }) => [
        name,
        Number((t.ports.db.sqlite.prepare(`SELECT count(*) AS n FROM "${name}"`).get() as { n: number }).n),
      ]),
    );
  }

  const goodParam: fc.Arbitrary<string> = fc.constantFrom(
    'alice',
    'bob',
    'carol',
    '01ARZ3NDEKTSV4RRFFQ69G5FAV',
  );
  /** A path segment no route accepts: a character outside every id pattern, or too long. */
  const badParam = fc.oneof(
    fc
      .tuple(fc.string({ maxLength: 8 }), fc.constantFrom(' ', '$', '%', '!', '~', '*', '"', 'é', '\u0000'))
      .map(([s, c]) => encodeURIComponent(`${s}${c}${s}`)),
    fc.constant('a'.repeat(600)),
  );
  const badCred = fc.oneof(
    fc.constant(undefined),
    fc.string({ maxLength: 80 }).map((s) => `Bearer ${s.replace(/[^\x20-\x7e]/g, '')}x`),
    fc.constantFrom('Basic dXNlcjpwYXNz', 'Bearer', 'Bearer fo_acme_nope', 'bearer a.b'),
  );
  const notAnObject = fc.oneof(
    fc.constantFrom('null', '[]', '"text"', '42', 'true', '{', '{"id":', '[{}]', '{"a":1,}'),
    fc.json().filter((j) => !j.trim().startsWith('{')),
  );
  /** An object body with one field no schema knows, so it is refused whatever else it holds. */
  const withUnknownField = fc
    .dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
    .map((d) => JSON.stringify({ ...d, __unknown__: 1 }));

  type Defect = 'credential' | 'param' | 'body' | 'query' | 'mediaType' | 'wrongKind';

  const request = fc
    .record({
      route: fc.constantFrom(...ROUTES),
      defect: fc.constantFrom<Defect>('credential', 'param', 'body', 'query', 'mediaType', 'wrongKind'),
      good: fc.array(goodParam, { minLength: 2, maxLength: 2 }),
      bad: badParam,
      cred: badCred,
      body: fc.oneof(notAnObject, withUnknownField),
      limit: fc.oneof(
        fc
          .integer({ min: -1000, max: 1000 })
          .filter((n) => n < 1 || n > 100)
          .map(String),
        fc.string({ maxLength: 5 }).filter((s) => !/^(100|[1-9][0-9]?)$/.test(s)),
      ),
      cursor: fc.string({ minLength: 1, maxLength: 70 }),
      useLimit: fc.boolean(),
    })
    .filter(({ route, defect }) => {
      if (defect === 'param') return route.params > 0;
      if (defect === 'body' || defect === 'mediaType') return route.body !== undefined;
      if (defect === 'query') return route.path([]) === '/v1/me/inbox';
      return true;
    })
    .map(({ route, defect, good, bad, cred, body, limit, cursor, useLimit }): InjectOptions => {
      const params = good.slice(0, route.params);
      if (defect === 'param') params[params.length - 1] = bad;
      const credential = route.cred === 'key' ? t.keys.acme : token;
      const wrong = route.cred === 'key' ? token : t.keys.acme;
      const headers: Record<string, string> = {};
      if (defect === 'credential') {
        if (cred !== undefined) headers.authorization = cred;
      } else {
        headers.authorization = `Bearer ${defect === 'wrongKind' ? wrong : credential}`;
      }
      let payload: string | undefined = route.body === undefined ? undefined : JSON.stringify(route.body);
      if (defect === 'body') payload = body;
      if (payload !== undefined)
        headers['content-type'] = defect === 'mediaType' ? 'application/xml' : 'application/json';
      let url = route.path(params);
      if (defect === 'query')
        url += `?${useLimit ? `limit=${encodeURIComponent(limit)}` : `cursor=${encodeURIComponent(cursor)}`}`;
      return { method: route.method, url, headers, ...(payload === undefined ? {} : { payload }) };
    });

  it('refuses every one with a 4xx in the error envelope and changes nothing', async () => {
    // Prepare
    const before = snapshot();
    // Act / Assess
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const res = await t.app.inject(req);
        expect(res.statusCode).toBeGreaterThanOrEqual(400);
        expect(res.statusCode).toBeLessThan(500);
        const body = res.json();
        expect(Object.keys(body)).toEqual(['error']);
        expect(typeof body.error.code).toBe('string');
        expect(typeof body.error.message).toBe('string');
      }),
      { numRuns: 3000 },
    );
    // Assess
    expect(snapshot()).toEqual(before);
  });

  it('never answers 5xx nor leaves the envelope, whatever is sent anywhere', async () => {
    // Prepare
    const anything = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
      route: fc.constantFrom(...ROUTES),
      params: fc.array(fc.oneof(goodParam, badParam, fc.string({ maxLength: 10 }).map(encodeURIComponent)), {
        minLength: 2,
        maxLength: 2,
      }),
      auth: fc.oneof(badCred, fc.constantFrom('key', 'token')),
      body: fc.option(fc.oneof(fc.json(), withUnknownField, fc.string({ maxLength: 50 }))),
      contentType: fc.constantFrom('application/json', 'text/plain', 'application/xml', undefined),
    });
    // Act / Assess
    await fc.assert(
      fc.asyncProperty(anything, async (a) => {
        const headers: Record<string, string> = {};
        if (a.auth === 'key') headers.authorization = `Bearer ${t.keys.acme}`;
        else if (a.auth === 'token') headers.authorization = `Bearer ${token}`;
        else if (a.auth !== undefined) headers.authorization = a.auth;
        if (a.contentType !== undefined && a.body !== null) headers['content-type'] = a.contentType;
        const res = await t.app.inject({
          method: a.method as InjectOptions['method'] & string,
          url: a.route.path(a.params),
          headers,
          ...(a.body === null ? {} : { payload: a.body }),
        });
        expect(res.statusCode).toBeLessThan(500);
        if (res.statusCode >= 400 && a.method !== 'HEAD') expect(Object.keys(res.json())).toEqual(['error']);
      }),
      { numRuns: 2000 },
    );
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { hashApiKey, newApiKey } from '../../src/http/auth.ts';
import { createUserTokens } from '../../src/http/user-tokens.ts';
import { bearer, TEST_SECRET, type TestApp, testApp, userToken } from './support.ts';

describe('HTTP API (in process)', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('refuses requests over the tenant rate with 429 and Retry-After, and lets them in again later', async () => {
    // Prepare
    let now = 0;
    t = await testApp({ rateLimit: { perSecond: 2, burst: 2 }, rateClock: () => now });
    const get = (key: string) =>
      t!.app.inject({ method: 'GET', url: '/v1/users/u1/preferences', headers: bearer(key) });
    // Act
    const within = [await get(t.keys.acme), await get(t.keys.acme)];
    const over = await get(t.keys.acme);
    const otherTenant = await get(t.keys.globex);
    now += 500;
    const later = await get(t.keys.acme);
    // Assess
    expect(within.map((r) => r.statusCode)).toEqual([404, 404]);
    expect(over.statusCode).toBe(429);
    expect(over.json()).toEqual({ error: { code: 'RATE_LIMITED', message: expect.any(String) } });
    expect(over.headers['retry-after']).toBe('1');
    expect(otherTenant.statusCode).toBe(404);
    expect(later.statusCode).toBe(404);
  });

  it("keeps a tenant's server calls within its own rate when its end users hit theirs", async () => {
    // Prepare: 2 requests per second per bucket
    let now = 0;
    t = await testApp({ rateLimit: { perSecond: 2, burst: 2 }, rateClock: () => now });
    const token = await userToken(t.app, t.keys.acme, 'bob');
    now += 10_000;
    const inbox = () =>
      t!.app.inject({ method: 'GET', url: '/v1/me/inbox/unread-count', headers: bearer(token) });
    // Act: bob spends his bucket and more
    const bobs = [await inbox(), await inbox(), await inbox()];
    const server = await t.app.inject({
      method: 'GET',
      url: '/v1/users/u1/preferences',
      headers: bearer(t.keys.acme),
    });
    // Assess
    expect(bobs.map((r) => r.statusCode)).toEqual([200, 200, 429]);
    expect(server.statusCode).toBe(404);
  });

  it('takes JSON only: 415 for text, no body for an empty JSON body, 400 for prototype poisoning', async () => {
    // Prepare
    t = await testApp();
    const token = await userToken(t.app, t.keys.acme, 'bob');
    const post = (url: string, credential: string, contentType: string, payload: string) =>
      t!.app.inject({
        method: 'POST',
        url,
        headers: { ...bearer(credential), 'content-type': contentType },
        payload,
      });
    // Act
    const text = await post('/v1/events', t.keys.acme, 'text/plain', 'hello');
    const emptyReadAll = await post('/v1/me/inbox/read-all', token, 'application/json', '');
    const emptyEvent = await post('/v1/events', t.keys.acme, 'application/json', '');
    const poisoned = await post(
      '/v1/events',
      t.keys.acme,
      'application/json',
      '{"id":"e1","type":"post","actorId":"a","__proto__":{"admin":true}}',
    );
    // Assess
    expect(text.statusCode).toBe(415);
    expect(text.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(emptyReadAll.statusCode).toBeLessThan(300);
    expect(emptyEvent.statusCode).toBe(400);
    expect(emptyEvent.json().error.code).toBe('VALIDATION');
    expect(poisoned.statusCode).toBe(400);
  });

  it("opens the whole-process operations data to the operator tenant's key only", async () => {
    // Prepare
    t = await testApp({ operatorTenantId: 'acme' });
    const token = await userToken(t.app, t.keys.acme, 'bob');
    const metrics = (headers: Record<string, string>) =>
      t!.app.inject({ method: 'GET', url: '/v1/ops/metrics', headers });
    // Act
    const operator = await metrics(bearer(t.keys.acme));
    const otherTenant = await metrics(bearer(t.keys.globex));
    const user = await metrics(bearer(token));
    const anonymous = await metrics({});
    // Assess
    expect(operator.statusCode).toBe(200);
    expect(Object.keys(operator.json()).length).toBeGreaterThan(0);
    expect([otherTenant.statusCode, user.statusCode, anonymous.statusCode]).toEqual([403, 403, 401]);
    expect(otherTenant.json().error.code).toBe('FORBIDDEN');
  });

  it('authenticates the API key of a tenant whose id has a dot', async () => {
    // Prepare
    t = await testApp();
    const key = newApiKey('acme.io');
    await t.ports.tenants.create('acme.io', hashApiKey(key), t.clock.now());
    // Act
    const res = await t.app.inject({ method: 'GET', url: '/v1/users/u1/preferences', headers: bearer(key) });
    // Assess: a dot once made the key look like a user token, and it never worked
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });

  it('refuses an expired, altered or foreign-signed user token with 401', async () => {
    // Prepare
    t = await testApp({ tokenTtlSeconds: 60 });
    const token = await userToken(t.app, t.keys.acme, 'bob');
    const forged = createUserTokens('another-secret-of-enough-bytes!!', 60_000).issue(
      { tenantId: 'acme', userId: 'bob' },
      t.clock.now(),
    ).token;
    const [payload, sig] = token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const otherUser = Buffer.from(JSON.stringify({ ...claims, u: 'mallory' })).toString('base64url');
    const inbox = (credential: string) =>
      t!.app.inject({ method: 'GET', url: '/v1/me/inbox/unread-count', headers: bearer(credential) });
    // Act
    const fresh = await inbox(token);
    const altered = await inbox(`${otherUser}.${sig}`);
    const foreign = await inbox(forged);
    t.clock.advance(60_000);
    const expired = await inbox(token);
    // Assess
    expect(fresh.statusCode).toBe(200);
    for (const res of [altered, foreign, expired]) {
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHORIZED');
    }
  });

  it('issues tokens that name the tenant of the key, never another', async () => {
    // Prepare
    t = await testApp();
    const tokens = createUserTokens(TEST_SECRET, 60_000);
    // Act
    const token = await userToken(t.app, t.keys.globex, 'bob');
    // Assess
    expect(tokens.verify(token, t.clock.now())).toEqual({
      tenantId: 'globex',
      userId: 'bob',
      expiresAt: t.clock.now() + 3600_000,
    });
  });

  it('answers 500 INTERNAL without internals when a store fails unexpectedly', async () => {
    // Prepare
    t = await testApp();
    const token = await userToken(t.app, t.keys.acme, 'bob');
    t.ports.db.close();
    // Act
    const res = await t.app.inject({ method: 'GET', url: '/v1/me/inbox', headers: bearer(token) });
    // Assess
    expect(res.statusCode).toBeGreaterThanOrEqual(500);
    expect(['INTERNAL', 'UNAVAILABLE']).toContain(res.json().error.code);
    expect(res.body).not.toMatch(/sqlite|database|stack/i);
    await t.app.close();
    // The data file is closed already; the rest (audit log, temp dir) is released here.
    await t.ports.close().catch(() => undefined);
    t = undefined;
  });

  it('describes every route with schemas for its input and its responses', async () => {
    // Prepare
    t = await testApp();
    // Act
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    // Assess
    const operations = Object.values(
      doc.paths as Record<string, Record<string, { responses: object }>>,
    ).flatMap((p) => Object.values(p));
    expect(operations).toHaveLength(18);
    for (const op of operations)
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['4XX', '5XX']));
  });

  it('follows with or without a body, and refuses a body that is not the schema', async () => {
    // Prepare
    t = await testApp();
    const put = (payload?: unknown) =>
      t!.app.inject({
        method: 'PUT',
        url: '/v1/users/alice/followers/bob',
        headers: bearer(t!.keys.acme),
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
    // Act
    const bare = await put();
    const withAlerts = await put({ alerts: true });
    const coerced = await put({ alerts: 'true' });
    // Assess
    expect([bare.statusCode, withAlerts.statusCode, coerced.statusCode]).toEqual([204, 204, 400]);
    expect(await t.ports.graph.followerCount({ tenantId: 'acme', userId: 'alice' })).toBe(1);
    expect(await t.ports.graph.followerCount({ tenantId: 'globex', userId: 'alice' })).toBe(0);
  });
});

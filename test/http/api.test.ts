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

  it('gives a tenant one bucket for all its traffic: user tokens for many ids do not multiply it', async () => {
    // Prepare: 4 requests per second per tenant, users unlimited within it
    let now = 0;
    t = await testApp({ rateLimit: { perSecond: 4, burst: 4 }, rateClock: () => now });
    const tokens = [];
    for (const user of ['u1', 'u2', 'u3']) tokens.push(await userToken(t.app, t.keys.acme, user));
    now += 10_000;
    const inbox = (token: string) =>
      t!.app.inject({ method: 'GET', url: '/v1/me/inbox/unread-count', headers: bearer(token) });
    // Act: three users and the server share the tenant's 4
    const users = [await inbox(tokens[0]!), await inbox(tokens[1]!), await inbox(tokens[2]!)];
    const server = await t.app.inject({
      method: 'GET',
      url: '/v1/users/u1/preferences',
      headers: bearer(t.keys.acme),
    });
    const over = await inbox(tokens[0]!);
    const serverOver = await t.app.inject({
      method: 'GET',
      url: '/v1/users/u1/preferences',
      headers: bearer(t.keys.acme),
    });
    const otherTenant = await t.app.inject({
      method: 'GET',
      url: '/v1/users/u1/preferences',
      headers: bearer(t.keys.globex),
    });
    // Assess
    expect(users.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    expect(server.statusCode).toBe(404);
    expect([over.statusCode, serverOver.statusCode]).toEqual([429, 429]);
    expect(over.json().error.message).toBe('too many requests for this tenant');
    expect(otherTenant.statusCode).toBe(404);
  });

  it("limits each end user to a share of the tenant's rate", async () => {
    // Prepare: tenant 100/s, each user 2/s
    let now = 0;
    t = await testApp({
      rateLimit: { perSecond: 100, burst: 100 },
      userRateLimit: { perSecond: 2, burst: 2 },
      rateClock: () => now,
    });
    const bob = await userToken(t.app, t.keys.acme, 'bob');
    const carol = await userToken(t.app, t.keys.acme, 'carol');
    const inbox = (token: string) =>
      t!.app.inject({ method: 'GET', url: '/v1/me/inbox/unread-count', headers: bearer(token) });
    // Act: bob loops; carol and the server still get through
    const bobs = [await inbox(bob), await inbox(bob), await inbox(bob)];
    const carols = await inbox(carol);
    const server = await t.app.inject({
      method: 'GET',
      url: '/v1/users/u1/preferences',
      headers: bearer(t.keys.acme),
    });
    now += 1_000;
    const bobLater = await inbox(bob);
    // Assess
    expect(bobs.map((r) => r.statusCode)).toEqual([200, 200, 429]);
    expect(bobs[2]!.json().error.message).toBe('too many requests for this user');
    expect(bobs[2]!.headers['retry-after']).toBe('1');
    expect(carols.statusCode).toBe(200);
    expect(server.statusCode).toBe(404);
    expect(bobLater.statusCode).toBe(200);
  });

  it('limits wrong credentials per source address, before looking at the credential', async () => {
    // Prepare: 3 wrong credentials at once per address, one a second after
    let now = 0;
    t = await testApp({ authFailureLimit: { perSecond: 1, burst: 3 }, rateClock: () => now });
    const from = (remoteAddress: string, credential: string) =>
      t!.app.inject({
        method: 'GET',
        url: '/v1/users/u1/preferences',
        headers: bearer(credential),
        remoteAddress,
      });
    // Act
    const guesses = [];
    for (let i = 0; i < 4; i++) guesses.push(await from('203.0.113.7', `fo_acme_guess${i}`));
    const rightKeySameAddress = await from('203.0.113.7', t.keys.acme);
    const otherAddress = await from('198.51.100.2', t.keys.acme);
    const badUserToken = await t.app.inject({
      method: 'GET',
      url: '/v1/me/inbox',
      headers: bearer('eyJ0IjoiYWNtZSJ9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
      remoteAddress: '203.0.113.7',
    });
    now += 1_000;
    const later = await from('203.0.113.7', t.keys.acme);
    // Assess
    expect(guesses.map((r) => r.statusCode)).toEqual([401, 401, 401, 429]);
    expect(guesses[3]!.json().error.message).toBe('too many failed authentications from this address');
    expect(rightKeySameAddress.statusCode).toBe(429);
    expect(badUserToken.statusCode).toBe(429);
    expect(otherAddress.statusCode).toBe(404);
    expect(later.statusCode).toBe(404);
  });

  it('counts failures by the client behind a trusted proxy, and by the peer otherwise', async () => {
    // Prepare
    const proxied = await testApp({ authFailureLimit: { perSecond: 1, burst: 1 }, trustProxy: '127.0.0.1' });
    const direct = await testApp({ authFailureLimit: { perSecond: 1, burst: 1 } });
    try {
      const via = (app: typeof proxied.app, client: string) =>
        app.inject({
          method: 'GET',
          url: '/v1/users/u1/preferences',
          headers: { ...bearer('fo_acme_wrong'), 'x-forwarded-for': client },
          remoteAddress: '127.0.0.1',
        });
      // Act
      const proxiedAnswers = [await via(proxied.app, '203.0.113.1'), await via(proxied.app, '203.0.113.2')];
      const directAnswers = [await via(direct.app, '203.0.113.1'), await via(direct.app, '203.0.113.2')];
      // Assess: behind the trusted proxy two clients are two addresses; untrusted, the header is ignored
      expect(proxiedAnswers.map((r) => r.statusCode)).toEqual([401, 401]);
      expect(directAnswers.map((r) => r.statusCode)).toEqual([401, 429]);
    } finally {
      await proxied.close();
      await direct.close();
    }
  });

  it('counts failed authentications in the metrics', async () => {
    // Prepare
    t = await testApp({ operatorTenantId: 'acme' });
    // Act: two failures (a wrong key, no token), one success, one wrong-kind credential (not a failure)
    await t.app.inject({ method: 'GET', url: '/v1/users/u1/preferences', headers: bearer('fo_acme_wrong') });
    await t.app.inject({ method: 'GET', url: '/v1/me/inbox' });
    await t.app.inject({ method: 'GET', url: '/v1/users/u1/preferences', headers: bearer(t.keys.acme) });
    await t.app.inject({ method: 'GET', url: '/v1/me/inbox', headers: bearer(t.keys.acme) });
    const snapshot = await t.app.inject({
      method: 'GET',
      url: '/v1/ops/metrics',
      headers: bearer(t.keys.acme),
    });
    // Assess
    expect(snapshot.statusCode).toBe(200);
    expect(snapshot.json().authFailures.total).toBe(2);
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
    expect(operations).toHaveLength(31);
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

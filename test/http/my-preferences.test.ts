import { afterEach, describe, expect, it } from 'vitest';
import { bearer, type TestApp, testApp, userToken } from './support.ts';

describe('HTTP API: GET|PATCH /v1/me/preferences', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const tenantPrefs = {
    timezone: 'Europe/Paris',
    email: 'taylor@example.com',
    consent: { push: true, email: true },
    categories: { content: { email: false } },
    quietHours: { start: '22:00', end: '07:00' },
  };

  async function seeded(): Promise<{ t: TestApp; user: { authorization: string } }> {
    const app = await testApp();
    await app.app.inject({
      method: 'PUT',
      url: '/v1/users/taylor/preferences',
      headers: bearer(app.keys.acme),
      payload: tenantPrefs,
    });
    return { t: app, user: bearer(await userToken(app.app, app.keys.acme, 'taylor')) };
  }

  it('shows the defaults, updatedAt null, while nothing is stored', async () => {
    // Prepare
    t = await testApp();
    const headers = bearer(await userToken(t.app, t.keys.acme, 'newcomer'));
    // Act
    const res = await t.app.inject({ method: 'GET', url: '/v1/me/preferences', headers });
    // Assess
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      userId: 'newcomer',
      timezone: 'UTC',
      consent: {},
      channels: {},
      categories: {},
      updatedAt: null,
    });
  });

  it("reads the user's own preferences as the tenant stored them", async () => {
    // Prepare
    ({ t } = await seeded());
    const headers = bearer(await userToken(t.app, t.keys.acme, 'taylor'));
    // Act
    const res = await t.app.inject({ method: 'GET', url: '/v1/me/preferences', headers });
    // Assess
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ userId: 'taylor', ...tenantPrefs });
  });

  it("merges a patch: the fields it names change, the tenant's other fields stay", async () => {
    // Prepare
    const s = await seeded();
    t = s.t;
    // Act
    const patched = await t.app.inject({
      method: 'PATCH',
      url: '/v1/me/preferences',
      headers: s.user,
      payload: { categories: { social: { push: false } }, quietHours: { start: '23:30' } },
    });
    const asTenant = await t.app.inject({
      method: 'GET',
      url: '/v1/users/taylor/preferences',
      headers: bearer(t.keys.acme),
    });
    // Assess
    expect(patched.statusCode).toBe(200);
    expect(asTenant.json()).toMatchObject({
      timezone: 'Europe/Paris',
      email: 'taylor@example.com',
      consent: { push: true, email: true },
      categories: { content: { email: false }, social: { push: false } },
      quietHours: { start: '23:30', end: '07:00' },
    });
    expect(patched.json()).toEqual(asTenant.json());
  });

  it('removes a field named null, so its default applies again', async () => {
    // Prepare
    const s = await seeded();
    t = s.t;
    // Act
    const res = await t.app.inject({
      method: 'PATCH',
      url: '/v1/me/preferences',
      headers: s.user,
      payload: { quietHours: null, timezone: null, categories: { content: { email: null } } },
    });
    // Assess
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.quietHours).toBeUndefined();
    expect(body.timezone).toBe('UTC');
    expect(body.categories).toEqual({ content: {} });
    expect(body.consent).toEqual({ push: true, email: true });
  });

  it('creates the record from the defaults when the tenant stored none', async () => {
    // Prepare
    t = await testApp();
    const headers = bearer(await userToken(t.app, t.keys.acme, 'newcomer'));
    // Act
    const res = await t.app.inject({
      method: 'PATCH',
      url: '/v1/me/preferences',
      headers,
      payload: { consent: { push: true } },
    });
    const stored = await t.ports.preferences.get({ tenantId: 'acme', userId: 'newcomer' });
    // Assess
    expect(res.statusCode).toBe(200);
    expect(stored).toMatchObject({ timezone: 'UTC', consent: { push: true }, channels: {}, categories: {} });
  });

  it('refuses bad patches with 400 and the error envelope, and changes nothing', async () => {
    // Prepare
    const s = await seeded();
    t = s.t;
    const before = await t.ports.preferences.get({ tenantId: 'acme', userId: 'taylor' });
    const bad: unknown[] = [
      { timezone: 'Mars/Olympus_Mons' },
      { channels: { sms: true } },
      { categories: { gossip: { push: false } } },
      { consent: { push: 'yes' } },
      { quietHours: { start: '25:00' } },
      { email: 'someone-else@example.com' },
      { tenantId: 'globex' },
      { userId: 'someone-else' },
      [{ timezone: 'UTC' }],
    ];
    // Act
    const answers = [];
    for (const payload of bad) {
      answers.push(
        await t.app.inject({
          method: 'PATCH',
          url: '/v1/me/preferences',
          headers: { ...s.user, 'content-type': 'application/json' },
          payload: JSON.stringify(payload),
        }),
      );
    }
    const after = await t.ports.preferences.get({ tenantId: 'acme', userId: 'taylor' });
    // Assess
    expect(answers.map((r) => r.statusCode)).toEqual(bad.map(() => 400));
    for (const r of answers) {
      expect(r.json()).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
    }
    expect(after).toEqual(before);
  });

  it("refuses the user's patch when the merged record breaks a rule, and keeps the stored one", async () => {
    // Prepare: quiet hours need both ends, so removing one is refused by the merged check.
    const s = await seeded();
    t = s.t;
    const before = await t.ports.preferences.get({ tenantId: 'acme', userId: 'taylor' });
    // Act
    const res = await t.app.inject({
      method: 'PATCH',
      url: '/v1/me/preferences',
      headers: s.user,
      payload: { quietHours: { end: null } },
    });
    // Assess
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION');
    expect(JSON.stringify(res.json())).toContain('quietHours');
    expect(await t.ports.preferences.get({ tenantId: 'acme', userId: 'taylor' })).toEqual(before);
  });

  it('needs a user token: no credential is 401, a tenant API key 403', async () => {
    // Prepare
    const s = await seeded();
    t = s.t;
    // Act
    const none = await t.app.inject({ method: 'PATCH', url: '/v1/me/preferences', payload: {} });
    const apiKey = await t.app.inject({
      method: 'GET',
      url: '/v1/me/preferences',
      headers: bearer(t.keys.acme),
    });
    // Assess
    expect(none.statusCode).toBe(401);
    expect(apiKey.statusCode).toBe(403);
  });

  it("keeps tenants apart: a token of acme's user never reads or writes globex's user of the same id", async () => {
    // Prepare
    const s = await seeded();
    t = s.t;
    await t.app.inject({
      method: 'PUT',
      url: '/v1/users/taylor/preferences',
      headers: bearer(t.keys.globex),
      payload: { timezone: 'Asia/Tokyo', consent: { email: true } },
    });
    // Act
    const read = await t.app.inject({ method: 'GET', url: '/v1/me/preferences', headers: s.user });
    await t.app.inject({
      method: 'PATCH',
      url: '/v1/me/preferences',
      headers: s.user,
      payload: { timezone: 'America/New_York', channels: { email: false } },
    });
    const globex = await t.ports.preferences.get({ tenantId: 'globex', userId: 'taylor' });
    const acme = await t.ports.preferences.get({ tenantId: 'acme', userId: 'taylor' });
    // Assess
    expect(read.json().timezone).toBe('Europe/Paris');
    expect(globex).toMatchObject({ timezone: 'Asia/Tokyo', consent: { email: true }, channels: {} });
    expect(acme).toMatchObject({ timezone: 'America/New_York', channels: { email: false } });
  });

  it('is in the OpenAPI document with the user token scheme', async () => {
    // Prepare
    t = await testApp();
    // Act
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    // Assess
    const path = doc.paths['/v1/me/preferences'];
    expect(Object.keys(path).sort()).toEqual(['get', 'patch']);
    expect(path.patch.security).toEqual([{ userToken: [] }]);
    expect(path.patch.requestBody.content['application/json'].schema.properties.email).toBeUndefined();
  });
});

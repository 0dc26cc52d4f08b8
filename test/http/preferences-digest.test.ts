import { afterEach, describe, expect, it } from 'vitest';
import { bearer, type TestApp, testApp, userToken } from './support.ts';

describe('HTTP API: email digest cadences in preferences', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it("stores a user's cadences and digest hour, and a user's patch merges them", async () => {
    // Prepare
    t = await testApp();
    const headers = bearer(t.keys.acme);
    const token = await userToken(t.app, t.keys.acme, 'u1');
    // Act
    const put = await t.app.inject({
      method: 'PUT',
      url: '/v1/users/u1/preferences',
      headers,
      payload: { emailCadence: { social: 'daily', content: 'hourly' }, digestHour: 7 },
    });
    const patched = await t.app.inject({
      method: 'PATCH',
      url: '/v1/me/preferences',
      headers: bearer(token),
      payload: { emailCadence: { content: 'immediate', mention: 'hourly' }, digestHour: 18 },
    });
    const got = await t.app.inject({ method: 'GET', url: '/v1/users/u1/preferences', headers });
    // Assess
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ emailCadence: { social: 'daily', content: 'hourly' }, digestHour: 7 });
    expect(patched.statusCode).toBe(200);
    expect(got.json().emailCadence).toEqual({ social: 'daily', content: 'immediate', mention: 'hourly' });
    expect(got.json().digestHour).toBe(18);
  });

  it('refuses a bad cadence, a cadence on critical and a bad hour with 400, keeping what was stored', async () => {
    // Prepare
    t = await testApp();
    const headers = bearer(t.keys.acme);
    const token = await userToken(t.app, t.keys.acme, 'u1');
    await t.app.inject({
      method: 'PUT',
      url: '/v1/users/u1/preferences',
      headers,
      payload: { emailCadence: { social: 'daily' } },
    });
    const bad = [
      { emailCadence: { social: 'weekly' } },
      { emailCadence: { critical: 'daily' } },
      { emailCadence: { sms: 'daily' } },
      { emailCadence: 'daily' },
      { digestHour: 24 },
      { digestHour: 8.5 },
      { digestHour: '9' },
    ];
    // Act
    const answers = [];
    for (const payload of bad) {
      answers.push(await t.app.inject({ method: 'PUT', url: '/v1/users/u1/preferences', headers, payload }));
      answers.push(
        await t.app.inject({ method: 'PATCH', url: '/v1/me/preferences', headers: bearer(token), payload }),
      );
    }
    const got = await t.app.inject({ method: 'GET', url: '/v1/users/u1/preferences', headers });
    // Assess
    expect(answers.map((r) => r.statusCode)).toEqual(bad.flatMap(() => [400, 400]));
    expect(answers.every((r) => /emailCadence|digestHour/.test(JSON.stringify(r.json())))).toBe(true);
    expect(got.json().emailCadence).toEqual({ social: 'daily' });
    expect(got.json().digestHour).toBeUndefined();
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { bearer, type TestApp, testApp } from './support.ts';

describe('HTTP API: frequency caps in preferences', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const caps = {
    push: { limit: 10, windowSeconds: 3600 },
    categories: { social: { limit: 3, windowSeconds: 600 } },
  };

  it("stores a user's frequency caps and reads them back", async () => {
    // Prepare
    t = await testApp();
    const headers = bearer(t.keys.acme);
    // Act
    const put = await t.app.inject({
      method: 'PUT',
      url: '/v1/users/u1/preferences',
      headers,
      payload: { consent: { push: true }, frequencyCaps: caps },
    });
    const got = await t.app.inject({ method: 'GET', url: '/v1/users/u1/preferences', headers });
    // Assess
    expect(put.statusCode).toBe(200);
    expect(put.json().frequencyCaps).toEqual(caps);
    expect(got.json().frequencyCaps).toEqual(caps);
  });

  it('refuses a bad cap with 400 naming the field, and keeps what was stored', async () => {
    // Prepare
    t = await testApp();
    const headers = bearer(t.keys.acme);
    await t.app.inject({
      method: 'PUT',
      url: '/v1/users/u1/preferences',
      headers,
      payload: { frequencyCaps: caps },
    });
    const bad = [
      { push: { limit: 0, windowSeconds: 3600 } },
      { push: { limit: 1 } },
      { categories: { critical: { limit: 1, windowSeconds: 60 } } },
      { sms: { limit: 1, windowSeconds: 60 } },
    ];
    // Act
    const answers = [];
    for (const frequencyCaps of bad) {
      answers.push(
        await t.app.inject({
          method: 'PUT',
          url: '/v1/users/u1/preferences',
          headers,
          payload: { frequencyCaps },
        }),
      );
    }
    const got = await t.app.inject({ method: 'GET', url: '/v1/users/u1/preferences', headers });
    // Assess
    expect(answers.map((r) => r.statusCode)).toEqual([400, 400, 400, 400]);
    expect(answers.every((r) => JSON.stringify(r.json()).includes('frequencyCaps'))).toBe(true);
    expect(got.json().frequencyCaps).toEqual(caps);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { createUserTokens } from '../../src/http/user-tokens.ts';
import { TEST_SECRET, type TestApp, testApp } from './support.ts';

describe('dev sign-in of the notification center', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('does not exist unless the service enables it', async () => {
    // Prepare
    t = await testApp();
    // Act
    const res = await t.app.inject({
      method: 'GET',
      url: '/v1/dev/token?userId=alice',
      headers: { host: '127.0.0.1' },
    });
    // Assess
    expect(res.statusCode).toBe(404);
  });

  it('issues a token of the dev tenant by user id to a loopback Host only', async () => {
    // Prepare
    t = await testApp({ devTenantId: 'acme' });
    const get = (host: string) =>
      t!.app.inject({ method: 'GET', url: '/v1/dev/token?userId=alice', headers: { host } });
    // Act
    const local = await get('127.0.0.1:8080');
    const named = await get('localhost:8080');
    const proxied = await get('notifications.example.com');
    const rebound = await get('attacker.example:8080');
    // Assess: a proxy on the same box or a DNS-rebound page gets nothing
    expect(local.statusCode).toBe(200);
    expect(named.statusCode).toBe(200);
    const user = createUserTokens(TEST_SECRET, 60_000).verify(local.json().token, t.clock.now());
    expect(user).toMatchObject({ tenantId: 'acme', userId: 'alice' });
    for (const res of [proxied, rebound]) {
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('NOT_FOUND');
    }
  });
});

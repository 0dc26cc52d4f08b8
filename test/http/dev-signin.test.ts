import { afterEach, describe, expect, it } from 'vitest';
import { createUserTokens } from '../../src/http/user-tokens.ts';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
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

describe('dev sign-in behind a proxy or on a look-alike name', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('refuses any request that carries a forwarding header, even with a loopback Host', async () => {
    // Prepare
    t = await testApp({ devTenantId: 'acme' });
    const get = (headers: Record<string, string>) =>
      t!.app.inject({
        method: 'GET',
        url: '/v1/dev/token?userId=alice',
        headers: { host: '127.0.0.1:8080', ...headers },
      });
    // Act
    const answers = await Promise.all([
      get({ 'x-forwarded-for': '203.0.113.9' }),
      get({ forwarded: 'for=203.0.113.9;proto=https' }),
      get({ 'x-real-ip': '203.0.113.9' }),
      get({ 'x-forwarded-host': 'notifications.example.com' }),
      t.app.inject({
        method: 'GET',
        url: '/v1/dev',
        headers: { host: '127.0.0.1', 'x-forwarded-for': '203.0.113.9' },
      }),
    ]);
    const direct = await get({});
    // Assess
    for (const res of answers) {
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no such route' } });
    }
    expect(direct.statusCode).toBe(200);
  });

  it('refuses host names that only look like loopback', async () => {
    // Prepare
    t = await testApp({ devTenantId: 'acme' });
    // Act
    const answers = await Promise.all(
      [
        '127.evil.example',
        '127.0.0.1.evil.example:8080',
        '127.0.0.1evil',
        '127.1',
        '127.0.0.999',
        'localhost.evil.example',
      ].map((host) => t!.app.inject({ method: 'GET', url: '/v1/dev/token?userId=alice', headers: { host } })),
    );
    const ipv6 = await t.app.inject({
      method: 'GET',
      url: '/v1/dev/token?userId=alice',
      headers: { host: '[::1]:8080' },
    });
    // Assess
    for (const res of answers) expect(res.statusCode).toBe(404);
    expect(ipv6.statusCode).toBe(200);
  });

  it('is off in auto mode when the service listens on a name that only looks like loopback', () => {
    // Act / Assess
    expect(readRuntimeConfig({ FANOUT_HOST: '127.evil.example' }).devSignIn).toBe(false);
    expect(readRuntimeConfig({ FANOUT_HOST: '127.0.0.1.nip.io' }).devSignIn).toBe(false);
    expect(readRuntimeConfig({ FANOUT_HOST: '0.0.0.0' }).devSignIn).toBe(false);
    expect(readRuntimeConfig({ FANOUT_HOST: '127.0.0.1' }).devSignIn).toBe(true);
    expect(readRuntimeConfig({ FANOUT_HOST: '::1' }).devSignIn).toBe(true);
    expect(readRuntimeConfig({ FANOUT_HOST: 'localhost' }).devSignIn).toBe(true);
  });
});

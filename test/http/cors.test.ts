import { afterEach, describe, expect, it } from 'vitest';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
import { bearer, type TestApp, testApp, userToken } from './support.ts';

describe('HTTP API: CORS on the end user routes', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const preflight = (url: string, origin = 'https://app.example.com') => ({
    method: 'OPTIONS' as const,
    url,
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type',
    },
  });

  it('answers a preflight of /v1/me/* with 204, the methods and the three allowed headers', async () => {
    // Prepare
    t = await testApp();
    // Act
    const res = await t.app.inject(preflight('/v1/me/inbox/01J00000000000000000000000/archive'));
    // Assess
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['access-control-allow-headers']).toBe('authorization, content-type, last-event-id');
    expect(res.headers['access-control-allow-methods']).toContain('PATCH');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
  });

  it('sends Access-Control-Allow-Origin on answers and errors of /v1/me/*', async () => {
    // Prepare
    t = await testApp();
    const headers = {
      ...bearer(await userToken(t.app, t.keys.acme, 'taylor')),
      origin: 'https://app.example.com',
    };
    // Act
    const ok = await t.app.inject({ method: 'GET', url: '/v1/me/inbox/unread-count', headers });
    const refused = await t.app.inject({
      method: 'GET',
      url: '/v1/me/preferences',
      headers: { authorization: 'Bearer nope', origin: 'https://app.example.com' },
    });
    // Assess
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['access-control-allow-origin']).toBe('*');
    // A 401 is readable too: the element then asks its token callback for a fresh token.
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['access-control-allow-origin']).toBe('*');
  });

  it('gives tenant API-key routes and /ops no CORS at all', async () => {
    // Prepare
    t = await testApp();
    // Act
    const events = await t.app.inject(preflight('/v1/events'));
    const tenant = await t.app.inject({
      method: 'GET',
      url: '/v1/users/taylor/preferences',
      headers: { ...bearer(t.keys.acme), origin: 'https://app.example.com' },
    });
    const ops = await t.app.inject({
      method: 'GET',
      url: '/ops',
      headers: { origin: 'https://app.example.com' },
    });
    // Assess
    expect(events.statusCode).toBe(404);
    for (const res of [events, tenant, ops]) {
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  it('allows only the listed origins when FANOUT_CORS_ORIGINS names some', async () => {
    // Prepare
    const { corsOrigins } = readRuntimeConfig({
      FANOUT_CORS_ORIGINS: 'https://app.example.com, http://localhost:3000',
    });
    t = await testApp({ corsOrigins });
    // Act
    const listed = await t.app.inject(preflight('/v1/me/inbox'));
    const other = await t.app.inject(preflight('/v1/me/inbox', 'https://evil.example'));
    const script = await t.app.inject({
      method: 'GET',
      url: '/fanout-inbox.js',
      headers: { origin: 'http://localhost:3000' },
    });
    // Assess
    expect(listed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(listed.headers.vary).toBe('Origin');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    expect(script.headers['access-control-allow-origin']).toBe('http://localhost:3000');
  });

  it('refuses a FANOUT_CORS_ORIGINS that is not origins, naming the variable', () => {
    expect(() => readRuntimeConfig({ FANOUT_CORS_ORIGINS: 'app.example.com/path' })).toThrow(
      /FANOUT_CORS_ORIGINS/,
    );
    expect(readRuntimeConfig({}).corsOrigins).toEqual(['*']);
  });

  it('serves the element and its modules as JavaScript, cacheable for an hour, with an ETag', async () => {
    // Prepare
    t = await testApp();
    for (const path of [
      '/fanout-inbox.js',
      '/inbox-api.js',
      '/inbox-view.js',
      '/inbox-styles.js',
      '/inbox-list.js',
      '/inbox-template.js',
      '/preferences.js',
      '/sse.js',
    ]) {
      // Act
      const res = await t.app.inject({
        method: 'GET',
        url: path,
        headers: { origin: 'https://app.example.com' },
      });
      const again = await t.app.inject({
        method: 'GET',
        url: path,
        headers: { 'if-none-match': String(res.headers.etag) },
      });
      // Assess
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(res.headers['cache-control']).toBe('public, max-age=3600, stale-while-revalidate=60');
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(again.statusCode).toBe(304);
    }
    const page = await t.app.inject({ method: 'GET', url: '/' });
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers['access-control-allow-origin']).toBeUndefined();
  });
});

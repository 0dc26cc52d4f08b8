import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http/app.ts';
import { hashApiKey, newApiKey } from '../../src/http/auth.ts';
import type { Logger } from '../../src/ports/logger.ts';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
import { type EmbeddedPorts, openEmbeddedPorts } from '../../src/runtime/embedded.ts';
import { bearer, manualClock, TEST_SECRET } from './support.ts';

/** A logger that keeps what it was given, as the JSON lines it would write. */
function capturingLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string, attributes?: Readonly<Record<string, unknown>>) =>
    lines.push(JSON.stringify({ level, message, ...attributes }));
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('access log', () => {
  let app: FastifyInstance | undefined;
  let ports: EmbeddedPorts | undefined;
  afterEach(async () => {
    await app?.close();
    await ports?.close();
  });

  it('writes one JSON line per request with id, tenant, route pattern, status and duration, and no secret', async () => {
    // Prepare
    const clock = manualClock();
    ports = await openEmbeddedPorts({ config: readRuntimeConfig({ FANOUT_DATA_DIR: ':memory:' }), clock });
    const key = newApiKey('acme');
    await ports.tenants.create('acme', hashApiKey(key), clock.now());
    const accessLog = capturingLogger();
    app = await buildApp({
      ports,
      clock,
      logger: ports.logger,
      options: { tokenSecret: TEST_SECRET },
      accessLog,
    });
    const pushToken = 'a'.repeat(64);
    const email = 'bob.secret@example.com';
    // Act
    const token = (
      await app.inject({ method: 'POST', url: '/v1/users/bob/tokens', headers: bearer(key) })
    ).json().token as string;
    await app.inject({
      method: 'PUT',
      url: `/v1/users/bob/devices/${pushToken}`,
      headers: bearer(key),
      payload: { platform: 'apns' },
    });
    await app.inject({
      method: 'PUT',
      url: '/v1/users/bob/preferences',
      headers: bearer(key),
      payload: { email },
    });
    const page = (
      await app.inject({ method: 'GET', url: '/v1/me/inbox?limit=1', headers: bearer(token) })
    ).json();
    const cursor = 'Q'.repeat(60);
    await app.inject({ method: 'GET', url: `/v1/me/inbox?cursor=${cursor}`, headers: bearer(token) });
    await app.inject({ method: 'GET', url: `/v1/me/inbox?access_token=${token}` });
    await app.inject({
      method: 'GET',
      url: '/v1/users/bob/preferences',
      headers: bearer('fo_acme_wrongkey'),
    });
    await app.inject({ method: 'GET', url: `/nothing/${pushToken}` });
    // Assess
    const entries = accessLog.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries).toHaveLength(8);
    for (const e of entries) {
      expect(Object.keys(e).sort()).toEqual(
        [
          'durationMs',
          'level',
          'message',
          'method',
          'requestId',
          'route',
          'status',
          ...('tenantId' in e ? ['tenantId'] : []),
        ].sort(),
      );
      expect(typeof e.durationMs).toBe('number');
    }
    expect(entries[0]).toMatchObject({
      route: '/v1/users/:userId/tokens',
      status: 201,
      tenantId: 'acme',
      method: 'POST',
    });
    expect(entries[1]).toMatchObject({ route: '/v1/users/:userId/devices/:token', tenantId: 'acme' });
    expect(entries[3]).toMatchObject({ route: '/v1/me/inbox', status: 200, tenantId: 'acme' });
    expect(entries[5]).toMatchObject({ status: 401 });
    expect(entries[6]).toMatchObject({ status: 401 });
    expect(entries[7]).toMatchObject({ route: 'unmatched', status: 404 });
    expect(new Set(entries.map((e) => e.requestId)).size).toBe(8);
    const text = accessLog.lines.join('\n');
    for (const secret of [
      key,
      token,
      pushToken,
      email,
      cursor,
      'fo_acme_wrongkey',
      'bob.secret',
      ...(page.nextCursor ? [page.nextCursor] : []),
    ]) {
      expect(text).not.toContain(secret);
    }
  });
});

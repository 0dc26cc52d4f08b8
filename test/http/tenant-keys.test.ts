import { afterEach, describe, expect, it } from 'vitest';
import { bearer, type TestApp, testApp } from './support.ts';

describe('API key rotation over the operator route', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('adds a second live key, lists both by id, and a revoked key stops working at once', async () => {
    // Prepare: acme operates; globex rotates
    t = await testApp({ operatorTenantId: 'acme' });
    const op = bearer(t.keys.acme);
    const asGlobex = (key: string) =>
      t!.app.inject({ method: 'GET', url: '/v1/users/u1/preferences', headers: bearer(key) });
    expect((await asGlobex(t.keys.globex)).statusCode).toBe(404);
    // Act: rotate
    const created = await t.app.inject({ method: 'POST', url: '/v1/ops/tenants/globex/keys', headers: op });
    const newKey = created.json().apiKey as string;
    const duringRotation = [await asGlobex(t.keys.globex), await asGlobex(newKey)];
    const listed = await t.app.inject({ method: 'GET', url: '/v1/ops/tenants/globex/keys', headers: op });
    const oldId = listed.json().keys.find((k: { keyId: string }) => k.keyId !== created.json().keyId).keyId;
    const revoked = await t.app.inject({
      method: 'DELETE',
      url: `/v1/ops/tenants/globex/keys/${oldId}`,
      headers: op,
    });
    const afterRevoke = [await asGlobex(t.keys.globex), await asGlobex(newKey)];
    const lastKey = await t.app.inject({
      method: 'DELETE',
      url: `/v1/ops/tenants/globex/keys/${created.json().keyId}`,
      headers: op,
    });
    // Assess
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      tenantId: 'globex',
      keyId: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(newKey).toMatch(/^fo_globex_/);
    expect(duringRotation.map((r) => r.statusCode)).toEqual([404, 404]);
    expect(listed.json().keys).toHaveLength(2);
    expect(JSON.stringify(listed.json())).not.toContain(newKey);
    expect(revoked.statusCode).toBe(204);
    expect(afterRevoke.map((r) => r.statusCode)).toEqual([401, 404]);
    expect(lastKey.statusCode).toBe(409);
    expect(lastKey.json().error.code).toBe('CONFLICT');
  });

  it('opens only to the operator tenant, and answers unknown tenants and keys with 404', async () => {
    // Prepare
    t = await testApp({ operatorTenantId: 'acme' });
    // Act
    const other = await t.app.inject({
      method: 'POST',
      url: '/v1/ops/tenants/globex/keys',
      headers: bearer(t.keys.globex),
    });
    const none = await t.app.inject({ method: 'GET', url: '/v1/ops/tenants/globex/keys' });
    const unknownTenant = await t.app.inject({
      method: 'POST',
      url: '/v1/ops/tenants/nobody/keys',
      headers: bearer(t.keys.acme),
    });
    const unknownKey = await t.app.inject({
      method: 'DELETE',
      url: '/v1/ops/tenants/globex/keys/0123456789abcdef',
      headers: bearer(t.keys.acme),
    });
    const badId = await t.app.inject({
      method: 'DELETE',
      url: '/v1/ops/tenants/globex/keys/xyz',
      headers: bearer(t.keys.acme),
    });
    // Assess
    expect([
      other.statusCode,
      none.statusCode,
      unknownTenant.statusCode,
      unknownKey.statusCode,
      badId.statusCode,
    ]).toEqual([403, 401, 404, 404, 400]);
    expect(await t.ports.tenants.listApiKeys('globex')).toHaveLength(1);
  });
});

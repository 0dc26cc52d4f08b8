import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, FanoutError, NotFoundError, ValidationError } from '../../src/domain/errors.ts';
import type { Tenants } from '../../src/ports/tenants.ts';

/** What a suite run needs: fresh, empty tenants per test. */
export interface TenantsHarness {
  readonly tenants: Tenants;
  close(): Promise<void>;
}

/** The shape of what callers store: a sha256 of the key, never the key. */
function keyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Resolves to the FanoutError code a promise rejected with. */
async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return err instanceof FanoutError ? err.code : 'not a FanoutError';
  }
}

/** The Tenants port's contract: unique tenants, each API key opening exactly one of them. */
export function tenantsContract(name: string, make: () => Promise<TenantsHarness>): void {
  describe(`Tenants contract: ${name}`, () => {
    let h: TenantsHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    it('creates a tenant that can be read, listed and found by its key hash', async () => {
      // Act
      const created = await h.tenants.create('acme', keyHash('key-1'), 1_000);
      // Assess
      expect(created).toEqual({ tenantId: 'acme', createdAt: 1_000 });
      expect(await h.tenants.get('acme')).toEqual(created);
      expect(await h.tenants.list()).toEqual([created]);
      expect(await h.tenants.findByApiKeyHash(keyHash('key-1'))).toEqual(created);
    });

    it('stores, replaces and removes a tenant’s aggregation rules with its record', async () => {
      // Prepare
      await h.tenants.create('acme', keyHash('key-1'), 1_000);
      const rules = { like: { aggregate: true, windowMs: 86_400_000 }, comment: { aggregate: true } };
      // Act
      await h.tenants.setAggregation('acme', rules);
      const stored = await h.tenants.get('acme');
      const listed = await h.tenants.list();
      await h.tenants.setAggregation('acme', { like: { aggregate: false } });
      const replaced = await h.tenants.get('acme');
      await h.tenants.setAggregation('acme', undefined);
      const removed = await h.tenants.get('acme');
      // Assess
      expect(stored).toEqual({ tenantId: 'acme', createdAt: 1_000, aggregation: rules });
      expect(listed).toEqual([stored]);
      expect(replaced?.aggregation).toEqual({ like: { aggregate: false } });
      expect(removed).toEqual({ tenantId: 'acme', createdAt: 1_000 });
    });

    it('refuses bad aggregation rules and an unknown tenant, changing nothing', async () => {
      // Prepare
      await h.tenants.create('acme', keyHash('key-1'), 1_000);
      // Act / Assess
      await expect(
        h.tenants.setAggregation('acme', { like: { aggregate: 'yes' } } as never),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(
        h.tenants.setAggregation('acme', { like: { aggregate: true, windowMs: 5 } }),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(h.tenants.setAggregation('nobody', { like: { aggregate: true } })).rejects.toBeInstanceOf(
        NotFoundError,
      );
      expect(await h.tenants.get('acme')).toEqual({ tenantId: 'acme', createdAt: 1_000 });
      expect(await h.tenants.get('nobody')).toBeUndefined();
    });

    it('knows nothing of an unknown tenant or key', async () => {
      // Act / Assess
      expect(await h.tenants.get('nobody')).toBeUndefined();
      expect(await h.tenants.findByApiKeyHash(keyHash('no-such-key'))).toBeUndefined();
      expect(await h.tenants.list()).toEqual([]);
    });

    it('refuses to create a tenant twice, keeping the first', async () => {
      // Prepare
      await h.tenants.create('acme', keyHash('key-1'), 1_000);
      // Act
      const code = await codeOf(h.tenants.create('acme', keyHash('key-2'), 2_000));
      // Assess
      expect(code).toBe(ErrorCode.Conflict);
      expect(await h.tenants.get('acme')).toEqual({ tenantId: 'acme', createdAt: 1_000 });
      expect(await h.tenants.findByApiKeyHash(keyHash('key-2'))).toBeUndefined();
    });

    it('lists every tenant once', async () => {
      // Act
      await h.tenants.create('beta', keyHash('b'), 2_000);
      await h.tenants.create('acme', keyHash('a'), 1_000);
      // Assess
      expect((await h.tenants.list()).map((t) => t.tenantId).sort()).toEqual(['acme', 'beta']);
    });

    it('finds a tenant by any of its keys', async () => {
      // Prepare
      await h.tenants.create('acme', keyHash('key-1'), 1_000);
      // Act
      await h.tenants.addApiKey('acme', keyHash('key-2'), 2_000);
      await h.tenants.addApiKey('acme', keyHash('key-2'), 3_000);
      // Assess
      expect((await h.tenants.findByApiKeyHash(keyHash('key-1')))?.tenantId).toBe('acme');
      expect((await h.tenants.findByApiKeyHash(keyHash('key-2')))?.tenantId).toBe('acme');
    });

    it('never lets one key open two tenants', async () => {
      // Prepare
      await h.tenants.create('acme', keyHash('key-1'), 1_000);
      await h.tenants.create('beta', keyHash('key-2'), 1_000);
      // Act
      const onCreate = await codeOf(h.tenants.create('gamma', keyHash('key-1'), 2_000));
      const onAdd = await codeOf(h.tenants.addApiKey('beta', keyHash('key-1'), 2_000));
      // Assess
      expect([onCreate, onAdd]).toEqual([ErrorCode.Conflict, ErrorCode.Conflict]);
      expect(await h.tenants.get('gamma')).toBeUndefined();
      expect((await h.tenants.findByApiKeyHash(keyHash('key-1')))?.tenantId).toBe('acme');
    });

    it('refuses a key for a tenant that does not exist', async () => {
      // Act
      const code = await codeOf(h.tenants.addApiKey('nobody', keyHash('key-1'), 1_000));
      // Assess
      expect(code).toBe(ErrorCode.NotFound);
      expect(await h.tenants.findByApiKeyHash(keyHash('key-1'))).toBeUndefined();
    });

    it("lists a tenant's keys by id, oldest first, never the hash", async () => {
      // Prepare
      await h.tenants.create('acme', keyHash('key-1'), 1_000);
      await h.tenants.addApiKey('acme', keyHash('key-2'), 2_000);
      await h.tenants.create('beta', keyHash('key-3'), 1_500);
      // Act
      const keys = await h.tenants.listApiKeys('acme');
      // Assess
      expect(keys).toEqual([
        { keyId: keyHash('key-1').slice(0, 16), createdAt: 1_000 },
        { keyId: keyHash('key-2').slice(0, 16), createdAt: 2_000 },
      ]);
      await expect(h.tenants.listApiKeys('nobody')).rejects.toMatchObject({ code: ErrorCode.NotFound });
    });

    it('rotates: two keys live at once, then the revoked one opens nothing at once', async () => {
      // Prepare
      await h.tenants.create('acme', keyHash('old'), 1_000);
      await h.tenants.addApiKey('acme', keyHash('new'), 2_000);
      const bothLive = [
        await h.tenants.findByApiKeyHash(keyHash('old')),
        await h.tenants.findByApiKeyHash(keyHash('new')),
      ];
      // Act
      await h.tenants.revokeApiKey('acme', keyHash('old').slice(0, 16));
      // Assess
      expect(bothLive.map((t) => t?.tenantId)).toEqual(['acme', 'acme']);
      expect(await h.tenants.findByApiKeyHash(keyHash('old'))).toBeUndefined();
      expect((await h.tenants.findByApiKeyHash(keyHash('new')))?.tenantId).toBe('acme');
      expect((await h.tenants.listApiKeys('acme')).map((k) => k.keyId)).toEqual([
        keyHash('new').slice(0, 16),
      ]);
    });

    it("refuses to revoke a tenant's last key, another tenant's key, or an unknown one", async () => {
      // Prepare
      await h.tenants.create('acme', keyHash('a1'), 1_000);
      await h.tenants.create('beta', keyHash('b1'), 1_000);
      await h.tenants.addApiKey('beta', keyHash('b2'), 2_000);
      // Act
      const last = await codeOf(h.tenants.revokeApiKey('acme', keyHash('a1').slice(0, 16)));
      const others = await codeOf(h.tenants.revokeApiKey('acme', keyHash('b1').slice(0, 16)));
      const unknown = await codeOf(h.tenants.revokeApiKey('acme', '0123456789abcdef'));
      const malformed = await codeOf(h.tenants.revokeApiKey('acme', 'not-a-key-id'));
      // Assess
      expect([last, others, unknown, malformed]).toEqual([
        ErrorCode.Conflict,
        ErrorCode.NotFound,
        ErrorCode.NotFound,
        ErrorCode.Validation,
      ]);
      expect((await h.tenants.findByApiKeyHash(keyHash('a1')))?.tenantId).toBe('acme');
      expect((await h.tenants.findByApiKeyHash(keyHash('b1')))?.tenantId).toBe('beta');
    });

    it('rejects empty ids and hashes', async () => {
      // Act / Assess
      await expect(h.tenants.create('', keyHash('k'), 1)).rejects.toBeInstanceOf(ValidationError);
      await expect(h.tenants.create('acme', '', 1)).rejects.toBeInstanceOf(ValidationError);
      await expect(h.tenants.get('')).rejects.toBeInstanceOf(ValidationError);
      await expect(h.tenants.findByApiKeyHash('')).rejects.toBeInstanceOf(ValidationError);
      expect(await h.tenants.list()).toEqual([]);
    });
  });
}

import { describe, expect, it } from 'vitest';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedTenants } from '../../src/adapters/embedded/tenants.ts';
import { StoreUnavailableError, ValidationError } from '../../src/domain/errors.ts';
import { tenantsContract } from '../contracts/tenants.contract.ts';

tenantsContract('embedded', async () => {
  const db = new EmbeddedDb({ path: ':memory:' });
  return {
    tenants: new EmbeddedTenants({ db }),
    async close() {
      db.close();
    },
  };
});

describe('EmbeddedTenants', () => {
  it('rejects a creation time that is not a number', async () => {
    // Prepare
    const db = new EmbeddedDb({ path: ':memory:' });
    const tenants = new EmbeddedTenants({ db });
    // Act / Assess
    await expect(tenants.create('acme', 'hash', Number.NaN)).rejects.toBeInstanceOf(ValidationError);
    expect(await tenants.list()).toEqual([]);
    db.close();
  });

  it('turns a failing database into StoreUnavailableError', async () => {
    // Prepare
    const db = new EmbeddedDb({ path: ':memory:' });
    const tenants = new EmbeddedTenants({ db });
    db.close();
    // Act / Assess
    await expect(tenants.findByApiKeyHash('hash')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(tenants.create('acme', 'hash', 1)).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

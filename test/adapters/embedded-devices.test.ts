import { describe, expect, it } from 'vitest';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedDevices } from '../../src/adapters/embedded/devices.ts';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { devicesContract } from '../contracts/devices.contract.ts';

devicesContract('embedded', async () => {
  const db = new EmbeddedDb({ path: ':memory:' });
  return {
    devices: new EmbeddedDevices({ db }),
    async close() {
      db.close();
    },
  };
});

describe('EmbeddedDevices', () => {
  it('keeps the newest registration time when an older registration arrives late', async () => {
    // Prepare
    const db = new EmbeddedDb({ path: ':memory:' });
    const devices = new EmbeddedDevices({ db });
    await devices.register({
      tenantId: 't',
      userId: 'alice',
      token: 'tok',
      platform: 'apns',
      registeredAt: 5_000,
    });
    // Act
    await devices.register({
      tenantId: 't',
      userId: 'alice',
      token: 'tok',
      platform: 'apns',
      registeredAt: 1_000,
    });
    // Assess: an APNs 410 dated between the two must not remove the newer registration
    expect(await devices.deactivate('t', 'tok', 'Unregistered', { ifRegisteredBefore: 3_000 })).toBe(false);
    expect((await devices.listActive({ tenantId: 't', userId: 'alice' }))[0]!.registeredAt).toBe(5_000);
    db.close();
  });

  it('turns a failing database into StoreUnavailableError', async () => {
    // Prepare
    const db = new EmbeddedDb({ path: ':memory:' });
    const devices = new EmbeddedDevices({ db });
    db.close();
    // Act / Assess
    await expect(devices.listActive({ tenantId: 't', userId: 'alice' })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await expect(devices.deactivate('t', 'tok', 'BadDeviceToken')).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
  });
});

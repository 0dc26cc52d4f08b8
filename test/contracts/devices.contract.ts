import { createECDH } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.ts';
import type { Platform, UserKey } from '../../src/domain/types.ts';
import {
  MAX_ENDPOINT_LENGTH,
  parseWebPushSubscription,
  webPushToken,
} from '../../src/domain/web-push-subscription.ts';
import type { DeviceRegistration, Devices } from '../../src/ports/devices.ts';

/** What a suite run needs: fresh, empty devices per test. */
export interface DevicesHarness {
  readonly devices: Devices;
  close(): Promise<void>;
}

const T1 = 'tenant-1';
const T2 = 'tenant-2';

function user(tenantId: string, userId: string): UserKey {
  return { tenantId, userId };
}

function reg(
  tenantId: string,
  userId: string,
  token: string,
  registeredAt = 1_000,
  platform: Platform = 'apns',
): DeviceRegistration {
  return { tenantId, userId, token, platform, registeredAt };
}

/** The Devices port's contract: one owner per token, provider rejections honoured, tenants apart. */
export function devicesContract(name: string, make: () => Promise<DevicesHarness>): void {
  describe(`Devices contract: ${name}`, () => {
    let h: DevicesHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    const tokens = async (tenantId: string, userId: string): Promise<string[]> =>
      (await h.devices.listActive(user(tenantId, userId))).map((d) => d.token).sort();

    it('lists nothing for a user without devices', async () => {
      // Act / Assess
      expect(await h.devices.listActive(user(T1, 'alice'))).toEqual([]);
    });

    it('lists the devices registered for a user, as registered', async () => {
      // Act
      await h.devices.register(reg(T1, 'alice', 'token-a', 1_000, 'apns'));
      await h.devices.registerMany([reg(T1, 'alice', 'token-b', 2_000, 'fcm'), reg(T1, 'bob', 'token-c')]);
      // Assess
      const devices = (await h.devices.listActive(user(T1, 'alice'))).sort((a, b) =>
        a.token.localeCompare(b.token),
      );
      expect(devices).toEqual([
        {
          tenantId: T1,
          userId: 'alice',
          token: 'token-a',
          platform: 'apns',
          registeredAt: 1_000,
          active: true,
        },
        {
          tenantId: T1,
          userId: 'alice',
          token: 'token-b',
          platform: 'fcm',
          registeredAt: 2_000,
          active: true,
        },
      ]);
      expect(await tokens(T1, 'bob')).toEqual(['token-c']);
    });

    it('registers a token twice as one device', async () => {
      // Act
      await h.devices.register(reg(T1, 'alice', 'token-a', 1_000));
      await h.devices.register(reg(T1, 'alice', 'token-a', 2_000));
      // Assess
      const devices = await h.devices.listActive(user(T1, 'alice'));
      expect(devices).toHaveLength(1);
      expect(devices[0]!.registeredAt).toBe(2_000);
    });

    it('moves a token to the user who registers it last', async () => {
      // Prepare
      await h.devices.register(reg(T1, 'alice', 'shared-phone', 1_000));
      // Act
      await h.devices.register(reg(T1, 'bob', 'shared-phone', 2_000));
      // Assess
      expect(await tokens(T1, 'alice')).toEqual([]);
      expect(await tokens(T1, 'bob')).toEqual(['shared-phone']);
    });

    it('unregisters a token only for the user who holds it', async () => {
      // Prepare
      await h.devices.register(reg(T1, 'bob', 'token-b'));
      await h.devices.register(reg(T1, 'alice', 'token-a'));
      // Act
      await h.devices.unregister(user(T1, 'alice'), 'token-b');
      await h.devices.unregister(user(T1, 'alice'), 'token-a');
      await h.devices.unregister(user(T1, 'alice'), 'never-registered');
      // Assess
      expect(await tokens(T1, 'bob')).toEqual(['token-b']);
      expect(await tokens(T1, 'alice')).toEqual([]);
    });

    it('deactivates a rejected token, and says whether it did', async () => {
      // Prepare
      await h.devices.register(reg(T1, 'alice', 'token-a'));
      // Act
      const first = await h.devices.deactivate(T1, 'token-a', 'BadDeviceToken');
      const again = await h.devices.deactivate(T1, 'token-a', 'BadDeviceToken');
      const unknown = await h.devices.deactivate(T1, 'token-x', 'BadDeviceToken');
      // Assess
      expect([first, again, unknown]).toEqual([true, false, false]);
      expect(await tokens(T1, 'alice')).toEqual([]);
    });

    it('deactivates on APNs 410 only a registration older than the invalidation', async () => {
      // Prepare
      await h.devices.register(reg(T1, 'alice', 'old-token', 1_000));
      await h.devices.register(reg(T1, 'alice', 'new-token', 5_000));
      // Act
      const old = await h.devices.deactivate(T1, 'old-token', 'Unregistered', { ifRegisteredBefore: 3_000 });
      const renewed = await h.devices.deactivate(T1, 'new-token', 'Unregistered', {
        ifRegisteredBefore: 3_000,
      });
      const same = await h.devices.deactivate(T1, 'new-token', 'Unregistered', { ifRegisteredBefore: 5_000 });
      // Assess
      expect([old, renewed, same]).toEqual([true, false, false]);
      expect(await tokens(T1, 'alice')).toEqual(['new-token']);
    });

    it('re-activates a deactivated token when it is registered again', async () => {
      // Prepare
      await h.devices.register(reg(T1, 'alice', 'token-a', 1_000));
      await h.devices.deactivate(T1, 'token-a', 'Unregistered');
      // Act
      await h.devices.register(reg(T1, 'alice', 'token-a', 2_000));
      // Assess
      expect(await tokens(T1, 'alice')).toEqual(['token-a']);
    });

    it('keeps tenants apart: same user id, same token', async () => {
      // Prepare
      await h.devices.register(reg(T1, 'alice', 'token-a'));
      await h.devices.register(reg(T2, 'alice', 'token-a'));
      await h.devices.register(reg(T2, 'bob', 'token-b'));
      // Act
      const deactivated = await h.devices.deactivate(T2, 'token-a', 'BadDeviceToken');
      await h.devices.unregister(user(T1, 'bob'), 'token-b');
      // Assess
      expect(deactivated).toBe(true);
      expect(await tokens(T1, 'alice')).toEqual(['token-a']);
      expect(await tokens(T2, 'alice')).toEqual([]);
      expect(await tokens(T2, 'bob')).toEqual(['token-b']);
      expect(await h.devices.deactivate(T1, 'token-b', 'BadDeviceToken')).toBe(false);
    });

    it('rejects an unknown platform, a missing token and a bad time, applying none of the batch', async () => {
      // Act / Assess
      await expect(
        h.devices.registerMany([
          reg(T1, 'alice', 'token-a'),
          { ...reg(T1, 'alice', 'token-b'), platform: 'sms' as Platform },
        ]),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(h.devices.register(reg(T1, 'alice', ''))).rejects.toBeInstanceOf(ValidationError);
      await expect(h.devices.register(reg(T1, '', 'token-a'))).rejects.toBeInstanceOf(ValidationError);
      await expect(h.devices.register(reg(T1, 'alice', 'token-a', Number.NaN))).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(h.devices.listActive(user('', 'alice'))).rejects.toBeInstanceOf(ValidationError);
      await expect(h.devices.deactivate(T1, 'token-a', '')).rejects.toBeInstanceOf(ValidationError);
      expect(await tokens(T1, 'alice')).toEqual([]);
    });

    it('keeps a web push subscription of the longest endpoint as one device, and refuses one in another form', async () => {
      // Prepare
      const endpoint = `https://push.example.com/${'e'.repeat(MAX_ENDPOINT_LENGTH - 25)}`;
      const keys = {
        p256dh: createECDH('prime256v1').generateKeys().toString('base64url'),
        auth: 'A'.repeat(22),
      };
      const token = webPushToken(parseWebPushSubscription({ endpoint, keys }));
      // Act
      await h.devices.register(reg(T1, 'alice', token, 1_000, 'webpush'));
      await h.devices.register(reg(T1, 'alice', token, 2_000, 'webpush'));
      // Assess
      expect(await h.devices.listActive(user(T1, 'alice'))).toMatchObject([{ token, platform: 'webpush' }]);
      const reordered = JSON.stringify({ keys, endpoint });
      await expect(h.devices.register(reg(T1, 'alice', reordered, 3_000, 'webpush'))).rejects.toBeInstanceOf(
        ValidationError,
      );
      expect(await h.devices.deactivate(T1, token, 'gone')).toBe(true);
      expect(await tokens(T1, 'alice')).toEqual([]);
    });

    it('lists the active devices of many users in one call, one list per user in the order asked', async () => {
      // Prepare
      await h.devices.registerMany([
        reg(T1, 'alice', 'token-a2', 2_000),
        reg(T1, 'alice', 'token-a1', 1_000),
        reg(T1, 'bob', 'token-b'),
        reg(T2, 'alice', 'token-t2'),
        reg(T1, 'carol', 'token-c'),
      ]);
      await h.devices.deactivate(T1, 'token-c', 'Unregistered');
      // Act
      const lists = await h.devices.listActiveMany([
        user(T1, 'bob'),
        user(T1, 'alice'),
        user(T1, 'carol'),
        user(T1, 'nobody'),
        user(T2, 'alice'),
        user(T1, 'bob'),
      ]);
      // Assess
      expect(lists.map((devices) => devices.map((d) => d.token))).toEqual([
        ['token-b'],
        ['token-a1', 'token-a2'],
        [],
        [],
        ['token-t2'],
        ['token-b'],
      ]);
      expect(lists[1]).toEqual(await h.devices.listActive(user(T1, 'alice')));
      expect(await h.devices.listActiveMany([])).toEqual([]);
    });

    it('lists the same devices when a recent read is enough, once writes have settled', async () => {
      // Prepare
      await h.devices.registerMany([reg(T1, 'alice', 'token-a1'), reg(T1, 'bob', 'token-b')]);
      await h.devices.deactivate(T1, 'token-b', 'Unregistered');
      // Act
      const one = await h.devices.listActive(user(T1, 'alice'), { freshness: 'recent' });
      const many = await h.devices.listActiveMany([user(T1, 'alice'), user(T1, 'bob')], {
        freshness: 'recent',
      });
      // Assess
      expect(one).toEqual(await h.devices.listActive(user(T1, 'alice')));
      expect(many.map((devices) => devices.map((d) => d.token))).toEqual([['token-a1'], []]);
    });

    it('rejects a batch look-up naming a user without a tenant or id', async () => {
      // Act / Assess
      await expect(h.devices.listActiveMany([user(T1, 'alice'), user('', 'bob')])).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(
        h.devices.listActiveMany([null as unknown as ReturnType<typeof user>]),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(
        h.devices.listActiveMany('alice' as unknown as readonly ReturnType<typeof user>[]),
      ).rejects.toBeInstanceOf(ValidationError);
    });
  });
}

import type { StatementSync } from 'node:sqlite';
import type { Device, Platform, UserKey } from '../../domain/types.ts';
import type { DeviceRegistration, Devices } from '../../ports/devices.ts';
import { checkDeactivate, validateRegistration } from '../checks/devices.ts';
import { requireArray, requireText, requireUser } from '../checks/input.ts';
import type { EmbeddedDb } from './db.ts';
import { storeStep } from './store-step.ts';

export interface EmbeddedDevicesOptions {
  readonly db: EmbeddedDb;
}

interface StoredDevice {
  readonly tenant_id: string;
  readonly user_id: string;
  readonly token: string;
  readonly platform: Platform;
  readonly registered_at: number;
}

/**
 * Push tokens on SQLite, keyed (tenant, token): a token belongs to one user of one tenant at a
 * time, so registering it for another user moves it. An index on (tenant, user) serves the push
 * consumer's "active devices of this user" read. Every statement names the tenant.
 */
export class EmbeddedDevices implements Devices {
  readonly #db: EmbeddedDb;
  readonly #s: Record<
    'register' | 'unregister' | 'listActive' | 'listActiveMany' | 'deactivate' | 'deactivateIfOlder',
    StatementSync
  >;

  constructor(opts: EmbeddedDevicesOptions) {
    this.#db = opts.db;
    const sqlite = opts.db.sqlite;
    this.#s = storeStep('devices set-up', () => {
      sqlite.exec(`
        CREATE TABLE IF NOT EXISTS devices (
          tenant_id TEXT NOT NULL,
          token TEXT NOT NULL,
          user_id TEXT NOT NULL,
          platform TEXT NOT NULL,
          registered_at INTEGER NOT NULL,
          active INTEGER NOT NULL,
          deactivated_reason TEXT,
          PRIMARY KEY (tenant_id, token)
        ) WITHOUT ROWID;
        -- Covers listActive in key order, so the planner never prefers a scan of the tenant's
        -- tokens (it did without statistics, at 66% of a demo's CPU).
        -- It carries the platform too, so a device list never visits the table itself.
        DROP INDEX IF EXISTS devices_by_user;
        DROP INDEX IF EXISTS devices_active_by_user;
        CREATE INDEX IF NOT EXISTS devices_active_by_user_covering
          ON devices (tenant_id, user_id, active, registered_at, token, platform);
      `);
      // One index range per user, as listActive reads it. The planner cannot count json_each's
      // rows and chose a scan of the tenant's devices per user (23 ms a user at 50,000 devices):
      // CROSS JOIN keeps json_each outside and INDEXED BY names the range. `u.key` maps rows back.
      const listActiveMany = sqlite.prepare(
        `SELECT u.key, d.token, d.platform, d.registered_at
         FROM json_each(?) AS u
         CROSS JOIN devices AS d INDEXED BY devices_active_by_user_covering
           ON d.tenant_id = u.value ->> 0 AND d.user_id = u.value ->> 1 AND d.active = 1
         ORDER BY u.key, d.registered_at, d.token`,
      );
      // Arrays: node:sqlite builds them faster than objects, and a batch reads thousands of rows.
      listActiveMany.setReturnArrays(true);
      return {
        listActiveMany,
        // A late-arriving older registration must not make the row look older than it is, or an
        // APNs 410 that predates the newest registration would wrongly deactivate it.
        register: sqlite.prepare(
          `INSERT INTO devices (tenant_id, token, user_id, platform, registered_at, active, deactivated_reason)
           VALUES (?, ?, ?, ?, ?, 1, NULL)
           ON CONFLICT (tenant_id, token) DO UPDATE SET
             user_id = excluded.user_id,
             platform = excluded.platform,
             registered_at = max(registered_at, excluded.registered_at),
             active = 1,
             deactivated_reason = NULL`,
        ),
        unregister: sqlite.prepare('DELETE FROM devices WHERE tenant_id = ? AND token = ? AND user_id = ?'),
        listActive: sqlite.prepare(
          `SELECT tenant_id, user_id, token, platform, registered_at FROM devices
           WHERE tenant_id = ? AND user_id = ? AND active = 1 ORDER BY registered_at, token`,
        ),
        // One index range per user, as listActive reads it. The planner cannot count json_each's
        // rows and chose a scan of the tenant's devices per user (23 ms a user at 50,000 devices):
        // CROSS JOIN keeps json_each outside and INDEXED BY names the range. `u.key` maps rows back.
        deactivate: sqlite.prepare(
          `UPDATE devices SET active = 0, deactivated_reason = ?
           WHERE tenant_id = ? AND token = ? AND active = 1`,
        ),
        deactivateIfOlder: sqlite.prepare(
          `UPDATE devices SET active = 0, deactivated_reason = ?
           WHERE tenant_id = ? AND token = ? AND active = 1 AND registered_at < ?`,
        ),
      };
    });
  }

  async register(reg: DeviceRegistration): Promise<void> {
    await this.registerMany([reg]);
  }

  async registerMany(regs: readonly DeviceRegistration[]): Promise<void> {
    requireArray(regs, 'regs');
    regs.forEach(validateRegistration);
    if (regs.length === 0) return;
    const register = this.#s.register;
    storeStep('devices register', () =>
      this.#db.transaction(() => {
        for (const r of regs) register.run(r.tenantId, r.token, r.userId, r.platform, r.registeredAt);
      }),
    );
  }

  /** Removes the token only while it belongs to this user: it may have moved to someone else. */
  async unregister(user: UserKey, token: string): Promise<void> {
    requireUser(user);
    requireText(token, 'token');
    storeStep('devices unregister', () => this.#s.unregister.run(user.tenantId, token, user.userId));
  }

  async listActive(user: UserKey): Promise<Device[]> {
    requireUser(user);
    const rows = storeStep('devices list', () =>
      this.#s.listActive.all(user.tenantId, user.userId),
    ) as unknown as StoredDevice[];
    return rows.map((row) => ({
      tenantId: row.tenant_id,
      userId: row.user_id,
      token: row.token,
      platform: row.platform,
      registeredAt: row.registered_at,
      active: true,
    }));
  }

  async listActiveMany(users: readonly UserKey[]): Promise<Device[][]> {
    requireArray(users, 'users');
    users.forEach((user, i) => {
      requireUser(user, `users[${i}]`);
    });
    const lists: Device[][] = users.map(() => []);
    if (users.length === 0) return lists;
    const json = JSON.stringify(users.map((u) => [u.tenantId, u.userId]));
    const rows = storeStep('devices list many', () => this.#s.listActiveMany.all(json)) as unknown as [
      number,
      string,
      Platform,
      number,
    ][];
    for (const [i, token, platform, registeredAt] of rows) {
      const user = users[i]!;
      lists[i]!.push({
        tenantId: user.tenantId,
        userId: user.userId,
        token,
        platform,
        registeredAt,
        active: true,
      });
    }
    return lists;
  }

  /** True when this call deactivated the token; false when unknown, inactive, or registered since. */
  async deactivate(
    tenantId: string,
    token: string,
    reason: string,
    opts: { readonly ifRegisteredBefore?: number } = {},
  ): Promise<boolean> {
    const before = checkDeactivate(tenantId, token, reason, opts);
    const result = storeStep('devices deactivate', () =>
      before === undefined
        ? this.#s.deactivate.run(reason, tenantId, token)
        : this.#s.deactivateIfOlder.run(reason, tenantId, token, before),
    );
    return Number(result.changes) > 0;
  }
}

import type { Device, Platform, UserKey } from '../domain/types.ts';
import type { FreshnessOptions } from './read-freshness.ts';

export interface DeviceRegistration {
  readonly tenantId: string;
  readonly userId: string;
  readonly token: string;
  readonly platform: Platform;
  readonly registeredAt: number;
}

/** Push tokens per user. A token belongs to one user of one tenant at a time. */
export interface Devices {
  /** Upsert: re-registering re-activates the token and moves it to this user. */
  register(reg: DeviceRegistration): Promise<void>;
  registerMany(regs: readonly DeviceRegistration[]): Promise<void>;
  unregister(user: UserKey, token: string): Promise<void>;
  /** Active devices only. */
  listActive(user: UserKey, opts?: FreshnessOptions): Promise<Device[]>;
  /**
   * `listActive` of many users in one read: one list per user, in the order given (a user named
   * twice gets the same list twice). A delivery batch asks once instead of once per job.
   */
  listActiveMany(users: readonly UserKey[], opts?: FreshnessOptions): Promise<Device[][]>;
  /**
   * Marks a token inactive after a provider rejected it. With `ifRegisteredBefore`, only when the
   * registration is older (APNs 410 semantics: a newer registration wins).
   */
  deactivate(
    tenantId: string,
    token: string,
    reason: string,
    opts?: { readonly ifRegisteredBefore?: number },
  ): Promise<boolean>;
}

import { ValidationError } from '../../domain/errors.ts';
import { Platform } from '../../domain/types.ts';
import { parseWebPushToken } from '../../domain/web-push-subscription.ts';
import type { DeviceRegistration } from '../../ports/devices.ts';
import { requireText } from './input.ts';

/**
 * Argument checks of the Devices port, shared by its embedded and AWS adapters so both refuse a
 * bad registration or deactivation with the same path and message.
 */

const PLATFORMS: ReadonlySet<string> = new Set(Object.values(Platform));
const PLATFORM_MESSAGE = `must be one of ${[...PLATFORMS].map((p) => `'${p}'`).join(', ')}`;

/** Throws a ValidationError naming the first bad field of registration `i`. */
export function validateRegistration(reg: DeviceRegistration, i: number): void {
  const path = `regs[${i}]`;
  if (typeof reg !== 'object' || reg === null) {
    throw new ValidationError([{ path, message: 'must be an object' }]);
  }
  requireText(reg.tenantId, `${path}.tenantId`);
  requireText(reg.userId, `${path}.userId`);
  requireText(reg.token, `${path}.token`);
  if (!PLATFORMS.has(reg.platform)) {
    throw new ValidationError([{ path: `${path}.platform`, message: PLATFORM_MESSAGE }]);
  }
  // A web push token is the subscription in canonical form: anything else could never be pushed,
  // and a second spelling of one subscription would become a second device.
  if (reg.platform === Platform.WebPush && parseWebPushToken(reg.token) === undefined) {
    throw new ValidationError([
      { path: `${path}.token`, message: 'must be a web push subscription in canonical form' },
    ]);
  }
  if (typeof reg.registeredAt !== 'number' || !Number.isFinite(reg.registeredAt)) {
    throw new ValidationError([{ path: `${path}.registeredAt`, message: 'must be a finite number' }]);
  }
}

/** Checks the arguments of `deactivate`; returns its `ifRegisteredBefore` bound, if any. */
export function checkDeactivate(
  tenantId: string,
  token: string,
  reason: string,
  opts: { readonly ifRegisteredBefore?: number },
): number | undefined {
  requireText(tenantId, 'tenantId');
  requireText(token, 'token');
  requireText(reason, 'reason');
  const before = opts?.ifRegisteredBefore;
  if (before !== undefined && (typeof before !== 'number' || !Number.isFinite(before))) {
    throw new ValidationError([{ path: 'ifRegisteredBefore', message: 'must be a finite number' }]);
  }
  return before;
}

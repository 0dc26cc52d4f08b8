import { createHash } from 'node:crypto';
import { ValidationError } from '../../domain/errors.ts';
import { Platform } from '../../domain/types.ts';
import type { DeviceRegistration } from '../../ports/devices.ts';
import { requireText } from '../embedded/sql-support.ts';
import { awsErrorName, isRetryableAwsError } from './errors.ts';

/** DynamoDevices' keys, validation and retry decisions: no I/O here. */

const PLATFORMS: ReadonlySet<string> = new Set(Object.values(Platform));
/** Cancellation reasons after which a registration, re-planned from a fresh read, may pass. */
const TRANSIENT_REASONS = new Set([
  'None',
  'ConditionalCheckFailed',
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

/** Code-unit order, as the embedded adapter's SQLite orders ASCII tokens. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The owner item's partition: the token hashed, so its length and characters never matter. */
export function ownerPk(tenantId: string, token: string): string {
  return `${tenantId}#tok#${createHash('sha256').update(token).digest('hex')}`;
}

/** The reason code of each item of a cancelled transaction; [] for any other error. */
export function cancellationCodes(err: unknown): string[] {
  if (awsErrorName(err) !== 'TransactionCanceledException') return [];
  const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.map((r) => r.Code ?? 'None');
}

/** A cancellation or failure after which the same write, re-planned from a fresh read, may pass. */
export function isTransient(err: unknown): boolean {
  const name = awsErrorName(err);
  if (name === 'TransactionConflictException' || name === 'TransactionInProgressException') return true;
  if (name === 'TransactionCanceledException') {
    return cancellationCodes(err).every((code) => TRANSIENT_REASONS.has(code));
  }
  return isRetryableAwsError(err);
}

/** Runs `fn` over `items`, at most `limit` at a time; waits for all, then throws the first failure. */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length && errors.length === 0) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
}

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
    throw new ValidationError([{ path: `${path}.platform`, message: "must be 'apns' or 'fcm'" }]);
  }
  if (typeof reg.registeredAt !== 'number' || !Number.isFinite(reg.registeredAt)) {
    throw new ValidationError([{ path: `${path}.registeredAt`, message: 'must be a finite number' }]);
  }
}

import { createHash } from 'node:crypto';
import { awsErrorName, isRetryableAwsError } from './errors.ts';
import { isTransientCancellation } from './transaction-errors.ts';

/** DynamoDevices' keys and retry decisions: no I/O here. */

/** Code-unit order, as the embedded adapter's SQLite orders ASCII tokens. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The owner item's partition: the token hashed, so its length and characters never matter. */
export function ownerPk(tenantId: string, token: string): string {
  return `${tenantId}#tok#${createHash('sha256').update(token).digest('hex')}`;
}

/** A cancellation or failure after which the same write, re-planned from a fresh read, may pass. */
export function isTransient(err: unknown): boolean {
  if (awsErrorName(err) === 'TransactionCanceledException') return isTransientCancellation(err);
  return isTransientCancellation(err) || isRetryableAwsError(err);
}

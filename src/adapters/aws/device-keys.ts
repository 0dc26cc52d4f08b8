import { createHash } from 'node:crypto';

/** DynamoDevices' keys and their order: no I/O here. */

/** Code-unit order, as the embedded adapter's SQLite orders ASCII tokens. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The owner item's partition: the token hashed, so its length and characters never matter. */
export function ownerPk(tenantId: string, token: string): string {
  return `${tenantId}#tok#${createHash('sha256').update(token).digest('hex')}`;
}

import type { NotificationId } from './types.ts';

/** Inbox rows and pointers live 90 days. */
export const INBOX_TTL_MS = 90 * 24 * 60 * 60 * 1000;

/** Epoch seconds at which a row created at `createdAt` expires (DynamoDB TTL attribute unit). */
export function expiresAtSeconds(createdAt: number, ttlMs: number = INBOX_TTL_MS): number {
  throw new Error(`not implemented ${createdAt} ${ttlMs}`);
}

/** True while the row is younger than the TTL at `now`. */
export function isLive(createdAt: number, now: number, ttlMs: number = INBOX_TTL_MS): boolean {
  throw new Error(`not implemented ${createdAt} ${now} ${ttlMs}`);
}

/** Reads pass this as `afterId`: ids at or below it are expired at `now`, stored or not. */
export function liveLowerBound(now: number, ttlMs: number = INBOX_TTL_MS): NotificationId {
  throw new Error(`not implemented ${now} ${ttlMs}`);
}

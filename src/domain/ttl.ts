import { maxUlidAt } from './ids.ts';
import type { NotificationId } from './types.ts';

/** Inbox rows and pointers live 90 days. */
export const INBOX_TTL_MS = 90 * 24 * 60 * 60 * 1000;

/**
 * Epoch seconds at which a row created at `createdAt` expires (DynamoDB TTL attribute unit).
 * Rounded up, so a store never deletes a row that reads still consider live.
 */
export function expiresAtSeconds(createdAt: number, ttlMs: number = INBOX_TTL_MS): number {
  return Math.ceil((createdAt + ttlMs) / 1000);
}

/** True while the row is younger than the TTL at `now`. */
export function isLive(createdAt: number, now: number, ttlMs: number = INBOX_TTL_MS): boolean {
  return now - createdAt < ttlMs;
}

/** Reads pass this as `afterId`: ids at or below it are expired at `now`, stored or not. */
export function liveLowerBound(now: number, ttlMs: number = INBOX_TTL_MS): NotificationId {
  // A row created at `now - ttlMs` or earlier is expired (see isLive): every id of that ms is at
  // or below the largest ULID of that ms, and every later id is above it.
  return maxUlidAt(Math.max(0, now - ttlMs));
}

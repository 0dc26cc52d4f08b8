import type { NotificationId } from './types.ts';

/**
 * ULIDs: 48-bit ms time + 80 random bits, Crockford base32, 26 chars. Sorting the strings sorts
 * by time, which gives newest-first pages and one cursor across merged sources.
 */

/** The ULID of notification (event, recipient): time = event time, random = hash(event id, recipient). */
export function notificationId(eventId: string, recipientId: string, timeMs: number): NotificationId {
  throw new Error(`not implemented ${eventId} ${recipientId} ${timeMs}`);
}

/** Marker recipient for a celebrity pointer's id (one id per celebrity event). */
export const POINTER_RECIPIENT = '*';

/** Epoch ms encoded in a ULID. Throws ValidationError when `id` is not a ULID. */
export function ulidTime(id: string): number {
  throw new Error(`not implemented ${id}`);
}

/** True for a syntactically valid ULID (26 Crockford base32 chars, time within 48 bits). */
export function isUlid(id: string): boolean {
  throw new Error(`not implemented ${id}`);
}

/** The smallest ULID with this time: every id at or after `timeMs` compares greater or equal. */
export function minUlidAt(timeMs: number): NotificationId {
  throw new Error(`not implemented ${timeMs}`);
}

/** The largest ULID with this time. */
export function maxUlidAt(timeMs: number): NotificationId {
  throw new Error(`not implemented ${timeMs}`);
}

/**
 * A fast monotonic ULID generator (ids strictly increase even within one ms). Random bits are
 * drawn in bulk from a crypto source, not per character.
 */
export function createUlidGenerator(now?: () => number): () => string {
  throw new Error(`not implemented ${now}`);
}

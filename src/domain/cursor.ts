import type { NotificationId, UserKey } from './types.ts';

/**
 * Opaque inbox cursors. A cursor names the last id of a page and is bound to one user of one
 * tenant by an HMAC, so a tampered cursor, or one from another user or tenant, is rejected with
 * InvalidCursorError.
 */
export interface CursorCodec {
  encode(user: UserKey, lastId: NotificationId): string;
  /** The last id the cursor names. Throws InvalidCursorError. */
  decode(user: UserKey, cursor: string): NotificationId;
}

export function createCursorCodec(secret: string | Uint8Array): CursorCodec {
  throw new Error(`not implemented ${secret}`);
}

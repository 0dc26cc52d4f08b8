import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import { InvalidCursorError, ValidationError } from './errors.ts';
import { isUlid } from './ids.ts';
import type { NotificationId, UserKey } from './types.ts';

/**
 * Opaque inbox cursors. A cursor names the last id of a page and is bound to one user of one
 * tenant by an HMAC, so a tampered cursor, or one from another user or tenant, is rejected with
 * InvalidCursorError. A `scope` (an inbox tab other than All) is bound in too: a cursor is only
 * valid with the scope it was issued for. No scope keeps the tag of cursors issued before scopes.
 */
export interface CursorCodec {
  encode(user: UserKey, lastId: NotificationId, scope?: string): string;
  /** The last id the cursor names. Throws InvalidCursorError. */
  decode(user: UserKey, cursor: string, scope?: string): NotificationId;
}

/** Shortest accepted HMAC key: below 128 bits a key is guessable offline from one cursor. */
export const MIN_CURSOR_SECRET_BYTES = 16;

// Layout: version (1 byte) ‖ ULID as ASCII (26) ‖ HMAC-SHA256 truncated to 18 bytes (144 bits).
// 45 bytes is a multiple of 3, so the base64url text is exactly 60 characters with no padding
// bits: every character carries data, and any single-character change alters the bytes.
const VERSION = 1;
const ID_START = 1;
const ID_END = ID_START + 26;
const TAG_BYTES = 18;
const CURSOR_BYTES = ID_END + TAG_BYTES;
/** Exactly 60 base64url characters: the length check also refuses over-long input before decoding. */
const CURSOR_PATTERN = /^[A-Za-z0-9_-]{60}$/;

/**
 * A codec keyed by `secret` (at least 16 bytes). The same secret must be used by every process
 * that serves the same inbox, or cursors issued by one are refused by another.
 */
export function createCursorCodec(secret: string | Uint8Array): CursorCodec {
  // A KeyObject made once: a raw key would be converted again on every HMAC.
  const key = createSecretKey(secretBytes(secret));

  function tag(user: UserKey, id: string, scope: string | undefined): Buffer {
    // JSON of the tuple is an unambiguous encoding: ("a|b", "c") and ("a", "b|c") differ.
    const fields = ['fanout.cursor', VERSION, user.tenantId, user.userId, id];
    if (scope !== undefined) fields.push(scope);
    return createHmac('sha256', key).update(JSON.stringify(fields)).digest().subarray(0, TAG_BYTES);
  }

  return {
    encode(user, lastId, scope) {
      if (!isUlid(lastId)) throw new ValidationError([{ path: 'lastId', message: 'must be a ULID' }]);
      const bytes = Buffer.alloc(CURSOR_BYTES);
      bytes[0] = VERSION;
      bytes.write(lastId, ID_START, 'latin1');
      tag(user, lastId, scope).copy(bytes, ID_END);
      return bytes.toString('base64url');
    },

    decode(user, cursor, scope) {
      if (typeof cursor !== 'string' || !CURSOR_PATTERN.test(cursor)) throw new InvalidCursorError();
      const bytes = Buffer.from(cursor, 'base64url');
      if (bytes.length !== CURSOR_BYTES || bytes[0] !== VERSION) throw new InvalidCursorError();
      const id = bytes.toString('latin1', ID_START, ID_END);
      if (!isUlid(id)) throw new InvalidCursorError();
      let expected: Buffer;
      try {
        expected = tag(user, id, scope);
      } catch (err) {
        // A malformed user key cannot own any cursor; callers only ever expect InvalidCursorError.
        throw new InvalidCursorError(undefined, { cause: err });
      }
      if (!timingSafeEqual(expected, bytes.subarray(ID_END))) throw new InvalidCursorError();
      return id;
    },
  };
}

function secretBytes(secret: string | Uint8Array): Buffer {
  let bytes: Buffer | undefined;
  if (typeof secret === 'string') bytes = Buffer.from(secret, 'utf8');
  else if (secret instanceof Uint8Array) bytes = Buffer.from(secret);
  if (bytes === undefined || bytes.length < MIN_CURSOR_SECRET_BYTES) {
    throw new ValidationError([
      { path: 'secret', message: `must be at least ${MIN_CURSOR_SECRET_BYTES} bytes` },
    ]);
  }
  return bytes;
}

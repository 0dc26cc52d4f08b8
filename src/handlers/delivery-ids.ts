import { hash } from 'node:crypto';
import { ulidBytes } from '../domain/ids.ts';
import type { NotificationId } from '../domain/types.ts';

/** Provider-facing ids of one delivery, the same on every attempt. */
export interface DeliveryIds {
  /** 32 hex chars: APNs `apns-collapse-id` / FCM collapse key (both allow 64 bytes). */
  readonly collapseId: string;
  /** A UUID (APNs requires `apns-id` to be one); FCM message id; email Message-ID local part. */
  readonly messageId: string;
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** char code → 4-bit value, -1 for anything but lower-case hex (what `targetDigest` writes). */
const HEX_DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX_DECODE['0123456789abcdef'.charCodeAt(i)] = i;

/**
 * Ids derived from (notification, target digest) alone, so an ambiguous retry re-uses exactly the
 * ids of the attempt it repeats, and the device or provider collapses the two.
 *
 * The 16 bytes are the notification's ULID (48-bit time, then its 80 hash bits) with the target
 * digest's 64 bits XORed into bytes 7 and 9–15, the bytes the UUID version and variant leave
 * alone: distinct targets of one notification always get distinct ids, and distinct notifications
 * differ in their time or hash bits. Like a UUIDv7, ids sort by the notification's time, so the
 * sends of one batch land on neighbouring pages of any store keyed by them (a hash per delivery
 * scattered them, one page write each), and no hash is computed per delivery. Inputs that are not
 * a ULID and a 16-hex-char digest fall back to a sha256 of both (tests use arbitrary strings).
 * NEVER change this function: retries and stored sends depend on the ids it gave.
 */
export function deliveryIds(notificationId: NotificationId, targetDigest: string): DeliveryIds {
  const bytes =
    ulidDigestBytes(notificationId, targetDigest) ??
    hash('sha256', `${notificationId}\n${targetDigest}`, 'buffer').subarray(0, 16);
  let collapseId = '';
  for (let i = 0; i < 16; i++) collapseId += HEX[bytes[i]!]!;
  // RFC 9562 version 8 (custom) with the RFC variant: a valid UUID whose bits are ours.
  const b6 = HEX[(bytes[6]! & 0x0f) | 0x80]!;
  const b8 = HEX[(bytes[8]! & 0x3f) | 0x80]!;
  const messageId =
    `${collapseId.slice(0, 8)}-${collapseId.slice(8, 12)}-${b6}${collapseId.slice(14, 16)}-` +
    `${b8}${collapseId.slice(18, 20)}-${collapseId.slice(20)}`;
  return { collapseId, messageId };
}

/** The ULID's 128 bits mixed with the digest's 64, or undefined when either is not well-formed. */
function ulidDigestBytes(notificationId: string, digest: string): Uint8Array | undefined {
  if (digest.length !== 16) return undefined;
  const bytes = ulidBytes(notificationId);
  if (bytes === undefined) return undefined;
  for (let i = 0; i < 8; i++) {
    const hi = digest.charCodeAt(2 * i);
    const lo = digest.charCodeAt(2 * i + 1);
    const h = hi < 128 ? HEX_DECODE[hi]! : -1;
    const l = lo < 128 ? HEX_DECODE[lo]! : -1;
    if (h < 0 || l < 0) return undefined;
    // Digest byte 0 → byte 7, bytes 1–7 → bytes 9–15: never under the version or variant bits.
    const at = i === 0 ? 7 : 8 + i;
    bytes[at] = bytes[at]! ^ ((h << 4) | l);
  }
  return bytes;
}

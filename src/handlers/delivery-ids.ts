import { createHash } from 'node:crypto';
import type { NotificationId } from '../domain/types.ts';

/** Provider-facing ids of one delivery, the same on every attempt. */
export interface DeliveryIds {
  /** 32 hex chars: APNs `apns-collapse-id` / FCM collapse key (both allow 64 bytes). */
  readonly collapseId: string;
  /** A UUID (APNs requires `apns-id` to be one); FCM message id; email Message-ID local part. */
  readonly messageId: string;
}

/**
 * Ids derived from (notification, target digest) alone, so an ambiguous retry re-uses exactly the
 * ids of the attempt it repeats, and the device or provider collapses the two.
 */
export function deliveryIds(notificationId: NotificationId, targetDigest: string): DeliveryIds {
  const bytes = createHash('sha256').update(`${notificationId}\n${targetDigest}`).digest().subarray(0, 16);
  const collapseId = bytes.toString('hex');
  // RFC 9562 version 8 (custom) with the RFC variant: a valid UUID whose bits are ours.
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  const messageId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return { collapseId, messageId };
}

import { hash } from 'node:crypto';
import type { Channel, NotificationId, UserKey } from './types.ts';

/** `tenant#user`: the partition key of everything per user. */
export function userPartition(user: UserKey): string {
  return `${user.tenantId}#${user.userId}`;
}

/** `tenant#author`: the event log's partition key, so an author's events stay in order. */
export function authorPartition(tenantId: string, authorId: string): string {
  return `${tenantId}#${authorId}`;
}

/**
 * Short, stable, non-reversible digest of a device token or address for keys and audit: the first
 * 16 hex chars (64 bits) of its sha256.
 */
export function targetDigest(target: string): string {
  return hash('sha256', target, 'hex').slice(0, 16);
}

/**
 * Dedup key marking one dead-lettered queue message as audited: (tenant, channel, message id).
 * SQS keeps a message's id when it moves it to the dead-letter queue, so the consumer that audited
 * the last failed receive and the dead-letter audit name the same message; a redriven copy is a new
 * message with a new id, audited again if it dead-letters again.
 */
export function deadLetterKey(tenantId: string, channel: Channel, messageId: string): string {
  return `${tenantId}#dead-letter#${channel}#${messageId}`;
}

/** Dedup key of one delivery: (tenant, notification, channel, target digest). */
export function deliveryKey(
  tenantId: string,
  notificationId: NotificationId,
  channel: Channel,
  targetDigestValue: string,
): string {
  return `${tenantId}#${notificationId}#${channel}#${targetDigestValue}`;
}

/**
 * Dedup key of one push withdrawal: (tenant, notification, target digest), beside the original's
 * `deliveryKey` (same tenant and notification first, so the Redis store keeps both in one slot),
 * so a re-delivered withdrawal job sends nothing twice.
 */
export function withdrawalKey(
  tenantId: string,
  notificationId: NotificationId,
  targetDigestValue: string,
): string {
  return `${tenantId}#${notificationId}#push-withdraw#${targetDigestValue}`;
}

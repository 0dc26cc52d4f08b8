import type { Channel, NotificationId, Outcome, TenantId, UserId } from './types.ts';

/**
 * One delivery decision. Exactly one entry per decision: sent, suppressed and why, deferred,
 * duplicate, failed, dead-lettered. Holds no token, address or payload: only ids and a short
 * hash of the target, so the audit trail carries no personal data beyond pseudonymous ids.
 */
export interface AuditEntry {
  /** Epoch ms of the decision. */
  readonly at: number;
  readonly tenantId: TenantId;
  readonly userId: UserId;
  readonly channel: Channel;
  readonly notificationId: NotificationId;
  readonly eventId: string;
  readonly outcome: Outcome;
  /** Short machine reason, e.g. 'no_consent', 'quiet_hours', 'BadDeviceToken'. */
  readonly reason?: string;
  /** Hash of the device token / address the decision was about (never the raw value). */
  readonly target?: string;
  /** The send may have reached the provider before (ambiguous retry re-using collapse ids). */
  readonly ambiguous?: boolean;
  /** How many times the queue had delivered the job when this decision was made. */
  readonly attempt?: number;
  /** An email digest's decision: how many inbox items the digest listed (0 when none was unread). */
  readonly items?: number;
}

/** An entry sealed into the hash chain. */
export interface AuditRecord extends AuditEntry {
  /** 1-based position in the whole chain, across files. */
  readonly seq: number;
  /** Hash of the previous record (GENESIS_HASH for the first). */
  readonly prev: string;
  /** sha256 hex over `prev` and the canonical form of this record without `hash`. */
  readonly hash: string;
}

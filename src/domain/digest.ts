import type { AggregationPolicy } from './grouping.ts';
import type { UserKey } from './types.ts';

/**
 * Push digests: the pushes of one aggregated group of one recipient, at most one per digest
 * window. The first activity of a window pushes at once; later activity in the same window is
 * folded into ONE delayed "flush" push at the window's end, which renders the group as it is then
 * ("Ana, Bo and 212 others liked your post"). Pure rules; the push consumer claims the slots in
 * the dedup store (src/handlers/push-digest.ts).
 */

/** The digest window when a tenant's rule sets none: 5 minutes. */
export const DEFAULT_DIGEST_WINDOW_MS = 5 * 60 * 1000;
/** Shortest digest window a tenant may set: a minute. */
export const MIN_DIGEST_WINDOW_MS = 60 * 1000;
/**
 * Longest digest window: 15 minutes, the longest delay SQS gives a message (900 s), so the flush
 * of a window is one delayed message, never a chain of them.
 */
export const MAX_DIGEST_WINDOW_MS = 15 * 60 * 1000;

/** The digest window of an event type under a tenant's policy (only aggregated types have one). */
export function digestWindowOf(type: string, policy: AggregationPolicy): number {
  const rule = Object.hasOwn(policy, type) ? policy[type] : undefined;
  return rule?.digestWindowMs ?? DEFAULT_DIGEST_WINDOW_MS;
}

/** The index of the window `at` falls in: windows are aligned to the epoch. */
export function digestWindow(at: number, windowMs: number): number {
  return Math.floor(at / windowMs);
}

/** Epoch ms at which window `window` ends (and the next begins). */
export function digestWindowEnd(window: number, windowMs: number): number {
  return (window + 1) * windowMs;
}

function groupPart(user: UserKey, groupKey: string): string {
  return `${user.tenantId}#${user.userId}#${groupKey}`;
}

/**
 * Dedup key of a group's push slot in one window: whoever claims it pushes in that window; every
 * later activity of the window is folded into the flush.
 */
export function digestSlotKey(user: UserKey, groupKey: string, window: number): string {
  return `${groupPart(user, groupKey)}#digest-slot#${window}`;
}

/** Dedup key of a window's flush: whoever claims it enqueues the one delayed flush job. */
export function digestFlushKey(user: UserKey, groupKey: string, window: number): string {
  return `${groupPart(user, groupKey)}#digest-flush#${window}`;
}

/**
 * Dedup key of one state of a group as a push showed it: its item id (the newest activity) and its
 * count of distinct actors. A push finding its state already shown has nothing new to say.
 */
export function digestShownKey(user: UserKey, groupKey: string, itemId: string, actorCount: number): string {
  return `${groupPart(user, groupKey)}#digest-shown#${itemId}#${actorCount}`;
}

/**
 * What every push of a group derives its collapse id (APNs collapse id, FCM collapse key, Web
 * Push Topic) from instead of the notification id, so the device shows one notification for the
 * group, replaced by each newer push.
 */
export function digestCollapseSubject(user: UserKey, groupKey: string): string {
  return `digest\u001f${user.tenantId}\u001f${user.userId}\u001f${groupKey}`;
}

/** Audit reasons of a grouped push that was not sent (outcome `digested`). */
export const DigestReason = {
  /** Later activity in a window that already pushed: folded into the window's flush. */
  Window: 'digest_window',
  /** The group is as a push already showed it (a repeated like, a re-sent event): nothing new. */
  Unchanged: 'digest_unchanged',
  /** The group is gone (every actor retracted, or expired): nothing to show. */
  Empty: 'digest_empty',
  /** A flush whose next window already has its push: that push showed the group. */
  Covered: 'digest_covered',
} as const;
export type DigestReason = (typeof DigestReason)[keyof typeof DigestReason];

import { awsErrorName, isRetryableAwsError } from './errors.ts';

/**
 * How to read a failed TransactWriteItems call. The devices registry and the follower graph both
 * plan a transaction from a read and, when it fails, decide whether planning it again from a fresh
 * read may let it pass; they must decide alike, so the rule lives here once (`isReplannable`).
 */

/** Cancellation reasons after which the same transaction, re-planned from a fresh read, may pass. */
const REPLANNABLE_REASONS: ReadonlySet<string> = new Set([
  'None',
  'ConditionalCheckFailed',
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

/** The reason code of each item of a cancelled transaction; [] for any other error. */
export function cancellationCodes(err: unknown): string[] {
  if (awsErrorName(err) !== 'TransactionCanceledException') return [];
  const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.map((r) => r.Code ?? 'None');
}

/**
 * True when the transaction, re-planned from a fresh read and sent again, may succeed: it met
 * another transaction, or every item was cancelled for a reason a fresh plan may avoid. False for
 * any other error, which callers judge on their own.
 */
export function isTransientCancellation(err: unknown): boolean {
  const name = awsErrorName(err);
  if (name === 'TransactionConflictException' || name === 'TransactionInProgressException') return true;
  if (name !== 'TransactionCanceledException') return false;
  return cancellationCodes(err).every((code) => REPLANNABLE_REASONS.has(code));
}

/**
 * True when the same write, re-planned from a fresh read, may pass: a cancellation for reasons a
 * fresh plan may avoid, or throttling, a 5xx or a network error. A cancelled transaction is judged
 * by its reasons alone.
 */
export function isReplannable(err: unknown): boolean {
  if (awsErrorName(err) === 'TransactionCanceledException') return isTransientCancellation(err);
  return isTransientCancellation(err) || isRetryableAwsError(err);
}

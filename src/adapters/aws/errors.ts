import { ConflictError, FanoutError, StoreUnavailableError, ValidationError } from '../../domain/errors.ts';

/**
 * AWS SDK errors become our own classes here, at the adapter edge, so handlers decide on a stable
 * `code` and never on a vendor's message. The SDK error stays as `cause`.
 */

/** SDK error names that mean "slow down and try again": throttling and capacity. */
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'LimitExceededException',
  'KMSThrottlingException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalFailure',
  'InternalServerException',
  'InternalError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

/** The name an SDK error carries (`name`, or `Code` on some protocols). */
export function awsErrorName(err: unknown): string {
  if (typeof err !== 'object' || err === null) return 'Unknown';
  const named = err as { name?: unknown; Code?: unknown; code?: unknown };
  for (const candidate of [named.name, named.Code, named.code]) {
    if (typeof candidate === 'string' && candidate !== 'Error') return candidate;
  }
  return 'Unknown';
}

/** True for throttling, capacity and 5xx answers: the same request may succeed later. */
export function isRetryableAwsError(err: unknown): boolean {
  if (THROTTLING.has(awsErrorName(err))) return true;
  const meta = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata;
  const status = meta?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  // Socket errors (ECONNREFUSED, ECONNRESET, timeouts) carry no HTTP status at all.
  return (
    status === undefined && err instanceof Error && /ECONN|ETIMEDOUT|EPIPE|socket|timeout/i.test(err.message)
  );
}

/**
 * Translates an SDK error from `what` (e.g. "inbox BatchWriteItem") into a FanoutError: our own
 * errors pass through, validation answers become ValidationError, conditional conflicts
 * ConflictError, and everything else (throttling, 5xx, network, access) StoreUnavailableError,
 * which callers retry as a unit.
 */
export function translateAwsError(err: unknown, what: string): FanoutError {
  if (err instanceof FanoutError) return err;
  const name = awsErrorName(err);
  if (
    name === 'ValidationException' ||
    name === 'InvalidParameterException' ||
    name === 'InvalidArgumentException'
  ) {
    return new ValidationError([{ path: what, message: `rejected by AWS (${name})` }], { cause: err });
  }
  if (name === 'ConditionalCheckFailedException' || name === 'TransactionCanceledException') {
    return new ConflictError(`${what}: condition failed (${name})`, { cause: err });
  }
  return new StoreUnavailableError(`${what} failed (${name})`, { cause: err });
}

/** Runs one SDK call and translates whatever it throws. */
export async function awsCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw translateAwsError(err, what);
  }
}

/** True when an SDK error (kept as `cause` by our translation) is a failed DynamoDB condition. */
export function isConditionFailure(err: unknown): boolean {
  const cause = (err as { cause?: unknown } | null)?.cause;
  return (
    awsErrorName(err) === 'ConditionalCheckFailedException' ||
    awsErrorName(cause) === 'ConditionalCheckFailedException'
  );
}

/** The AWS error name behind one of our errors (its `cause`), or of the error itself. */
export function causeName(err: unknown): string {
  const cause = (err as { cause?: unknown } | null)?.cause;
  return cause === undefined ? awsErrorName(err) : awsErrorName(cause);
}

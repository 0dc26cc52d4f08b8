/**
 * Our own error classes. Adapters translate store and SDK errors into these at their edge, so
 * handlers decide on a stable `code`, never on a vendor's message. The original error is kept as
 * `cause`.
 */
export const ErrorCode = {
  Validation: 'VALIDATION',
  InvalidCursor: 'INVALID_CURSOR',
  NotFound: 'NOT_FOUND',
  Conflict: 'CONFLICT',
  StoreUnavailable: 'STORE_UNAVAILABLE',
  DedupUnavailable: 'DEDUP_UNAVAILABLE',
  TransportRetryable: 'TRANSPORT_RETRYABLE',
  TransportPermanent: 'TRANSPORT_PERMANENT',
  Closed: 'CLOSED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base of every error Fanout throws on purpose. */
export class FanoutError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** One problem with one field of an input. */
export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

/** Input that breaks the schema; nothing was applied. Maps to HTTP 400. */
export class ValidationError extends FanoutError {
  readonly issues: readonly FieldIssue[];
  constructor(issues: readonly FieldIssue[], options?: ErrorOptions) {
    super(ErrorCode.Validation, issues.map((i) => `${i.path}: ${i.message}`).join('; '), options);
    this.issues = issues;
  }
}

/** A cursor that was altered, truncated, or issued to another user. Maps to HTTP 400. */
export class InvalidCursorError extends FanoutError {
  constructor(message = 'cursor is not valid for this inbox', options?: ErrorOptions) {
    super(ErrorCode.InvalidCursor, message, options);
  }
}

export class NotFoundError extends FanoutError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.NotFound, message, options);
  }
}

/** A store did not answer or failed; the caller retries the whole unit of work. */
export class StoreUnavailableError extends FanoutError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.StoreUnavailable, message, options);
  }
}

/** The dedup store did not answer: nothing may be sent (fail-closed), the job is retried. */
export class DedupUnavailableError extends FanoutError {
  constructor(message = 'dedup store did not answer', options?: ErrorOptions) {
    super(ErrorCode.DedupUnavailable, message, options);
  }
}

/** The transport refused for now (throttled, 5xx, connection lost before sending). Retry later. */
export class TransportRetryableError extends FanoutError {
  /** Provider's Retry-After, when it gave one. */
  readonly retryAfterMs: number | undefined;
  /**
   * True when the request may have reached the provider (timeout after it left): the retry must
   * re-use the same collapse id / message id, and is recorded as ambiguous.
   */
  readonly ambiguous: boolean;
  constructor(message: string, opts: { retryAfterMs?: number; ambiguous?: boolean } & ErrorOptions = {}) {
    super(ErrorCode.TransportRetryable, message, opts);
    this.retryAfterMs = opts.retryAfterMs;
    this.ambiguous = opts.ambiguous ?? false;
  }
}

/** The operation is closed (store closed, process shutting down). */
export class ClosedError extends FanoutError {
  constructor(message = 'closed', options?: ErrorOptions) {
    super(ErrorCode.Closed, message, options);
  }
}

/** The thing exists already (a tenant id taken). Maps to HTTP 409. */
export class ConflictError extends FanoutError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.Conflict, message, options);
  }
}

/**
 * A reader's catch-up mark moved while a catch-up was materialising pointers into their inbox
 * (another request caught them up first). Nothing was written; the caller reads the mark again
 * and carries on from there.
 */
export class CatchUpConflictError extends ConflictError {}

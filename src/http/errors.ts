import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, FanoutError } from '../domain/errors.ts';
import type { Logger } from '../ports/logger.ts';

/** The stable `code` of every error body the API sends. Clients branch on these, never on messages. */
export const ApiErrorCode = {
  Validation: 'VALIDATION',
  InvalidCursor: 'INVALID_CURSOR',
  InvalidUnsubscribeToken: 'INVALID_UNSUBSCRIBE_TOKEN',
  Unauthorized: 'UNAUTHORIZED',
  Forbidden: 'FORBIDDEN',
  NotFound: 'NOT_FOUND',
  Conflict: 'CONFLICT',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  RateLimited: 'RATE_LIMITED',
  RequestTimeout: 'REQUEST_TIMEOUT',
  HeadersTooLarge: 'HEADERS_TOO_LARGE',
  Unavailable: 'UNAVAILABLE',
  Internal: 'INTERNAL',
} as const;
export type ApiErrorCode = (typeof ApiErrorCode)[keyof typeof ApiErrorCode];

/** The body of every 4xx and 5xx response. */
export interface ErrorBody {
  readonly error: { readonly code: ApiErrorCode; readonly message: string };
}

/** An error a route or hook throws to answer with a given status and code. */
export class ApiError extends Error {
  readonly statusCode: number;
  readonly code: ApiErrorCode;
  /** Seconds, sent as Retry-After. */
  readonly retryAfter: number | undefined;
  constructor(statusCode: number, code: ApiErrorCode, message: string, retryAfter?: number) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = statusCode;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

const FANOUT_ERRORS: Readonly<Partial<Record<ErrorCode, readonly [number, ApiErrorCode]>>> = {
  [ErrorCode.Validation]: [400, ApiErrorCode.Validation],
  [ErrorCode.InvalidCursor]: [400, ApiErrorCode.InvalidCursor],
  [ErrorCode.NotFound]: [404, ApiErrorCode.NotFound],
  [ErrorCode.Conflict]: [409, ApiErrorCode.Conflict],
  [ErrorCode.StoreUnavailable]: [503, ApiErrorCode.Unavailable],
  [ErrorCode.Closed]: [503, ApiErrorCode.Unavailable],
};

/** Fastify's own errors that are the client's fault, by their code. */
const FASTIFY_ERRORS: Readonly<Record<string, readonly [number, ApiErrorCode, string]>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, ApiErrorCode.PayloadTooLarge, 'request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [
    415,
    ApiErrorCode.UnsupportedMediaType,
    'request body must be application/json',
  ],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [
    400,
    ApiErrorCode.Validation,
    'content-length does not match the body',
  ],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, ApiErrorCode.Validation, 'body: must be a JSON object, not empty'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, ApiErrorCode.Validation, 'body: is not valid JSON'],
  FST_ERR_BAD_URL: [400, ApiErrorCode.Validation, 'the path is not valid'],
  FST_ERR_MAX_PARAM_LENGTH: [400, ApiErrorCode.Validation, 'a path parameter is too long'],
};

interface Mapped {
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly message: string;
  readonly retryAfter?: number;
}

/** What the client is told about an error: a status, a stable code, a message without internals. */
export function mapError(err: unknown): Mapped {
  if (err instanceof ApiError) {
    return {
      status: err.statusCode,
      code: err.code,
      message: err.message,
      ...(err.retryAfter === undefined ? {} : { retryAfter: err.retryAfter }),
    };
  }
  if (err instanceof FanoutError) {
    const mapped = FANOUT_ERRORS[err.code];
    if (mapped !== undefined) {
      // A store's message may name its internals; the client needs only that it may retry.
      const message = mapped[0] === 503 ? 'the service is busy; retry later' : err.message;
      return { status: mapped[0], code: mapped[1], message, ...(mapped[0] === 503 ? { retryAfter: 1 } : {}) };
    }
    return internal();
  }
  const fastify = err as Partial<FastifyError> & { validation?: unknown };
  if (fastify.validation !== undefined) {
    return { status: 400, code: ApiErrorCode.Validation, message: fastify.message ?? 'invalid request' };
  }
  const known = fastify.code === undefined ? undefined : FASTIFY_ERRORS[fastify.code];
  if (known !== undefined) return { status: known[0], code: known[1], message: known[2] };
  if (err instanceof SyntaxError) {
    return { status: 400, code: ApiErrorCode.Validation, message: 'body: is not valid JSON' };
  }
  // Other client errors raised while reading the request (bad headers, aborted bodies).
  const status = fastify.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, code: ApiErrorCode.Validation, message: 'the request is malformed' };
  }
  return internal();
}

function internal(): Mapped {
  return { status: 500, code: ApiErrorCode.Internal, message: 'internal error' };
}

/**
 * The error handler of the app, also given to Fastify as `frameworkErrors` (errors its router
 * raises before any route, such as an over-long path parameter).
 */
export function errorHandler(logger: Logger) {
  return (err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const mapped = mapError(err);
    if (mapped.status >= 500) {
      // Ids only: messages of unknown errors may quote request data.
      logger.error('http request failed', {
        requestId: request.id,
        route: request.routeOptions.url,
        code: mapped.code,
        error: err instanceof Error ? err.name : typeof err,
      });
    }
    if (mapped.retryAfter !== undefined) reply.header('retry-after', String(mapped.retryAfter));
    return reply.code(mapped.status).send(errorBody(mapped.code, mapped.message));
  };
}

/** A Fastify instance whose every error, 404 included, answers `{error: {code, message}}`. */
export function installErrorHandling(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler(errorHandler(logger));
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send(errorBody(ApiErrorCode.NotFound, 'no such route')),
  );
}

export function errorBody(code: ApiErrorCode, message: string): ErrorBody {
  return { error: { code, message } };
}

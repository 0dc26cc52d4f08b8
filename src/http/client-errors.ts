import type { Socket } from 'node:net';
import { ApiErrorCode, errorBody } from './errors.ts';

/**
 * Headers every answer carries, error or not: no browser may guess another type than the one
 * sent (a JSON body holding markup must never run as a page).
 */
export const COMMON_HEADERS = { 'x-content-type-options': 'nosniff' } as const;

/** What Node's HTTP parser and timers raise, by error code, and what the client is told. */
const CLIENT_ERRORS: Readonly<Record<string, readonly [number, string, ApiErrorCode, string]>> = {
  ERR_HTTP_REQUEST_TIMEOUT: [
    408,
    'Request Timeout',
    ApiErrorCode.RequestTimeout,
    'the request was not received in time',
  ],
  HPE_HEADER_OVERFLOW: [
    431,
    'Request Header Fields Too Large',
    ApiErrorCode.HeadersTooLarge,
    'the request headers are too large',
  ],
};
const MALFORMED = [400, 'Bad Request', ApiErrorCode.Validation, 'the request is malformed'] as const;

/**
 * Fastify's `clientErrorHandler`: a request Node could not parse (an unknown method, a NUL in the
 * path, a bad Content-Length, headers too large) or did not receive in time never reaches a route,
 * so it is answered here, on the socket, in the same `{error: {code, message}}` envelope as every
 * other error, and the connection is closed (its byte stream can no longer be trusted).
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset peer, or a socket already gone: nobody to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, code, message] = CLIENT_ERRORS[err.code ?? ''] ?? MALFORMED;
  const body = JSON.stringify(errorBody(code, message));
  // A response already under way on this socket (a request timed out mid-answer) cannot be followed
  // by another status line.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && inFlight?.headersSent !== true) {
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'X-Content-Type-Options: nosniff\r\n' +
        'Cache-Control: no-store\r\n' +
        'Connection: close\r\n\r\n' +
        body,
    );
  }
  // A peer that never reads must not hold the socket open.
  setTimeout(() => socket.destroy(), 1_000).unref();
}

import type { IncomingHttpHeaders } from 'node:http2';

/** The shapes of `Http2Pool`'s calls, and its error. */

/** Options of `Http2Pool`. */
export interface Http2PoolOptions {
  /** e.g. 'https://api.push.apple.com' or 'https://127.0.0.1:4431' */
  readonly origin: string;
  /** Sessions kept open; requests go to the least busy one. @default 2 */
  readonly size?: number;
  /** TLS trust for tests (self-signed server cert, PEM). Production uses the system CAs. */
  readonly ca?: string | Buffer;
  /** Also how long a PING may go unanswered before its connection counts as dead. @default 10_000 */
  readonly connectTimeoutMs?: number;
  /** From request start to full response. @default 15_000 */
  readonly requestTimeoutMs?: number;
  /**
   * PING an idle session this often to keep it (and detect dead ones). A request that times out
   * PINGs its session too, whatever this says. @default 60_000; 0 = never
   */
  readonly pingIntervalMs?: number;
}

/** One request. Header names in lower case, values as strings. */
export interface Http2Request {
  readonly method: 'POST' | 'GET';
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

/** A complete answer. Headers flattened to lower-case name → string (repeated ones joined by ', '). */
export interface Http2Response {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

/** Why a request got no answer. */
export const Http2FailureCode = {
  Connect: 'connect',
  Timeout: 'timeout',
  Reset: 'reset',
  Goaway: 'goaway',
  Closed: 'closed',
} as const;
export type Http2FailureCode = (typeof Http2FailureCode)[keyof typeof Http2FailureCode];

/** A request that failed without a response. `sent`: the request may have reached the server (ambiguous). */
export class Http2RequestError extends Error {
  readonly sent: boolean;
  readonly code: Http2FailureCode;
  constructor(code: Http2FailureCode, sent: boolean, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.sent = sent;
  }
}

/** Response headers as lower-case name → string, pseudo-headers left out. */
export function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

/** A connect failure in a few words: its errno code when it has one. Never the request. */
export function describeFailure(err: Error | undefined): string {
  if (err === undefined) return 'connection closed';
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : err.message;
}

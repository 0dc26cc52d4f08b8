/**
 * How long a client may hold a socket, and how many sockets the process keeps. Node's own
 * defaults leave a slow-header or slow-body client holding a socket for a minute or for ever, so
 * the serve command always sets these (FANOUT_*_TIMEOUT_MS, FANOUT_MAX_CONNECTIONS).
 */
export interface ServerLimits {
  /** Time to receive a whole request, headers and body; 408 after it. @default 30000 */
  readonly requestTimeoutMs: number;
  /** Time to receive the request headers; 408 after it. At most `requestTimeoutMs`. @default 10000 */
  readonly headersTimeoutMs: number;
  /** Time an idle keep-alive connection stays open between requests. @default 5000 */
  readonly keepAliveTimeoutMs: number;
  /**
   * Time a socket may stay silent both ways before it is closed. Event streams are exempt: their
   * heartbeats show the peer is there, and a dead peer fails a heartbeat write. @default 120000
   */
  readonly idleTimeoutMs: number;
  /** Open connections; past it new ones are closed at once. @default 20000 (above the 10,000 streams) */
  readonly maxConnections: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 120_000,
  maxConnections: 20_000,
};

/** The Fastify (and Node http.Server) options that enforce `limits`. */
export function serverOptions(limits: ServerLimits) {
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new RangeError('the headers timeout must not exceed the request timeout');
  }
  return {
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node checks the two timeouts above on this interval (30 s by default, which would let a
      // slow client keep a socket far past a short timeout).
      connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
    },
  };
}

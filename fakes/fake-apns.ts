import { generateKeyPairSync, randomUUID } from 'node:crypto';
import {
  constants,
  createSecureServer,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import {
  type ApnsRejection,
  bearerOf,
  checkBackground,
  checkHeaders,
  checkPayload,
  checkRoute,
  deviceTokenOf,
  headerValue,
  parsePayload,
  validApnsId,
} from './fake-apns-rules.ts';
import { createTokenAuthority } from './fake-apns-tokens.ts';
import { localCert } from './local-cert.ts';

/**
 * A local APNs provider API for tests and benchmarks: HTTP/2 over TLS on 127.0.0.1 with a self-signed
 * certificate, answering each request the way Apple documents (route, provider token, headers, payload),
 * plus replies a test scripts per device token (errors, delays, dropped streams and connections).
 */

/** A fresh APNs-style signing key: EC P-256, private key PKCS#8 PEM (the .p8 file), public key SPKI PEM. */
export function generateApnsKey(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

export interface FakeApnsOptions {
  readonly teamId: string;
  readonly keyId: string;
  /** Verifies the provider tokens (ES256). */
  readonly publicKeyPem: string;
  /** The only apns-topic accepted. */
  readonly topic: string;
  /** The server's clock, for token age and refresh checks. @default Date.now */
  readonly now?: () => number;
  /** SETTINGS_MAX_CONCURRENT_STREAMS announced to clients. @default 1000 */
  readonly maxConcurrentStreams?: number;
  /** Keep every request in `requests`; a benchmark turns it off to keep the server's memory flat. @default true */
  readonly record?: boolean;
}

/** A reply a test queues for one device token, used once instead of the 200 the checks would give. */
export type ApnsReply =
  | { status: number; reason?: string; timestamp?: number; retryAfter?: string; delayMs?: number }
  /** Reset the stream / cut the connection after reading the request, without answering. */
  | { drop: 'stream' | 'session' }
  /** Never answer. */
  | { hang: true };

/** One request as the server received it. */
export interface RecordedApnsRequest {
  /** From :path; '' when the path is not /3/device/<token>. */
  token: string;
  /** Lower-cased regular headers, without pseudo-headers and without authorization. */
  headers: Record<string, string>;
  /** The parsed JSON body; the raw text when not JSON; undefined when empty. */
  payload: unknown;
  bytes: number;
  /** The bearer JWT; '' when absent. */
  providerToken: string;
  /** The server clock when the request was read. */
  at: number;
}

export interface FakeApns {
  /** e.g. https://127.0.0.1:51234 */
  readonly origin: string;
  /** The server certificate (PEM) to trust. */
  readonly ca: string;
  readonly requests: RecordedApnsRequest[];
  /** Replies for the next requests to `token`, in order; afterwards the server's own checks answer. */
  script(token: string, ...replies: ApnsReply[]): void;
  /** Distinct provider tokens (JWTs) accepted, in order. */
  readonly providerTokens: string[];
  /** Sends GOAWAY on every open session, lets in-flight streams finish, then closes them. */
  goaway(): void;
  close(): Promise<void>;
}

/** Starts a fake APNs on 127.0.0.1 on a free port. */
export async function startFakeApns(opts: FakeApnsOptions): Promise<FakeApns> {
  const now = opts.now ?? Date.now;
  const pems = await localCert();
  const requests: RecordedApnsRequest[] = [];
  const scripts = new Map<string, ApnsReply[]>();
  const sessions = new Set<ServerHttp2Session>();
  const sockets = new Map<number, TLSSocket>();
  const timers = new Set<NodeJS.Timeout>();
  const authority = createTokenAuthority(opts, now);

  const server = createSecureServer({
    key: pems.key,
    cert: pems.cert,
    settings: { maxConcurrentStreams: opts.maxConcurrentStreams ?? 1000 },
    // Thousands of in-flight streams per session must not trip node's default 10 MB guard.
    maxSessionMemory: 256,
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.remotePort !== undefined) sockets.set(socket.remotePort, socket);
    socket.on('close', () => {
      if (socket.remotePort !== undefined) sockets.delete(socket.remotePort);
    });
  });
  server.on('session', (session) => {
    sessions.add(session);
    session.on('error', () => {});
    session.on('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    // A client that resets its own stream is not the server's problem.
    stream.on('error', () => {});
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      answer(stream, headers, Buffer.concat(chunks)).catch(() => {
        if (!stream.destroyed) stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      });
    });
  });

  async function answer(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    body: Buffer,
  ): Promise<void> {
    const token = deviceTokenOf(headerValue(headers, ':path')) ?? '';
    const providerToken = bearerOf(headers) ?? '';
    const payload = parsePayload(body);
    if (opts.record !== false) {
      requests.push({
        token,
        headers: recordable(headers),
        payload,
        bytes: body.length,
        providerToken,
        at: now(),
      });
    }
    const apnsId = validApnsId(headers) ?? randomUUID();
    const rejection =
      checkRoute(headers) ??
      (await authority.check(headerValue(headers, 'authorization'), providerToken, stream.session)) ??
      checkHeaders(headers, opts.topic) ??
      checkPayload(body.length, payload) ??
      checkBackground(headers, payload);
    if (rejection !== undefined) return respond(stream, apnsId, rejection);
    const reply = scripts.get(token)?.shift();
    if (reply === undefined) return respond(stream, apnsId, undefined);
    if ('hang' in reply) return;
    if ('drop' in reply) return drop(stream, reply.drop);
    // A 410 always carries the time APNs learned the token was invalid; default it to the server's clock.
    const timed = reply.status === 410 ? { ...reply, timestamp: reply.timestamp ?? now() } : reply;
    const send = () => respond(stream, apnsId, timed);
    if (reply.delayMs === undefined || reply.delayMs <= 0) return send();
    const timer = setTimeout(() => {
      timers.delete(timer);
      send();
    }, reply.delayMs);
    timers.add(timer);
  }

  function drop(stream: ServerHttp2Stream, what: 'stream' | 'session'): void {
    if (what === 'stream') {
      stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    // Cut the TCP connection itself (no GOAWAY), as a network failure or a crashed front end would.
    const socket = sockets.get(stream.session?.socket.remotePort ?? -1);
    if (socket !== undefined) socket.destroy();
    else stream.session?.destroy();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    origin: `https://127.0.0.1:${port}`,
    ca: pems.cert,
    requests,
    providerTokens: authority.accepted,
    script(token, ...replies) {
      scripts.set(token, [...(scripts.get(token) ?? []), ...replies]);
    },
    goaway() {
      for (const session of sessions) {
        if (session.closed || session.destroyed) continue;
        session.goaway(constants.NGHTTP2_NO_ERROR, 0, Buffer.from(JSON.stringify({ reason: 'Shutdown' })));
        session.close();
      }
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const session of sessions) session.destroy();
      for (const socket of sockets.values()) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Answers with APNs' shape: apns-id always; 200 with an empty body, errors with JSON {reason, timestamp?}. */
function respond(
  stream: ServerHttp2Stream,
  apnsId: string,
  answer:
    | (ApnsRejection & { timestamp?: number; retryAfter?: string })
    | { status: number; reason?: string }
    | undefined,
): void {
  if (stream.destroyed || stream.closed) return;
  const status = answer?.status ?? 200;
  const headers: Record<string, string | number> = { ':status': status, 'apns-id': apnsId };
  const extra = answer as { timestamp?: number; retryAfter?: string } | undefined;
  if (extra?.retryAfter !== undefined) headers['retry-after'] = extra.retryAfter;
  if (status === 200) {
    headers['apns-unique-id'] = randomUUID();
    stream.respond(headers, { endStream: true });
    return;
  }
  const body: Record<string, unknown> = { reason: answer?.reason ?? 'BadRequest' };
  if (extra?.timestamp !== undefined) body.timestamp = extra.timestamp;
  headers['content-type'] = 'application/json';
  stream.respond(headers);
  stream.end(JSON.stringify(body));
}

function recordable(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    if (name.startsWith(':') || name === 'authorization') continue;
    const value = headerValue(headers, name);
    if (value !== undefined) out[name.toLowerCase()] = value;
  }
  return out;
}

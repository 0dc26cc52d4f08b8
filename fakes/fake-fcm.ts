import { randomUUID } from 'node:crypto';
import {
  constants,
  createSecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type ServerHttp2Session,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { FAKE_CLIENT_EMAIL, FAKE_PROJECT_ID, rsaKeyPair } from './fake-fcm-account.ts';
import { checkSendBody, type FcmErrorSpec, fcmErrorBody, verifyAssertion } from './fake-fcm-rules.ts';
import { localCert } from './local-cert.ts';

/**
 * A local FCM for tests: one TLS server on 127.0.0.1 with a self-signed certificate that speaks
 * HTTP/2 (the send endpoint, `POST /v1/projects/{p}/messages:send`) and HTTP/1.1 (the OAuth2
 * token endpoint, `POST /token`, as Google's is called with a plain HTTPS request). It checks
 * what Google checks (the signed assertion, the bearer token, the message's shape) and answers
 * as Google documents, plus replies a test scripts per device token.
 */

export * from './fake-fcm-account.ts';

export interface FakeFcmOptions {
  /** Verifies the assertions (RS256). @default the shared test key's */
  readonly publicKeyPem?: string;
  /** The assertion's required `iss`. @default FAKE_CLIENT_EMAIL */
  readonly clientEmail?: string;
  /** The only project the send endpoint serves. @default FAKE_PROJECT_ID */
  readonly projectId?: string;
  /** The server's clock, for assertion and access-token lifetimes. @default Date.now */
  readonly now?: () => number;
  /** `expires_in` of the access tokens issued. @default 3599 */
  readonly tokenLifetimeSeconds?: number;
}

/** A reply a test queues for one device token, used once instead of the 200 the checks would give. */
export type FcmReply =
  | (FcmErrorSpec & { readonly retryAfter?: string; readonly delayMs?: number })
  /** Reset the stream / cut the connection after reading the request, without answering. */
  | { readonly drop: 'stream' | 'session' }
  /** Never answer. */
  | { readonly hang: true };

/** A reply queued for the token endpoint: an OAuth2 error, or no answer. */
export type TokenReply = { readonly status: number; readonly error?: string } | { readonly hang: true };

/** One send request as the server read it. */
export interface RecordedFcmRequest {
  readonly path: string;
  /** message.token; '' when absent. */
  readonly token: string;
  /** The bearer access token; '' when absent. */
  readonly accessToken: string;
  /** The parsed body; the raw text when not JSON. */
  readonly body: unknown;
  /** The server clock when the request was read. */
  readonly at: number;
}

/** One access token the token endpoint issued. */
export interface TokenGrant {
  readonly accessToken: string;
  /** Header `kid` and claims of the assertion it was issued for. */
  readonly kid: string | undefined;
  readonly iat: number;
  readonly exp: number;
  readonly at: number;
}

export interface FakeFcm {
  /** e.g. https://127.0.0.1:51234 */
  readonly origin: string;
  /** The server certificate (PEM) to trust. */
  readonly ca: string;
  /** Send requests, in arrival order (those refused for a bad access token included). */
  readonly requests: RecordedFcmRequest[];
  /** Access tokens issued, in order. */
  readonly tokenGrants: TokenGrant[];
  /** Token endpoint requests refused (bad assertion, bad grant type, scripted errors). */
  readonly tokenRefusals: string[];
  /** Replies for the next sends to `token`, in order; afterwards the server's own checks answer. */
  script(token: string, ...replies: FcmReply[]): void;
  /** Replies for the next token endpoint requests, in order. */
  scriptToken(...replies: TokenReply[]): void;
  /** Every access token issued so far stops working (401), as after a key rotation. */
  revokeAccessTokens(): void;
  close(): Promise<void>;
}

/** Starts a fake FCM on 127.0.0.1 on a free port. */
export async function startFakeFcm(opts: FakeFcmOptions = {}): Promise<FakeFcm> {
  const now = opts.now ?? Date.now;
  const projectId = opts.projectId ?? FAKE_PROJECT_ID;
  const publicKeyPem = opts.publicKeyPem ?? rsaKeyPair().publicKeyPem;
  const lifetimeS = opts.tokenLifetimeSeconds ?? 3599;
  const pems = await localCert();
  const requests: RecordedFcmRequest[] = [];
  const tokenGrants: TokenGrant[] = [];
  const tokenRefusals: string[] = [];
  const scripts = new Map<string, FcmReply[]>();
  const tokenScript: TokenReply[] = [];
  /** Access token → epoch ms it expires. */
  const live = new Map<string, number>();
  const sessions = new Set<ServerHttp2Session>();
  const sockets = new Set<TLSSocket>();
  const timers = new Set<NodeJS.Timeout>();
  let origin = '';

  const server = createSecureServer({ key: pems.key, cert: pems.cert, allowHTTP1: true });
  server.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('session', (session) => {
    sessions.add(session);
    session.on('error', () => {});
    session.on('close', () => sessions.delete(session));
  });
  server.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => {
    // A client that resets its own stream is not the server's problem.
    req.on('error', () => {});
    res.on('error', () => {});
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const route = req.url === '/token' ? token(req, body) : send(req, res, body);
      route
        .then((answer) => answer !== undefined && respond(res, answer))
        .catch(() => respond(res, { status: 500, body: { error: 'internal' } }));
    });
  });

  interface Answer {
    status: number;
    body: unknown;
    headers?: Record<string, string>;
  }

  /** The OAuth2 JWT-bearer grant (RFC 7523) as Google's token endpoint runs it. */
  async function token(req: Http2ServerRequest, body: string): Promise<Answer | undefined> {
    const refuse = (status: number, error: string, why: string): Answer => {
      tokenRefusals.push(why);
      return { status, body: { error, error_description: why } };
    };
    const scripted = tokenScript.shift();
    if (scripted !== undefined && 'hang' in scripted) return undefined;
    if (scripted !== undefined)
      return refuse(scripted.status, scripted.error ?? 'internal_failure', 'scripted');
    if (req.method !== 'POST') return refuse(405, 'invalid_request', 'method');
    if (!String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
      return refuse(400, 'invalid_request', 'content-type');
    }
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      return refuse(400, 'unsupported_grant_type', 'grant_type');
    }
    const checked = await verifyAssertion(form.get('assertion') ?? '', {
      publicKeyPem,
      issuer: opts.clientEmail ?? FAKE_CLIENT_EMAIL,
      audience: `${origin}/token`,
      now: now(),
    });
    if ('refused' in checked) return refuse(400, 'invalid_grant', checked.refused);
    const accessToken = `ya29.fake-${randomUUID()}`;
    live.set(accessToken, now() + lifetimeS * 1000);
    tokenGrants.push({ accessToken, ...checked, at: now() });
    return { status: 200, body: { access_token: accessToken, expires_in: lifetimeS, token_type: 'Bearer' } };
  }

  async function send(
    req: Http2ServerRequest,
    res: Http2ServerResponse,
    text: string,
  ): Promise<Answer | undefined> {
    const auth = String(req.headers.authorization ?? '');
    const accessToken = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : '';
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    const message = (body as { message?: { token?: unknown } } | null)?.message;
    const deviceToken = typeof message?.token === 'string' ? message.token : '';
    requests.push({ path: req.url, token: deviceToken, accessToken, body, at: now() });
    if (req.url !== `/v1/projects/${projectId}/messages:send`) {
      return fcmAnswer({ status: 404, message: 'Requested entity was not found.' });
    }
    const expiresAt = live.get(accessToken);
    if (expiresAt === undefined || expiresAt <= now()) {
      return fcmAnswer({ status: 401, message: 'Request had invalid authentication credentials.' });
    }
    if (req.method !== 'POST') return fcmAnswer({ status: 405, message: 'Method not allowed.' });
    const invalid = checkSendBody(body);
    if (invalid !== undefined) return fcmAnswer(invalid);
    const reply = scripts.get(deviceToken)?.shift();
    if (reply === undefined) {
      return { status: 200, body: { name: `projects/${projectId}/messages/${randomUUID()}` } };
    }
    if ('hang' in reply) return undefined;
    if ('drop' in reply) {
      drop(req, reply.drop);
      return undefined;
    }
    const answer = fcmAnswer(reply);
    if (reply.retryAfter !== undefined) answer.headers = { 'retry-after': reply.retryAfter };
    if (reply.delayMs === undefined || reply.delayMs <= 0) return answer;
    const timer = setTimeout(() => {
      timers.delete(timer);
      respond(res, answer);
    }, reply.delayMs);
    timers.add(timer);
    return undefined;
  }

  function drop(req: Http2ServerRequest, what: 'stream' | 'session'): void {
    if (what === 'stream') {
      req.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      return;
    }
    // Cut the TCP connection itself (no GOAWAY), as a network failure or a crashed front end would.
    req.stream.session?.socket.destroy();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    ca: pems.cert,
    requests,
    tokenGrants,
    tokenRefusals,
    script(deviceToken, ...replies) {
      scripts.set(deviceToken, [...(scripts.get(deviceToken) ?? []), ...replies]);
    },
    scriptToken(...replies) {
      tokenScript.push(...replies);
    },
    revokeAccessTokens() {
      live.clear();
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function fcmAnswer(spec: FcmErrorSpec): { status: number; body: unknown; headers?: Record<string, string> } {
  return { status: spec.status, body: fcmErrorBody(spec) };
}

function respond(
  res: Http2ServerResponse,
  answer: { status: number; body: unknown; headers?: Record<string, string> },
): void {
  const stream = res.stream as Http2ServerResponse['stream'] | undefined;
  if (res.destroyed || res.writableEnded || stream?.destroyed || stream?.closed) return;
  res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...answer.headers });
  res.end(JSON.stringify(answer.body));
}

import {
  createDecipheriv,
  createECDH,
  createPublicKey,
  type ECDH,
  hkdfSync,
  randomBytes,
  randomUUID,
  verify,
} from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local Web Push service for tests: what a browser's push service (Mozilla's, Google's, Apple's)
 * does on receipt of a push (RFC 8030 §5), on plain HTTP at 127.0.0.1 (which a subscription's
 * endpoint may name on a loopback host only). It plays the browser's part too: `subscribe()` draws
 * the P-256 key pair and auth secret a browser would, so it can DECRYPT each aes128gcm body
 * (RFC 8188, RFC 8291) and show the test the very text the service worker would read.
 *
 * It checks what push services check: the VAPID `Authorization: vapid t=<jwt>, k=<key>` header
 * (RFC 8292: an ES256 JWT verified with `k`, `aud` the endpoint's origin, `exp` in the future and
 * at most 24 h ahead, `sub` a mailto: or https: URI), `TTL`, `Urgency`, `Topic`, the body's size
 * and encoding. A request that fails a check is answered 400 / 401 / 403 and listed in `refusals`.
 * A test scripts other answers per subscription (404, 410, 413, 429 with Retry-After, 5xx).
 */

/** A subscription as the browser would hand it to the page, with its private half kept here. */
export interface FakeSubscription {
  readonly id: string;
  /** `PushSubscription.toJSON()`, minus expirationTime. */
  readonly subscription: {
    readonly endpoint: string;
    readonly keys: { readonly p256dh: string; readonly auth: string };
  };
}

/** One push the service accepted, decrypted. */
export interface ReceivedWebPush {
  readonly subscriptionId: string;
  /** The decrypted payload, as UTF-8 text. */
  readonly payload: string;
  readonly ttl: number;
  readonly urgency: string;
  readonly topic?: string;
  /** The VAPID JWT's claims. */
  readonly claims: { readonly aud: string; readonly exp: number; readonly sub: string };
  /** The VAPID public key the request named (`k`). */
  readonly vapidKey: string;
}

/** An answer a test scripts for the next request(s) to one subscription. */
export interface ScriptedAnswer {
  readonly status: number;
  readonly retryAfter?: string;
  /** How many requests get it. @default 1 */
  readonly times?: number;
}

export interface FakePushServiceOptions {
  /** When set, the only VAPID public key accepted (`k`); else any key whose signature verifies. */
  readonly vapidPublicKey?: string;
  /** Epoch ms, for `exp`. @default Date.now */
  readonly now?: () => number;
}

export interface FakePushService {
  /** `http://127.0.0.1:<port>`: the audience a JWT must name. */
  readonly origin: string;
  /** A new subscription, as a browser's `PushManager.subscribe` would give. */
  subscribe(): FakeSubscription;
  /** Every push accepted, in order. */
  readonly received: readonly ReceivedWebPush[];
  /** The pushes of one subscription, in order. */
  receivedBy(subscriptionId: string): ReceivedWebPush[];
  /**
   * What the browser would be handed when it next connects: one push per topic (a later push with
   * the same `Topic` replaces the earlier one, RFC 8030 §5.4), untopiced pushes all kept.
   */
  pending(subscriptionId: string): ReceivedWebPush[];
  /** Requests refused for failing a check, with why. */
  readonly refusals: readonly { readonly status: number; readonly reason: string }[];
  /** Requests received, whatever their answer. */
  requests(): number;
  /** Answers the next request(s) to this subscription so. */
  script(subscriptionId: string, answer: ScriptedAnswer): void;
  /** Answers every request 503 from now on (the service is down). */
  breakService(): void;
  close(): Promise<void>;
}

/** RFC 8030 §7.2: push services must accept 4,096 bytes; this one takes no more. */
const MAX_BODY = 4_096;
const URGENCIES: ReadonlySet<string> = new Set(['very-low', 'low', 'normal', 'high']);

interface Held {
  readonly ecdh: ECDH;
  readonly publicKey: Buffer;
  readonly auth: Buffer;
  readonly script: ScriptedAnswer[];
}

class Refusal extends Error {
  readonly status: number;
  readonly reason: string;
  constructor(status: number, reason: string) {
    super(reason);
    this.status = status;
    this.reason = reason;
  }
}

/** Starts the fake on a free port of 127.0.0.1. */
export async function startFakePushService(opts: FakePushServiceOptions = {}): Promise<FakePushService> {
  const now = opts.now ?? Date.now;
  const subscriptions = new Map<string, Held>();
  const received: ReceivedWebPush[] = [];
  const refusals: { status: number; reason: string }[] = [];
  let requests = 0;
  let broken = false;
  let origin = '';

  const handle = (
    req: IncomingMessage,
    body: Buffer,
  ): { status: number; headers?: Record<string, string> } => {
    requests++;
    const match = /^\/push\/([0-9a-f-]+)$/.exec(req.url ?? '');
    if (req.method !== 'POST' || match === null) return { status: 404 };
    if (broken) return { status: 503 };
    const held = subscriptions.get(match[1]!);
    if (held === undefined) return { status: 404 };
    try {
      const { claims, vapidKey } = checkVapid(req.headers.authorization, origin, now(), opts.vapidPublicKey);
      const ttl = checkTtl(req.headers.ttl);
      const urgency = checkUrgency(req.headers.urgency);
      const topic = checkTopic(req.headers.topic);
      const scripted = held.script[0];
      if (scripted !== undefined) {
        const times = (scripted.times ?? 1) - 1;
        if (times > 0) held.script[0] = { ...scripted, times };
        else held.script.shift();
        return {
          status: scripted.status,
          ...(scripted.retryAfter === undefined ? {} : { headers: { 'retry-after': scripted.retryAfter } }),
        };
      }
      if (body.length > MAX_BODY) throw new Refusal(413, 'body larger than 4096 bytes');
      if (req.headers['content-encoding'] !== 'aes128gcm') {
        throw new Refusal(400, 'Content-Encoding must be aes128gcm');
      }
      const payload = decryptAes128gcm(body, held).toString('utf8');
      received.push({
        subscriptionId: match[1]!,
        payload,
        ttl,
        urgency,
        ...(topic === undefined ? {} : { topic }),
        claims,
        vapidKey,
      });
      return { status: 201, headers: { location: `${origin}/message/${randomUUID()}` } };
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      refusals.push({ status: err.status, reason: err.reason });
      return { status: err.status };
    }
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let answer: { status: number; headers?: Record<string, string> };
      try {
        answer = handle(req, Buffer.concat(chunks));
      } catch (err) {
        refusals.push({ status: 400, reason: err instanceof Error ? err.message : String(err) });
        answer = { status: 400 };
      }
      res.writeHead(answer.status, answer.headers ?? {});
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const receivedBy = (id: string) => received.filter((r) => r.subscriptionId === id);
  return {
    origin,
    received,
    refusals,
    subscribe() {
      const id = randomUUID();
      const ecdh = createECDH('prime256v1');
      const publicKey = ecdh.generateKeys();
      const auth = randomBytes(16);
      subscriptions.set(id, { ecdh, publicKey, auth, script: [] });
      return {
        id,
        subscription: {
          endpoint: `${origin}/push/${id}`,
          keys: { p256dh: publicKey.toString('base64url'), auth: auth.toString('base64url') },
        },
      };
    },
    receivedBy,
    pending(id) {
      const out: ReceivedWebPush[] = [];
      for (const push of receivedBy(id)) {
        const at = push.topic === undefined ? -1 : out.findIndex((p) => p.topic === push.topic);
        if (at >= 0) out.splice(at, 1);
        out.push(push);
      }
      return out;
    },
    requests: () => requests,
    script(id, answer) {
      const held = subscriptions.get(id);
      if (held === undefined) throw new Error(`no subscription ${id}`);
      held.script.push(answer);
    },
    breakService() {
      broken = true;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** RFC 8292 §3: `vapid t=<JWT>, k=<public key>`; returns the verified claims. */
function checkVapid(
  header: string | undefined,
  audience: string,
  nowMs: number,
  expectedKey: string | undefined,
): { claims: ReceivedWebPush['claims']; vapidKey: string } {
  const m = /^vapid\s+t=([A-Za-z0-9_.-]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? '');
  if (m === null) throw new Refusal(401, 'Authorization must be "vapid t=<jwt>, k=<key>"');
  const [, jwt, key] = m as unknown as [string, string, string];
  if (expectedKey !== undefined && key !== expectedKey) throw new Refusal(403, 'unknown VAPID key');
  const point = Buffer.from(key, 'base64url');
  if (point.length !== 65 || point[0] !== 0x04) throw new Refusal(401, 'k is not an uncompressed P-256 key');
  const parts = jwt.split('.');
  if (parts.length !== 3) throw new Refusal(401, 'the JWT must have three parts');
  const [head, body, signature] = parts as [string, string, string];
  const header_ = parseJson(head);
  if (header_?.alg !== 'ES256' || header_.typ !== 'JWT') throw new Refusal(401, 'the JWT must be ES256');
  const publicKey = createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33).toString('base64url'),
    },
    format: 'jwk',
  });
  const signed = verify(
    'sha256',
    Buffer.from(`${head}.${body}`),
    { key: publicKey, dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature, 'base64url'),
  );
  if (!signed) throw new Refusal(403, 'the JWT signature does not verify with k');
  const claims = parseJson(body);
  if (claims?.aud !== audience) throw new Refusal(403, `aud must be ${audience}`);
  const exp = claims.exp;
  const nowSeconds = nowMs / 1000;
  if (typeof exp !== 'number' || exp <= nowSeconds) throw new Refusal(403, 'the JWT has expired');
  if (exp > nowSeconds + 24 * 3600) throw new Refusal(403, 'exp is more than 24 hours ahead');
  const sub = claims.sub;
  if (typeof sub !== 'string' || !/^(mailto:.+@.+|https:\/\/.+)$/.test(sub)) {
    throw new Refusal(403, 'sub must be a mailto: or https: URI');
  }
  return { claims: { aud: audience, exp, sub }, vapidKey: key };
}

function checkTtl(value: string | string[] | undefined): number {
  if (typeof value !== 'string' || !/^\d+$/.test(value))
    throw new Refusal(400, 'TTL must be given in seconds');
  return Number(value);
}

function checkUrgency(value: string | string[] | undefined): string {
  if (value === undefined) return 'normal';
  if (typeof value !== 'string' || !URGENCIES.has(value)) throw new Refusal(400, 'unknown Urgency');
  return value;
}

function checkTopic(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(value)) {
    throw new Refusal(400, 'Topic must be at most 32 base64url characters');
  }
  return value;
}

/**
 * RFC 8291 §3.4 key derivation, then RFC 8188's one record: header = salt (16) ‖ rs (4) ‖ idlen (1)
 * ‖ keyid (the sender's public key, 65); the record is AES-128-GCM over the plaintext, a 0x02
 * delimiter (last record) and zero padding.
 */
export function decryptAes128gcm(body: Buffer, receiver: Pick<Held, 'ecdh' | 'publicKey' | 'auth'>): Buffer {
  if (body.length < 21) throw new Refusal(400, 'body shorter than the aes128gcm header');
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20]!;
  if (idlen !== 65) throw new Refusal(400, 'keyid must be the sender public key (65 bytes)');
  const senderKey = body.subarray(21, 21 + idlen);
  const record = body.subarray(21 + idlen);
  if (rs < 18 || record.length > rs) throw new Refusal(400, 'Web Push allows one record only');
  const shared = receiver.ecdh.computeSecret(senderKey);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), receiver.publicKey, senderKey]);
  const ikm = Buffer.from(hkdfSync('sha256', shared, receiver.auth, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(record.subarray(record.length - 16));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
  } catch {
    throw new Refusal(400, 'the body does not decrypt with the subscription keys');
  }
  let end = plain.length - 1;
  while (end >= 0 && plain[end] === 0) end--;
  if (plain[end] !== 0x02) throw new Refusal(400, 'the last record must end with the 0x02 delimiter');
  return plain.subarray(0, end);
}

function parseJson(base64url: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(base64url, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

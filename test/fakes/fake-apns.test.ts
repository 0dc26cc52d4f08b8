import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import { type ClientHttp2Session, connect } from 'node:http2';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApns, generateApnsKey, startFakeApns } from '../../fakes/fake-apns.ts';

const TEAM = 'TEAM123456';
const KID = 'KEY1234567';
const TOPIC = 'com.example.app';
const DEVICE = 'a1'.repeat(32);
const START = Date.UTC(2030, 0, 1);
const MIN = 60_000;

const key = generateApnsKey();
let clock = START;
let fake: FakeApns;
const clients: ClientHttp2Session[] = [];

/** An ES256 provider token as Apple specifies it; each call signs anew, so each is a distinct token. */
function providerToken(
  claims: { iat?: number; iss?: string } = {},
  kid = KID,
  pem = key.privateKeyPem,
): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const data = `${part({ alg: 'ES256', kid })}.${part({ iss: claims.iss ?? TEAM, iat: claims.iat ?? Math.floor(clock / 1000) })}`;
  const sig = sign('sha256', Buffer.from(data), { key: createPrivateKey(pem), dsaEncoding: 'ieee-p1363' });
  return `${data}.${sig.toString('base64url')}`;
}

function client(): ClientHttp2Session {
  const session = connect(fake.origin, { ca: fake.ca });
  session.on('error', () => {});
  clients.push(session);
  return session;
}

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: Record<string, unknown> | undefined;
}

interface Req {
  method?: string;
  path?: string;
  jwt?: string | null;
  headers?: Record<string, string>;
  body?: string;
  session?: ClientHttp2Session;
}

/** One token for the whole file: a connection may not switch tokens more than once every 20 minutes. */
const JWT = providerToken();
const PAYLOAD = JSON.stringify({ aps: { alert: { title: 't', body: 'b' } } });

function send(req: Req = {}): Promise<Answer> {
  const session = req.session ?? client();
  const jwt = req.jwt === undefined ? JWT : req.jwt;
  return new Promise((resolve, reject) => {
    const stream = session.request(
      {
        ':method': req.method ?? 'POST',
        ':path': req.path ?? `/3/device/${DEVICE}`,
        ...(jwt === null ? {} : { authorization: `bearer ${jwt}` }),
        'apns-topic': TOPIC,
        ...req.headers,
      },
      { endStream: false },
    );
    let headers: Record<string, string | undefined> = {};
    let text = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => {
      headers = Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v === undefined ? v : String(v)]));
    });
    stream.on('data', (chunk: string) => {
      text += chunk;
    });
    stream.on('end', () => {
      // A stream cut by the peer also ends its readable side: only a response counts as an answer.
      if (headers[':status'] === undefined) return;
      resolve({
        status: Number(headers[':status']),
        headers,
        body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
      });
    });
    stream.on('error', reject);
    stream.on('close', () => reject(new Error(`stream closed without an answer (rst ${stream.rstCode})`)));
    stream.end(req.body ?? PAYLOAD);
  });
}

beforeAll(async () => {
  fake = await startFakeApns({
    teamId: TEAM,
    keyId: KID,
    publicKeyPem: key.publicKeyPem,
    topic: TOPIC,
    now: () => clock,
    maxConcurrentStreams: 7,
  });
});

afterEach(() => {
  for (const c of clients.splice(0)) c.destroy();
  clock = START;
});

afterAll(async () => {
  await fake.close();
});

describe('fake APNs: accepted requests', () => {
  it('answers 200 with the request apns-id and an apns-unique-id, and records the request', async () => {
    const apnsId = randomUUID();
    const jwt = providerToken();
    const answer = await send({
      jwt,
      headers: { 'apns-id': apnsId, 'apns-push-type': 'alert', 'apns-priority': '10' },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers['apns-id']).toBe(apnsId);
    expect(answer.headers['apns-unique-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.body).toBeUndefined();
    const recorded = fake.requests.at(-1)!;
    expect(recorded).toMatchObject({ token: DEVICE, providerToken: jwt, at: START, bytes: PAYLOAD.length });
    expect(recorded.payload).toEqual(JSON.parse(PAYLOAD));
    expect(recorded.headers).toMatchObject({ 'apns-topic': TOPIC, 'apns-id': apnsId, 'apns-priority': '10' });
    expect(recorded.headers).not.toHaveProperty('authorization');
    expect(recorded.headers).not.toHaveProperty(':path');
    expect(fake.providerTokens).toContain(jwt);
  });

  it('generates an apns-id when the request has none', async () => {
    const answer = await send();
    expect(answer.headers['apns-id']).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
  });

  it('announces maxConcurrentStreams in its SETTINGS', async () => {
    const session = client();
    await send({ session });
    expect(session.remoteSettings.maxConcurrentStreams).toBe(7);
  });
});

describe('fake APNs: checks, in the order APNs applies them', () => {
  it.each([
    ['a GET', { method: 'GET', body: '' }, 405, 'MethodNotAllowed'],
    ['a path outside /3/device', { path: '/2/device/abcd' }, 404, 'BadPath'],
    ['no device token', { path: '/3/device/' }, 400, 'MissingDeviceToken'],
    ['a device token that is not hex', { path: '/3/device/not-hex' }, 400, 'BadDeviceToken'],
    ['no authorization', { jwt: null }, 403, 'MissingProviderToken'],
    ['a garbage token', { jwt: 'not.a.jwt' }, 403, 'InvalidProviderToken'],
    ['another key id', { jwt: providerToken({}, 'OTHERKEY00') }, 403, 'InvalidProviderToken'],
    ['another team', { jwt: providerToken({ iss: 'OTHERTEAM0' }) }, 403, 'InvalidProviderToken'],
    [
      'a token signed by another key',
      { jwt: providerToken({}, KID, generateApnsKey().privateKeyPem) },
      403,
      'InvalidProviderToken',
    ],
    ['no apns-topic', { headers: { 'apns-topic': '' } }, 400, 'MissingTopic'],
    ['another topic', { headers: { 'apns-topic': 'com.other.app' } }, 400, 'DeviceTokenNotForTopic'],
    ['an unknown push type', { headers: { 'apns-push-type': 'banner' } }, 400, 'InvalidPushType'],
    ['priority 7', { headers: { 'apns-priority': '7' } }, 400, 'BadPriority'],
    ['a non-integer expiration', { headers: { 'apns-expiration': '1.5' } }, 400, 'BadExpirationDate'],
    ['a 65-byte collapse id', { headers: { 'apns-collapse-id': 'x'.repeat(65) } }, 400, 'BadCollapseId'],
    ['an apns-id that is not a UUID', { headers: { 'apns-id': 'abc' } }, 400, 'BadMessageId'],
    [
      'a 4097-byte payload',
      { body: JSON.stringify({ aps: {}, pad: 'x'.repeat(4078) }) },
      413,
      'PayloadTooLarge',
    ],
    ['an empty payload', { body: '' }, 400, 'PayloadEmpty'],
    ['a payload that is not JSON', { body: '{aps' }, 400, 'BadRequest'],
    ['a payload without aps', { body: '{"alert":"hi"}' }, 400, 'BadRequest'],
  ] as const)('rejects %s', async (_name, req, status, reason) => {
    const answer = await send(req as Req);
    expect({ status: answer.status, body: answer.body }).toEqual({ status, body: { reason } });
    expect(answer.headers['apns-id']).toBeDefined();
  });

  it('checks the route before the token, and the token before the headers', async () => {
    expect((await send({ path: '/3/device/zz', jwt: null })).body).toEqual({ reason: 'BadDeviceToken' });
    expect((await send({ jwt: null, headers: { 'apns-topic': '' } })).body).toEqual({
      reason: 'MissingProviderToken',
    });
  });

  it('accepts a 4096-byte payload and a 64-byte collapse id', async () => {
    const body = JSON.stringify({ aps: {}, pad: 'x'.repeat(4077) });
    expect(Buffer.byteLength(body)).toBe(4096);
    const answer = await send({ body, headers: { 'apns-collapse-id': 'é'.repeat(32) } });
    expect(answer.status).toBe(200);
  });
});

describe('fake APNs: provider token lifetime', () => {
  it('rejects a token whose iat is more than an hour old by the server clock', async () => {
    const jwt = providerToken();
    const session = client();
    expect((await send({ session, jwt })).status).toBe(200);
    clock += 60 * MIN;
    expect((await send({ session, jwt })).status).toBe(200);
    clock += 1000;
    expect(await send({ session, jwt })).toMatchObject({
      status: 403,
      body: { reason: 'ExpiredProviderToken' },
    });
  });

  it('refuses a new token on a connection that changed token less than 20 minutes ago', async () => {
    const session = client();
    const first = providerToken();
    expect((await send({ session, jwt: first })).status).toBe(200);
    clock += 19 * MIN;
    const early = providerToken();
    expect(await send({ session, jwt: early })).toMatchObject({
      status: 429,
      body: { reason: 'TooManyProviderTokenUpdates' },
    });
    expect(fake.providerTokens).not.toContain(early);
    // The connection keeps its token, and another connection may start with any valid token.
    expect((await send({ session, jwt: first })).status).toBe(200);
    expect((await send({ session: client(), jwt: early })).status).toBe(200);
    clock += MIN;
    const onTime = providerToken();
    expect((await send({ session, jwt: onTime })).status).toBe(200);
    expect(fake.providerTokens.indexOf(onTime)).toBeGreaterThan(fake.providerTokens.indexOf(first));
  });
});

describe('fake APNs: scripted replies', () => {
  it('plays the replies queued for a token in order, then answers 200 again', async () => {
    const token = 'b2'.repeat(32);
    fake.script(
      token,
      { status: 410, reason: 'Unregistered', timestamp: 1234 },
      { status: 429, reason: 'TooManyRequests', retryAfter: '3' },
      { status: 503, reason: 'ServiceUnavailable', delayMs: 20 },
    );
    fake.script(token, { status: 410, reason: 'ExpiredToken' });
    const path = `/3/device/${token}`;
    const session = client();
    expect(await send({ session, path })).toMatchObject({
      status: 410,
      body: { reason: 'Unregistered', timestamp: 1234 },
    });
    const throttled = await send({ session, path });
    expect(throttled).toMatchObject({ status: 429, body: { reason: 'TooManyRequests' } });
    expect(throttled.headers['retry-after']).toBe('3');
    expect(await send({ session, path })).toMatchObject({
      status: 503,
      body: { reason: 'ServiceUnavailable' },
    });
    expect(await send({ session, path })).toMatchObject({
      status: 410,
      body: { reason: 'ExpiredToken', timestamp: START },
    });
    expect((await send({ session, path })).status).toBe(200);
  });

  it('keeps a scripted reply for a request that fails the checks first', async () => {
    const token = 'c3'.repeat(32);
    fake.script(token, { status: 500, reason: 'InternalServerError' });
    const path = `/3/device/${token}`;
    expect((await send({ path, jwt: null })).status).toBe(403);
    expect((await send({ path })).status).toBe(500);
  });

  it('resets the stream for drop: stream', async () => {
    const token = 'd4'.repeat(32);
    fake.script(token, { drop: 'stream' });
    const session = client();
    await expect(send({ session, path: `/3/device/${token}` })).rejects.toThrow(/INTERNAL_ERROR/);
    expect((await send({ session })).status).toBe(200);
    expect(fake.requests.filter((r) => r.token === token)).toHaveLength(1);
  });

  it('cuts the connection for drop: session', async () => {
    const token = 'e5'.repeat(32);
    fake.script(token, { drop: 'session' });
    const session = client();
    const closed = new Promise((resolve) => session.on('close', resolve));
    await expect(send({ session, path: `/3/device/${token}` })).rejects.toThrow();
    await closed;
    expect((await send()).status).toBe(200);
  });

  it('never answers for hang, and close() still ends', async () => {
    const token = 'f6'.repeat(32);
    fake.script(token, { hang: true });
    const session = client();
    const pending = send({ session, path: `/3/device/${token}` });
    pending.catch(() => {});
    await expect.poll(() => fake.requests.some((r) => r.token === token)).toBe(true);
    expect((await send({ session })).status).toBe(200);
    session.destroy();
    await expect(pending).rejects.toThrow();
  });
});

describe('fake APNs: GOAWAY', () => {
  it('sends GOAWAY with reason Shutdown and closes; a new connection works', async () => {
    const session = client();
    expect((await send({ session })).status).toBe(200);
    const goaway = new Promise<string>((resolve) =>
      session.on('goaway', (_code, _last, data) => resolve(data?.toString() ?? '')),
    );
    const closed = new Promise((resolve) => session.on('close', resolve));
    fake.goaway();
    expect(JSON.parse(await goaway)).toEqual({ reason: 'Shutdown' });
    await closed;
    expect((await send()).status).toBe(200);
  });
});

describe('fake APNs: close', () => {
  it('closes with a hung stream and a delayed answer outstanding', async () => {
    const other = await startFakeApns({
      teamId: TEAM,
      keyId: KID,
      publicKeyPem: key.publicKeyPem,
      topic: TOPIC,
      now: () => clock,
    });
    const session = connect(other.origin, { ca: other.ca });
    session.on('error', () => {});
    other.script(DEVICE, { hang: true }, { status: 500, delayMs: 60_000 });
    const hung = send({ session });
    const delayed = send({ session });
    hung.catch(() => {});
    delayed.catch(() => {});
    await expect.poll(() => other.requests.length).toBe(2);
    await other.close();
    await expect(hung).rejects.toThrow();
    await expect(delayed).rejects.toThrow();
    session.destroy();
  });
});

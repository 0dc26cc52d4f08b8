import { importSPKI, jwtVerify } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkBackground } from '../../../fakes/fake-apns-rules.ts';
import { ApnsTransport } from '../../../src/adapters/push/apns/apns-transport.ts';
import { apnsPayload } from '../../../src/adapters/push/apns/payload.ts';
import { TransportRetryableError, ValidationError } from '../../../src/domain/errors.ts';
import { type ApnsBench, apnsBench, KEY, KID, MIN, pushMessage, TEAM, TOPIC } from './apns-fixture.ts';

let bench: ApnsBench;

beforeAll(async () => {
  bench = await apnsBench();
});
afterEach(async () => {
  await bench.closeTransports();
});
afterAll(async () => {
  await bench.close();
});

describe('ApnsTransport: requests', () => {
  it('posts the payload with a verifiable provider token and the APNs headers', async () => {
    // Prepare
    const apns = bench.transport();
    const m = pushMessage({ category: 'mention' });
    // Act
    const result = await apns.send(m);
    // Assess
    expect(result).toEqual({ status: 'sent', providerMessageId: m.messageId });
    const [req] = bench.requestsFor(m.token);
    expect(req?.headers).toMatchObject({
      'apns-topic': TOPIC,
      'apns-push-type': 'alert',
      'apns-priority': '10',
      'apns-expiration': String(bench.clock.now() / 1000 + 86_400),
      'apns-collapse-id': m.collapseId,
      'apns-id': m.messageId,
    });
    expect(req?.payload).toEqual(apnsPayload(m));
    const { payload, protectedHeader } = await jwtVerify(
      req!.providerToken,
      await importSPKI(KEY.publicKeyPem, 'ES256'),
    );
    expect(protectedHeader).toEqual({ alg: 'ES256', kid: KID });
    expect(payload).toEqual({ iss: TEAM, iat: Math.floor(bench.clock.now() / 1000) });
  });

  it('sends a withdrawal as a background push with the same collapse id and fanout.retract', async () => {
    // Prepare
    const m = pushMessage({ category: 'mention', title: '', body: '', withdraw: true });
    // Act
    const result = await bench.transport().send(m);
    // Assess
    expect(result.status).toBe('sent');
    const [req] = bench.requestsFor(m.token);
    expect(req?.headers).toMatchObject({
      'apns-push-type': 'background',
      'apns-priority': '5',
      'apns-collapse-id': m.collapseId,
    });
    expect(req?.payload).toMatchObject({
      aps: { 'content-available': 1 },
      fanout: { retract: m.collapseId },
    });
    expect((req!.payload as { aps: object }).aps).toEqual({ 'content-available': 1 });
  });

  it('is refused as APNs refuses a background push at priority 10 or with an alert', () => {
    const background = { 'apns-push-type': 'background', 'apns-priority': '5' };
    const quiet = { aps: { 'content-available': 1 } };
    expect(checkBackground(background, quiet)).toBeUndefined();
    expect(checkBackground({ ...background, 'apns-priority': '10' }, quiet)).toEqual({
      status: 400,
      reason: 'BadPriority',
    });
    expect(checkBackground({ 'apns-push-type': 'background' }, quiet)?.reason).toBe('BadPriority');
    expect(checkBackground(background, { aps: { 'content-available': 1, alert: 'x' } })?.status).toBe(400);
    expect(checkBackground(background, { aps: {} })?.status).toBe(400);
    expect(
      checkBackground({ 'apns-push-type': 'alert', 'apns-priority': '10' }, { aps: {} }),
    ).toBeUndefined();
  });

  it("sends priority 5 for a social push and the message's own expiry", async () => {
    const m = pushMessage({ category: 'social', expiresAt: bench.clock.now() + 3_600_000 });
    await bench.transport().send(m);
    expect(bench.requestsFor(m.token)[0]?.headers).toMatchObject({
      'apns-priority': '5',
      'apns-expiration': String(bench.clock.now() / 1000 + 3_600),
    });
  });

  it('refuses without sending: another platform, a token that is not hex, a too long collapse id or payload', async () => {
    const apns = bench.transport();
    const fcm = pushMessage({ platform: 'fcm' });
    const notHex = pushMessage({ token: 'not-a-hex-token' });
    const longCollapse = pushMessage({ collapseId: 'c'.repeat(65) });
    const big = pushMessage({ body: 'é'.repeat(2_100) });
    expect(await apns.send(fcm)).toEqual({
      status: 'rejected',
      reason: 'platform_not_configured',
      deactivateDevice: false,
    });
    expect(await apns.send(notHex)).toEqual({
      status: 'rejected',
      reason: 'BadDeviceToken',
      deactivateDevice: true,
    });
    expect(await apns.send(longCollapse)).toMatchObject({ status: 'rejected', deactivateDevice: false });
    expect(await apns.send(big)).toEqual({
      status: 'rejected',
      reason: 'payload_too_large',
      deactivateDevice: false,
    });
    const tokens = [fcm, notHex, longCollapse, big].map((m) => m.token);
    expect(bench.fake.requests.filter((r) => tokens.includes(r.token))).toEqual([]);
  });

  it('chooses the host by environment, unless an origin is given', async () => {
    const base = { signingKey: KEY.privateKeyPem, keyId: KID, teamId: TEAM, topic: TOPIC };
    const transports = [
      new ApnsTransport(base),
      new ApnsTransport({ ...base, environment: 'sandbox' }),
      new ApnsTransport({ ...base, environment: 'sandbox', origin: 'https://127.0.0.1:4431' }),
    ];
    expect(transports.map((t) => t.origin)).toEqual([
      'https://api.push.apple.com',
      'https://api.sandbox.push.apple.com',
      'https://127.0.0.1:4431',
    ]);
    await Promise.all(transports.map((t) => t.close()));
  });

  it('lists every bad option at once and never echoes the key', () => {
    const secret = KEY.privateKeyPem.replace('PRIVATE KEY-----\n', 'PRIVATE KEY-----\nAAAA');
    const build = () =>
      new ApnsTransport({
        signingKey: secret,
        keyId: 'short',
        teamId: TEAM,
        topic: 'bad topic',
        connections: 0,
      });
    expect(build).toThrow(ValidationError);
    try {
      build();
    } catch (err) {
      const paths = (err as ValidationError).issues.map((i) => i.path);
      expect(paths).toEqual(['signingKey', 'keyId', 'topic', 'connections']);
      expect((err as Error).message).not.toContain('AAAA');
    }
  });
});

describe('ApnsTransport: answers', () => {
  it('410 Unregistered → deactivate the device, invalid since the timestamp APNs gave', async () => {
    const m = pushMessage();
    bench.fake.script(m.token, { status: 410, reason: 'Unregistered', timestamp: 1_700_000_000_000 });
    expect(await bench.transport().send(m)).toEqual({
      status: 'rejected',
      reason: 'Unregistered',
      deactivateDevice: true,
      invalidSince: 1_700_000_000_000,
    });
  });

  it('400 BadDeviceToken → deactivate; DeviceTokenNotForTopic → device kept', async () => {
    const apns = bench.transport();
    const bad = pushMessage();
    bench.fake.script(bad.token, { status: 400, reason: 'BadDeviceToken' });
    expect(await apns.send(bad)).toMatchObject({ reason: 'BadDeviceToken', deactivateDevice: true });
    const wrongTopic = bench.transport({ topic: 'com.example.other' });
    expect(await wrongTopic.send(pushMessage())).toEqual({
      status: 'rejected',
      reason: 'DeviceTokenNotForTopic',
      deactivateDevice: false,
    });
  });

  it.each([
    [429, 'TooManyRequests', '2', 2_000],
    [503, 'ServiceUnavailable', '1', 1_000],
  ])('%i %s with Retry-After: waits as told, then sends', async (status, reason, retryAfter, waited) => {
    const m = pushMessage();
    bench.fake.script(m.token, { status, reason, retryAfter });
    expect(await bench.transport().send(m)).toMatchObject({ status: 'sent' });
    expect(bench.sleeps).toEqual([waited]);
    expect(bench.requestsFor(m.token)).toHaveLength(2);
  });

  it('a Retry-After beyond the budget is not slept: the job is handed back with it', async () => {
    const m = pushMessage();
    bench.fake.script(m.token, { status: 429, reason: 'TooManyRequests', retryAfter: '30' });
    const err = await bench
      .transport({ retryBudgetMs: 10_000 })
      .send(m)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportRetryableError);
    expect(err).toMatchObject({ retryAfterMs: 30_000, ambiguous: false });
    expect(bench.sleeps).toEqual([]);
    expect(bench.requestsFor(m.token)).toHaveLength(1);
  });

  it('gives up after the policy’s attempts with jittered waits under the cap', async () => {
    const m = pushMessage();
    const fail = { status: 500, reason: 'InternalServerError' };
    bench.fake.script(m.token, fail, fail, fail, fail);
    const apns = bench.transport({ backoff: { attempts: 3, baseMs: 100, maxMs: 150 } });
    const err = await apns.send(m).catch((e: unknown) => e);
    expect(err).toMatchObject({ ambiguous: false, retryAfterMs: undefined });
    expect(bench.requestsFor(m.token)).toHaveLength(3);
    expect(bench.sleeps).toHaveLength(2);
    expect(bench.sleeps.every((ms) => ms >= 0 && ms <= 150)).toBe(true);
  });

  it('TooManyProviderTokenUpdates is retried with the same token, never a new one', async () => {
    const m = pushMessage();
    bench.fake.script(m.token, { status: 429, reason: 'TooManyProviderTokenUpdates' });
    expect(await bench.transport().send(m)).toMatchObject({ status: 'sent' });
    const [first, second] = bench.requestsFor(m.token);
    expect(second?.providerToken).toBe(first?.providerToken);
  });

  it('other refusals are final, device kept, reason as APNs said it', async () => {
    const m = pushMessage();
    bench.fake.script(m.token, { status: 403, reason: 'InvalidProviderToken' });
    expect(await bench.transport().send(m)).toEqual({
      status: 'rejected',
      reason: 'InvalidProviderToken',
      deactivateDevice: false,
    });
  });

  it('logs neither device tokens nor provider tokens', async () => {
    const m = pushMessage();
    bench.fake.script(m.token, { status: 410, reason: 'Unregistered' }, { drop: 'stream' });
    const apns = bench.transport();
    await apns.send(m);
    await apns.send(m).catch(() => undefined);
    const logged = JSON.stringify(bench.logger.lines);
    expect(bench.logger.lines.length).toBeGreaterThan(0);
    expect(logged).not.toContain(m.token);
    expect(logged).not.toContain(bench.requestsFor(m.token)[0]!.providerToken);
  });
});

describe('ApnsTransport: provider token refresh', () => {
  it('keeps one token before 20 min even when asked to refresh sooner, and mints one at the refresh age', async () => {
    const apns = bench.transport({ refreshAfterMs: MIN, connections: 1 });
    const m = pushMessage();
    const token = () => bench.requestsFor(m.token).at(-1)?.providerToken;
    await apns.send(m);
    const first = token();
    bench.clock.advance(19 * MIN);
    await apns.send(m);
    expect(token()).toBe(first);
    bench.clock.advance(MIN);
    expect(await apns.send(m)).toMatchObject({ status: 'sent' });
    expect(token()).not.toBe(first);
  });

  it('refreshes at 50 min by default', async () => {
    const apns = bench.transport({ connections: 1 });
    const m = pushMessage();
    await apns.send(m);
    bench.clock.advance(49 * MIN);
    await apns.send(m);
    bench.clock.advance(MIN);
    await apns.send(m);
    const tokens = bench.requestsFor(m.token).map((r) => r.providerToken);
    expect(new Set(tokens).size).toBe(2);
    expect(tokens[1]).toBe(tokens[0]);
  });

  it('mints ONE new token for many concurrent ExpiredProviderToken answers, and re-sends each once', async () => {
    // Prepare: a connection may switch tokens only 20 min after its first one
    const apns = bench.transport({ connections: 1 });
    await apns.send(pushMessage());
    bench.clock.advance(21 * MIN);
    const messages = Array.from({ length: 12 }, () => pushMessage());
    for (const m of messages) bench.fake.script(m.token, { status: 403, reason: 'ExpiredProviderToken' });
    // Act
    const results = await Promise.all(messages.map((m) => apns.send(m)));
    // Assess
    expect(results.every((r) => r.status === 'sent')).toBe(true);
    const requests = messages.flatMap((m) => bench.requestsFor(m.token));
    expect(requests).toHaveLength(24);
    expect(new Set(requests.map((r) => r.providerToken)).size).toBe(2);
  });

  it('a second ExpiredProviderToken right after the refresh is final', async () => {
    const apns = bench.transport({ connections: 1 });
    await apns.send(pushMessage());
    bench.clock.advance(21 * MIN);
    const m = pushMessage();
    const expired = { status: 403, reason: 'ExpiredProviderToken' };
    bench.fake.script(m.token, expired, expired);
    expect(await apns.send(m)).toEqual({
      status: 'rejected',
      reason: 'ExpiredProviderToken',
      deactivateDevice: false,
    });
    expect(bench.requestsFor(m.token)).toHaveLength(2);
  });
});

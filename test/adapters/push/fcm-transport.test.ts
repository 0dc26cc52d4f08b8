import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeFcm, generateServiceAccount, startFakeFcm } from '../../../fakes/fake-fcm.ts';
import { checkSendBody } from '../../../fakes/fake-fcm-rules.ts';
import { FcmTransport, type FcmTransportOptions } from '../../../src/adapters/push/fcm/fcm-transport.ts';
import type { FcmMessage } from '../../../src/adapters/push/fcm/payload.ts';
import { parseServiceAccount } from '../../../src/adapters/push/fcm/service-account.ts';
import { TransportRetryableError } from '../../../src/domain/errors.ts';
import type { PushMessage } from '../../../src/ports/transports.ts';

/** FcmTransport against the fake FCM: the request it makes and what it makes of each answer. */

const START = Date.UTC(2030, 0, 1);
const MIN = 60_000;

let now = START;
const clock = { now: () => now };
let fake: FakeFcm;
const transports: FcmTransport[] = [];

beforeAll(async () => {
  fake = await startFakeFcm({ now: clock.now });
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  now = START;
  fake.requests.length = 0;
  fake.tokenGrants.length = 0;
  fake.revokeAccessTokens();
});

afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
});

function transport(extra: Partial<FcmTransportOptions> = {}): FcmTransport {
  const t = new FcmTransport({
    serviceAccount: parseServiceAccount(generateServiceAccount(fake.origin).json),
    origin: fake.origin,
    ca: fake.ca,
    clock,
    sleep: async () => {},
    ...extra,
  });
  transports.push(t);
  return t;
}

function push(extra: Partial<PushMessage> = {}): PushMessage {
  return {
    tenantId: 'acme',
    userId: 'alice',
    token: 'fcm-token-1',
    platform: 'fcm',
    title: 'Bob mentioned you',
    body: 'Look at this',
    category: 'mention',
    collapseId: '0123456789abcdef0123456789abcdef',
    messageId: '01234567-89ab-8def-8123-456789abcdef',
    data: { notificationId: 'n1', eventId: 'e1', type: 'mention', actorId: 'bob' },
    ...extra,
  };
}

/** The `message` of the last send request. */
function lastMessage(): FcmMessage {
  return (fake.requests.at(-1)!.body as { message: FcmMessage }).message;
}

describe('FCM transport: sending', () => {
  it('posts the message to the project with the access token, and returns the message name', async () => {
    // Act
    const result = await transport().send(push());
    // Assess
    expect(result).toEqual({
      status: 'sent',
      providerMessageId: expect.stringMatching(/^projects\/fanout-test\/messages\//),
    });
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.path).toBe('/v1/projects/fanout-test/messages:send');
    expect(fake.requests[0]!.accessToken).toBe(fake.tokenGrants[0]!.accessToken);
    expect(lastMessage()).toMatchObject({
      token: 'fcm-token-1',
      notification: { title: 'Bob mentioned you', body: 'Look at this' },
      data: { notificationId: 'n1', messageId: '01234567-89ab-8def-8123-456789abcdef' },
    });
  });

  it('carries the collapse key and tag for Android and the same collapse id in the APNs overrides', async () => {
    // Act
    await transport({ defaultTtlSeconds: 600 }).send(push());
    // Assess
    const collapse = '0123456789abcdef0123456789abcdef';
    expect(lastMessage().android).toEqual({
      collapse_key: collapse,
      priority: 'high',
      ttl: '600s',
      notification: { tag: collapse },
    });
    expect(lastMessage().apns.headers).toEqual({
      'apns-collapse-id': collapse,
      'apns-priority': '10',
      'apns-push-type': 'alert',
      'apns-expiration': String(START / 1000 + 600),
    });
    expect(lastMessage().apns.payload.aps).toMatchObject({
      alert: { title: 'Bob mentioned you' },
      'thread-id': 'mention',
    });
  });

  it('sends a withdrawal as a data-only message with the same collapse key, background for iOS', async () => {
    // Act
    const result = await transport({ defaultTtlSeconds: 600 }).send(
      push({ title: '', body: '', withdraw: true }),
    );
    // Assess
    const collapse = '0123456789abcdef0123456789abcdef';
    expect(result.status).toBe('sent');
    const m = lastMessage();
    expect(m.notification).toBeUndefined();
    expect(m.data).toMatchObject({ retract: collapse, notificationId: 'n1' });
    expect(m.android).toEqual({ collapse_key: collapse, priority: 'normal', ttl: '600s' });
    expect(m.apns.headers).toEqual({
      'apns-collapse-id': collapse,
      'apns-priority': '5',
      'apns-push-type': 'background',
      'apns-expiration': String(START / 1000 + 600),
    });
    expect(m.apns.payload).toEqual({ aps: { 'content-available': 1 } });
  });

  it('is refused by FCM when a background override asks for priority 10 or shows an alert', async () => {
    // Prepare
    const send = (aps: Record<string, unknown>, priority: string) =>
      checkSendBody({
        message: {
          token: 't',
          apns: { headers: { 'apns-push-type': 'background', 'apns-priority': priority }, payload: { aps } },
        },
      });
    // Act / Assess
    expect(send({ 'content-available': 1 }, '5')).toBeUndefined();
    expect(send({ 'content-available': 1 }, '10')?.status).toBe(400);
    expect(send({ 'content-available': 1, alert: { title: 'x' } }, '5')?.status).toBe(400);
    expect(send({}, '5')?.status).toBe(400);
  });

  it('defaults the lifetime to a day, and takes it from expiresAt when set', async () => {
    // Prepare
    const fcm = transport();
    // Act
    await fcm.send(push());
    const byDefault = lastMessage().android.ttl;
    await fcm.send(push({ expiresAt: START + 90_000 }));
    // Assess
    expect([byDefault, lastMessage().android.ttl]).toEqual(['86400s', '90s']);
  });

  it('fetches the access token once and re-uses it, then refreshes it shortly before it expires', async () => {
    // Prepare
    const fcm = transport();
    // Act
    await Promise.all([fcm.send(push()), fcm.send(push()), fcm.send(push())]);
    now = START + 3599_000 - 5 * MIN - 1;
    await fcm.send(push());
    now = START + 3599_000 - 5 * MIN + 1;
    await fcm.send(push());
    // Assess
    expect(fake.tokenGrants).toHaveLength(2);
    const used = fake.requests.map((r) => r.accessToken);
    expect(used.slice(0, 4).every((t) => t === fake.tokenGrants[0]!.accessToken)).toBe(true);
    expect(used[4]).toBe(fake.tokenGrants[1]!.accessToken);
  });

  it('after a 401 fetches one new token for many concurrent sends, and each re-sends once', async () => {
    // Prepare
    const fcm = transport();
    await fcm.send(push());
    fake.revokeAccessTokens();
    // Act
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => fcm.send(push({ token: `t${i}` }))),
    );
    // Assess
    expect(results.every((r) => r.status === 'sent')).toBe(true);
    expect(fake.tokenGrants).toHaveLength(2);
    expect(fake.requests).toHaveLength(1 + 10 + 10);
  });

  it('gives up with a plain retryable error when a fresh token is refused too', async () => {
    // Prepare
    fake.script('fcm-token-1', { status: 401 }, { status: 401 });
    // Act
    const err = await transport()
      .send(push())
      .catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(TransportRetryableError);
    expect((err as TransportRetryableError).ambiguous).toBe(false);
    expect(fake.tokenGrants).toHaveLength(2);
    expect(fake.requests).toHaveLength(2);
  });
});

describe('FCM transport: refusals', () => {
  it('deactivates the device on UNREGISTERED', async () => {
    // Prepare
    fake.script('fcm-token-1', { status: 404, errorCode: 'UNREGISTERED' });
    // Act
    const result = await transport().send(push());
    // Assess
    expect(result).toEqual({ status: 'rejected', reason: 'unregistered', deactivateDevice: true });
  });

  it('tells INVALID_ARGUMENT about the token (deactivate) from one about the payload (keep)', async () => {
    // Prepare
    fake.script('bad-token', { status: 400, errorCode: 'INVALID_ARGUMENT', fieldViolation: 'message.token' });
    fake.script('bad-payload', {
      status: 400,
      errorCode: 'INVALID_ARGUMENT',
      fieldViolation: 'message.android.ttl',
    });
    const fcm = transport();
    // Act
    const token = await fcm.send(push({ token: 'bad-token' }));
    const payload = await fcm.send(push({ token: 'bad-payload' }));
    // Assess
    expect(token).toEqual({ status: 'rejected', reason: 'invalid_token', deactivateDevice: true });
    expect(payload).toEqual({ status: 'rejected', reason: 'invalid_argument', deactivateDevice: false });
  });

  it('keeps the device on SENDER_ID_MISMATCH and THIRD_PARTY_AUTH_ERROR, without a new access token', async () => {
    // Prepare
    fake.script('fcm-token-1', { status: 403, errorCode: 'SENDER_ID_MISMATCH' });
    fake.script('ios-token', { status: 401, errorCode: 'THIRD_PARTY_AUTH_ERROR' });
    const fcm = transport();
    // Act
    const mismatch = await fcm.send(push());
    const thirdParty = await fcm.send(push({ token: 'ios-token' }));
    // Assess
    expect(mismatch).toEqual({ status: 'rejected', reason: 'sender_id_mismatch', deactivateDevice: false });
    expect(thirdParty).toEqual({
      status: 'rejected',
      reason: 'third_party_auth_error',
      deactivateDevice: false,
    });
    expect(fake.tokenGrants).toHaveLength(1);
  });

  it('refuses before sending: another platform, a payload over 4 KB, an empty or oversized token', async () => {
    // Prepare
    const fcm = transport();
    // Act
    const results = await Promise.all([
      fcm.send(push({ platform: 'apns' })),
      fcm.send(push({ body: 'x'.repeat(4000) })),
      fcm.send(push({ token: '' })),
      fcm.send(push({ token: 'x'.repeat(4097) })),
    ]);
    // Assess
    expect(results).toEqual([
      { status: 'rejected', reason: 'platform_not_configured', deactivateDevice: false },
      { status: 'rejected', reason: 'payload_too_large', deactivateDevice: false },
      { status: 'rejected', reason: 'invalid_token', deactivateDevice: true },
      { status: 'rejected', reason: 'invalid_token', deactivateDevice: true },
    ]);
    expect(fake.requests).toEqual([]);
    expect(fake.tokenGrants).toEqual([]);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { startFakePushService } from '../../../fakes/fake-push-service.ts';
import { WEB_PUSH_MAX_PAYLOAD_BYTES } from '../../../src/adapters/push/webpush/payload.ts';
import { generateVapidKeyPair } from '../../../src/adapters/push/webpush/vapid.ts';
import { WebPushTransport } from '../../../src/adapters/push/webpush/webpush-transport.ts';
import { TransportRetryableError, ValidationError } from '../../../src/domain/errors.ts';
import type { PushMessage } from '../../../src/ports/transports.ts';
import { FAKE_PUSH_HOSTS, fastRetries, payloadOf, TEST_VAPID, webPushBench } from './webpush-fixture.ts';

type Bench = Awaited<ReturnType<typeof webPushBench>>;
let bench: Bench | undefined;
afterEach(async () => {
  await bench?.service.close();
  bench = undefined;
});

async function open(extra: Parameters<typeof webPushBench>[0] = {}): Promise<Bench> {
  bench = await webPushBench(extra);
  return bench;
}

function message(token: string, extra: Partial<PushMessage> = {}): PushMessage {
  return {
    tenantId: 'acme',
    userId: 'alice',
    token,
    platform: 'webpush',
    title: 'Bob liked your post',
    body: 'Launch plan ✓',
    category: 'social',
    collapseId: '0123456789abcdef0123456789abcdef',
    messageId: '01234567-89ab-8def-8123-456789abcdef',
    data: { notificationId: '01JS0000000000000000000000', eventId: 'e1', type: 'like', actorId: 'bob' },
    ...extra,
  };
}

describe('WebPushTransport', () => {
  it('sends the rendered message encrypted to the subscription, which decrypts to the same payload', async () => {
    // Prepare
    const { service, transport, subscribe } = await open();
    const { id, token } = subscribe();
    // Act
    const result = await transport.send(message(token));
    // Assess
    expect(result).toEqual({ status: 'sent' });
    expect(service.refusals).toEqual([]);
    const [push] = service.receivedBy(id);
    expect(payloadOf(push!)).toEqual({
      title: 'Bob liked your post',
      body: 'Launch plan ✓',
      tag: '0123456789abcdef0123456789abcdef',
      id: '01JS0000000000000000000000',
      url: '/#01JS0000000000000000000000',
      category: 'social',
      data: { notificationId: '01JS0000000000000000000000', eventId: 'e1', type: 'like', actorId: 'bob' },
    });
  });

  it('signs with VAPID for the endpoint origin, with an expiry within 24 hours and the subject', async () => {
    // Prepare
    const { service, transport, subscribe } = await open();
    const { id, token } = subscribe();
    // Act
    await transport.send(message(token));
    // Assess
    const [push] = service.receivedBy(id);
    expect(push?.vapidKey).toBe(TEST_VAPID.publicKey);
    expect(push?.claims).toMatchObject({ aud: service.origin, sub: 'mailto:ops@example.com' });
  });

  it('sets TTL from the expiry, Urgency from the category and Topic from the collapse id', async () => {
    // Prepare
    const now = Date.UTC(2026, 0, 1);
    const { service, transport, subscribe } = await open({ clock: { now: () => now } });
    const { id, token } = subscribe();
    // Act
    await transport.send(message(token, { expiresAt: now + 90_500 }));
    await transport.send(
      message(token, { category: 'critical', collapseId: 'ffffffffffffffffffffffffffffffff' }),
    );
    // Assess
    expect(service.receivedBy(id).map(({ ttl, urgency, topic }) => ({ ttl, urgency, topic }))).toEqual([
      { ttl: 91, urgency: 'normal', topic: '0123456789abcdef0123456789abcdef' },
      { ttl: 86_400, urgency: 'high', topic: 'ffffffffffffffffffffffffffffffff' },
    ]);
  });

  it('replaces rather than stacks: a re-send under the same collapse id leaves one push pending', async () => {
    // Prepare
    const { service, transport, subscribe } = await open();
    const { id, token } = subscribe();
    // Act
    await transport.send(message(token));
    await transport.send(message(token, { ambiguousRetry: true }));
    // Assess
    expect(service.receivedBy(id)).toHaveLength(2);
    expect(service.pending(id)).toHaveLength(1);
  });

  it('sends a withdrawal as {type: retract, tag} under the same Topic, replacing the push still pending', async () => {
    // Prepare
    const { service, transport, subscribe } = await open();
    const { id, token } = subscribe();
    await transport.send(message(token));
    // Act
    const result = await transport.send(message(token, { title: '', body: '', withdraw: true }));
    // Assess
    expect(result).toEqual({ status: 'sent' });
    const [original, withdrawal] = service.receivedBy(id);
    expect(payloadOf(withdrawal!)).toEqual({ type: 'retract', tag: '0123456789abcdef0123456789abcdef' });
    expect(withdrawal?.topic).toBe(original?.topic);
    expect(service.pending(id).map((p) => payloadOf(p))).toEqual([
      { type: 'retract', tag: '0123456789abcdef0123456789abcdef' },
    ]);
  });

  it.each([
    [404, 'not_found'],
    [410, 'gone'],
  ])('answers %i as a dead subscription: the device is to be removed', async (status, reason) => {
    // Prepare
    const { service, transport, subscribe } = await open();
    const { id, token } = subscribe();
    service.script(id, { status });
    // Act
    const result = await transport.send(message(token));
    // Assess
    expect(result).toEqual({ status: 'rejected', reason, deactivateDevice: true });
  });

  it.each([
    [413, 'payload_too_large'],
    [400, 'bad_request'],
    [401, 'vapid_rejected'],
    [403, 'vapid_rejected'],
  ])('answers %i as a permanent failure that keeps the device', async (status, reason) => {
    // Prepare
    const { service, transport, subscribe } = await open();
    const { id, token } = subscribe();
    service.script(id, { status });
    // Act
    const result = await transport.send(message(token));
    // Assess
    expect(result).toEqual({ status: 'rejected', reason, deactivateDevice: false });
  });

  it('retries a 429 after the Retry-After the push service asked for, then sends', async () => {
    // Prepare
    const { service, transport, subscribe, slept } = await open();
    const { id, token } = subscribe();
    service.script(id, { status: 429, retryAfter: '7' });
    // Act
    const result = await transport.send(message(token));
    // Assess
    expect(result).toEqual({ status: 'sent' });
    expect(slept).toEqual([7_000]);
    expect(service.receivedBy(id)).toHaveLength(1);
  });

  it('gives a 5xx back to the queue after its tries, with the wait asked for', async () => {
    // Prepare
    const { service, transport, subscribe } = await open();
    const { id, token } = subscribe();
    service.script(id, { status: 503, retryAfter: '2', times: 3 });
    // Act
    const sending = transport.send(message(token));
    // Assess
    await expect(sending).rejects.toBeInstanceOf(TransportRetryableError);
    await expect(sending).rejects.toMatchObject({ retryAfterMs: 2_000, ambiguous: false });
    expect(service.receivedBy(id)).toEqual([]);
  });

  it('refuses a payload over the aes128gcm limit without a request, keeping the device', async () => {
    // Prepare
    const { service, transport, subscribe } = await open();
    const { token } = subscribe();
    // Act
    const result = await transport.send(message(token, { body: 'x'.repeat(WEB_PUSH_MAX_PAYLOAD_BYTES) }));
    // Assess
    expect(result).toEqual({ status: 'rejected', reason: 'payload_too_large', deactivateDevice: false });
    expect(service.requests()).toBe(0);
  });

  it('drops a token that is no subscription without a request', async () => {
    // Prepare
    const { service, transport } = await open();
    // Act
    const result = await transport.send(message('{"endpoint":"ftp://x"}'));
    // Assess
    expect(result).toEqual({ status: 'rejected', reason: 'invalid_token', deactivateDevice: true });
    expect(service.requests()).toBe(0);
  });

  it('is refused by a push service that knows another VAPID key, and keeps the device', async () => {
    // Prepare
    const service = await startFakePushService({ vapidPublicKey: generateVapidKeyPair().publicKey });
    const transport = new WebPushTransport({
      vapid: TEST_VAPID,
      endpointHosts: FAKE_PUSH_HOSTS,
      ...fastRetries().options,
    });
    const { subscription } = service.subscribe();
    try {
      // Act
      const result = await transport.send(message(JSON.stringify(subscription)));
      // Assess
      expect(result).toEqual({ status: 'rejected', reason: 'vapid_rejected', deactivateDevice: false });
      expect(service.refusals).toEqual([{ status: 403, reason: 'unknown VAPID key' }]);
    } finally {
      await service.close();
    }
  });

  it('says a connection refused never left, so the re-send is not ambiguous', async () => {
    // Prepare
    const { service, transport, subscribe } = await open();
    const { token } = subscribe();
    await service.close();
    // Act
    const sending = transport.send(message(token));
    // Assess
    await expect(sending).rejects.toMatchObject({ name: 'TransportRetryableError', ambiguous: false });
  });

  it('refuses VAPID keys that do not belong together, naming the field and never the key', () => {
    // Prepare
    const other = generateVapidKeyPair();
    // Act
    const build = () =>
      new WebPushTransport({ vapid: { ...TEST_VAPID, publicKey: other.publicKey, subject: 'http://x' } });
    // Assess
    expect(build).toThrow(ValidationError);
    expect(build).toThrow('publicKey: is not the public key of privateKey; subject: must be a mailto:');
    expect(build).not.toThrow(other.publicKey);
  });
});

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakePushService,
  type FakeSubscription,
  startFakePushService,
} from '../../fakes/fake-push-service.ts';
import { readAuditLog } from '../../src/adapters/embedded/audit-log.ts';
import { buildApp } from '../../src/http/app.ts';
import { hashApiKey, newApiKey } from '../../src/http/auth.ts';
import { MAX_BROWSERS_PER_USER } from '../../src/http/routes/web-push.ts';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
import { type EmbeddedPorts, openEmbeddedPorts } from '../../src/runtime/embedded.ts';
import { Pipeline } from '../../src/runtime/pipeline.ts';
import { bearer, TEST_SECRET, userToken } from './support.ts';

/**
 * Web push end to end in one process: the service as `fanout serve` wires it (embedded ports with
 * the data dir's VAPID keys, the pipeline, the HTTP API), a browser's part played by the local push
 * service fake, which verifies each push's VAPID signature and decrypts it.
 */
describe('web push over HTTP', () => {
  let ports: EmbeddedPorts;
  let app: FastifyInstance;
  let pipeline: Pipeline;
  let push: FakePushService;
  const keys = { acme: newApiKey('acme'), globex: newApiKey('globex') };
  let seq = 0;

  beforeAll(async () => {
    push = await startFakePushService();
    // The push service fake listens on loopback: a host no real subscription names.
    const config = readRuntimeConfig({
      FANOUT_DATA_DIR: ':memory:',
      FANOUT_WEBPUSH_ENDPOINT_HOSTS: '127.0.0.1',
    });
    ports = await openEmbeddedPorts({ config });
    await ports.tenants.create('acme', hashApiKey(keys.acme), ports.clock.now());
    await ports.tenants.create('globex', hashApiKey(keys.globex), ports.clock.now());
    pipeline = new Pipeline(ports, { retryBaseMs: 5 });
    await pipeline.start();
    app = await buildApp({
      ports,
      clock: ports.clock,
      logger: ports.logger,
      options: {
        tokenSecret: TEST_SECRET,
        webPushPublicKey: ports.webPushPublicKey,
        ...(config.delivery.webPushEndpointHosts
          ? { webPushEndpointHosts: config.delivery.webPushEndpointHosts }
          : {}),
      },
    });
  });
  afterAll(async () => {
    await app?.close();
    await pipeline?.stop();
    await ports?.close();
    await push?.close();
  });

  const as = async (tenant: 'acme' | 'globex', userId: string) =>
    bearer(await userToken(app, keys[tenant], userId));
  /** Push is opt-in: the consumer sends nothing to a user who gave no push consent. */
  const consent = async (headers: Record<string, string>) => {
    const res = await app.inject({
      method: 'PATCH',
      url: '/v1/me/preferences',
      headers,
      payload: { consent: { push: true } },
    });
    expect(res.statusCode).toBe(200);
  };
  const subscribe = (headers: Record<string, string>, body: unknown, method: 'POST' | 'DELETE' = 'POST') =>
    app.inject({ method, url: '/v1/me/webpush/subscriptions', headers, payload: body as object });
  const post = async (recipient: string, type = 'mention') => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: bearer(keys.acme),
      payload: { id: `event-${++seq}`, type, actorId: 'bob', objectId: 'post-1', recipients: [recipient] },
    });
    expect(res.statusCode).toBe(202);
  };

  it('gives a signed-in user the key to subscribe with, and nobody else', async () => {
    // Act
    const res = await app.inject({
      method: 'GET',
      url: '/v1/me/webpush/vapid-public-key',
      headers: await as('acme', 'alice'),
    });
    const anonymous = await app.inject({ method: 'GET', url: '/v1/me/webpush/vapid-public-key' });
    // Assess
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ publicKey: ports.webPushPublicKey('acme') });
    expect(Buffer.from(res.json().publicKey, 'base64url')).toHaveLength(65);
    expect(anonymous.statusCode).toBe(401);
  });

  it('delivers a posted event to the subscribed browser once, decrypted, signed with that key', async () => {
    // Prepare
    const browser = push.subscribe();
    const alice = await as('acme', 'alice');
    await consent(alice);
    expect((await subscribe(alice, browser.subscription)).statusCode).toBe(204);
    // Act
    await post('alice');
    await pipeline.drained({ pollMs: 20 });
    // Assess
    const received = push.receivedBy(browser.id);
    expect(push.refusals).toEqual([]);
    expect(received).toHaveLength(1);
    const payload = JSON.parse(received[0]!.payload);
    expect(payload).toMatchObject({
      title: expect.any(String),
      body: expect.stringMatching(/bob/),
      tag: received[0]!.topic,
      category: 'mention',
      data: { type: 'mention', actorId: 'bob', objectId: 'post-1' },
    });
    expect(payload.url).toBe(`/#${payload.id}`);
    expect(received[0]).toMatchObject({ urgency: 'high', vapidKey: ports.webPushPublicKey('acme') });
  });

  it('withdraws a delivered push when its event is deleted: {type: retract, tag} under the same Topic', async () => {
    // Prepare: a push delivered to the browser
    const browser = push.subscribe();
    const wendy = await as('acme', 'wendy');
    await consent(wendy);
    expect((await subscribe(wendy, browser.subscription)).statusCode).toBe(204);
    await post('wendy');
    await pipeline.drained({ pollMs: 20 });
    const [shown] = push.receivedBy(browser.id);
    expect(shown).toBeDefined();
    // Act
    const res = await app.inject({
      method: 'DELETE',
      url: `/v1/events/event-${seq}`,
      headers: bearer(keys.acme),
    });
    await pipeline.drained({ pollMs: 20 });
    // Assess
    expect(res.statusCode).toBe(202);
    const received = push.receivedBy(browser.id);
    expect(push.refusals).toEqual([]);
    expect(received).toHaveLength(2);
    expect(JSON.parse(received[1]!.payload)).toEqual({ type: 'retract', tag: shown!.topic });
    expect(received[1]!.topic).toBe(shown!.topic);
    const decisions: string[] = [];
    for await (const r of readAuditLog(ports.auditDir))
      if (r.userId === 'wendy' && r.channel === 'push' && r.eventId === `event-${seq}`)
        decisions.push(r.outcome);
    expect(decisions).toEqual(['sent', 'withdrawn']);
  });

  it('removes the subscription when the push service answers 410 Gone', async () => {
    // Prepare
    const browser = push.subscribe();
    const carol = await as('acme', 'carol');
    await consent(carol);
    await subscribe(carol, browser.subscription);
    push.script(browser.id, { status: 410 });
    // Act
    await post('carol');
    await pipeline.drained({ pollMs: 20 });
    // Assess
    expect(push.receivedBy(browser.id)).toEqual([]);
    expect(await ports.devices.listActive({ tenantId: 'acme', userId: 'carol' })).toEqual([]);
  });

  it('keeps at most ten browsers per user: a new subscription replaces the oldest', async () => {
    // Prepare
    const headers = await as('acme', 'gina');
    const browsers = Array.from({ length: 12 }, () => push.subscribe().subscription);
    // Act
    for (const [i, subscription] of browsers.entries()) {
      await new Promise((resolve) => setTimeout(resolve, 2)); // each registered at a later ms
      const res = await subscribe(headers, subscription);
      expect(res.statusCode, `subscription ${i}`).toBe(204);
    }
    const again = await subscribe(headers, browsers[11]);
    // Assess: the last ten remain, the re-registered one once
    const kept = await ports.devices.listActive({ tenantId: 'acme', userId: 'gina' });
    expect(again.statusCode).toBe(204);
    expect(kept).toHaveLength(MAX_BROWSERS_PER_USER);
    const endpoints = kept.map((d) => JSON.parse(d.token).endpoint).sort();
    expect(endpoints).toEqual(
      browsers
        .slice(2)
        .map((b) => b.endpoint)
        .sort(),
    );
  });

  it('unsubscribes only the user who holds the subscription', async () => {
    // Prepare
    const browser: FakeSubscription = push.subscribe();
    await subscribe(await as('acme', 'dana'), browser.subscription);
    // Act
    const byOther = await subscribe(await as('acme', 'erin'), browser.subscription, 'DELETE');
    const fromGlobex = await subscribe(await as('globex', 'dana'), browser.subscription, 'DELETE');
    const listed = await ports.devices.listActive({ tenantId: 'acme', userId: 'dana' });
    const byOwner = await subscribe(await as('acme', 'dana'), browser.subscription, 'DELETE');
    // Assess
    expect([byOther.statusCode, fromGlobex.statusCode, byOwner.statusCode]).toEqual([204, 204, 204]);
    expect(listed).toMatchObject([{ platform: 'webpush' }]);
    expect(await ports.devices.listActive({ tenantId: 'acme', userId: 'dana' })).toEqual([]);
  });

  it.each([
    [{ endpoint: 'http://push.example.com/x' }, 'endpoint', /https/],
    [{ keys: { p256dh: 'AAAA', auth: 'AAAA' } }, 'keys.p256dh', /65 bytes/],
    // Not a push service: registering it would make the push consumer POST into the network.
    [{ endpoint: 'https://internal.corp.example/admin' }, 'endpoint', /push service/],
    [{ endpoint: 'https://10.0.0.5/push' }, 'endpoint', /push service/],
    [{ endpoint: 'http://localhost:9200/_shutdown' }, 'endpoint', /push service/],
  ])('refuses a bad subscription in the error envelope, naming the field', async (change, field, message) => {
    // Prepare
    const { subscription } = push.subscribe();
    // Act
    const res = await subscribe(await as('acme', 'frank'), { ...subscription, ...change });
    // Assess
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'VALIDATION', message: expect.stringContaining(field) });
    expect(res.json().error.message).toMatch(message);
    expect(res.json().error.message).not.toContain(subscription.keys.auth);
    expect(await ports.devices.listActive({ tenantId: 'acme', userId: 'frank' })).toEqual([]);
  });

  it('describes the routes in the OpenAPI document', async () => {
    // Act
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    // Assess
    expect(Object.keys(doc.paths['/v1/me/webpush/subscriptions'])).toEqual(['post', 'delete']);
    expect(doc.paths['/v1/me/webpush/vapid-public-key'].get.security).toEqual([{ userToken: [] }]);
  });
});

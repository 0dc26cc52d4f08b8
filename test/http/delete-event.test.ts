import { afterEach, describe, expect, it } from 'vitest';
import { readAuditLog, verifyAuditLog } from '../../src/adapters/embedded/audit-log.ts';
import type { AuditRecord } from '../../src/domain/audit-types.ts';
import { decodeEvent } from '../../src/domain/event.ts';
import { consumeEmail } from '../../src/handlers/email-consumer.ts';
import { fanOut } from '../../src/handlers/fanout.ts';
import { consumePush } from '../../src/handlers/push-consumer.ts';
import type { EmbeddedPorts } from '../../src/runtime/embedded.ts';
import { kinesisEvent } from '../support/events.ts';
import { consenting, consumeRound } from '../support/world.ts';
import { bearer, type TestApp, testApp, userToken } from './support.ts';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Where fan-out got to per shard: this test's own checkpoint. */
const fannedOut = new Map<string, string>();

/** Fans out everything appended since the last call, shard by shard, as the Kinesis poller does. */
async function fanOutLog(ports: EmbeddedPorts): Promise<void> {
  for (const shard of await ports.log.listShards()) {
    const records = await ports.log.read(shard, fannedOut.get(`${ports.auditDir}|${shard}`), 1000);
    if (records.length === 0) continue;
    const event = kinesisEvent(
      records.map((r) => ({ event: decodeEvent(r.data), sequenceNumber: r.sequenceNumber })),
      shard,
    );
    const response = await fanOut(event, {
      graph: ports.graph,
      inbox: ports.inbox,
      feed: ports.feed,
      queues: ports.queues,
      tierPolicy: ports.tierPolicy,
      clock: ports.clock,
    });
    expect(response.batchItemFailures).toEqual([]);
    fannedOut.set(`${ports.auditDir}|${shard}`, records.at(-1)!.sequenceNumber);
  }
}

async function consumeAll(ports: EmbeddedPorts): Promise<void> {
  const shared = {
    preferences: ports.preferences,
    preferenceCache: ports.preferenceCache,
    dedup: ports.dedup,
    audit: ports.audit,
    clock: ports.clock,
    retractions: ports.inbox,
  };
  await consumeRound(ports.queues.push, (event) =>
    consumePush(event, { ...shared, queue: ports.queues.push, devices: ports.devices, push: ports.push }),
  );
  await consumeRound(ports.queues.email, (event) =>
    consumeEmail(event, { ...shared, queue: ports.queues.email, email: ports.email }),
  );
}

async function audit(ports: EmbeddedPorts): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  for await (const record of readAuditLog(ports.auditDir)) records.push(record);
  return records;
}

describe('DELETE /v1/events/{id}', () => {
  const post = (app: TestApp, key: string, body: Record<string, unknown>) =>
    app.app.inject({ method: 'POST', url: '/v1/events', headers: bearer(key), payload: body });
  const remove = (app: TestApp, key: string, id: string) =>
    app.app.inject({ method: 'DELETE', url: `/v1/events/${encodeURIComponent(id)}`, headers: bearer(key) });

  it('answers 202 and retracted: true, then 202 and retracted: false for the same id again', async () => {
    // Prepare
    t = await testApp();
    expect((await post(t, t.keys.acme, { id: 'c1', type: 'comment', actorId: 'ana' })).statusCode).toBe(202);
    // Act
    const first = await remove(t, t.keys.acme, 'c1');
    const second = await remove(t, t.keys.acme, 'c1');
    // Assess
    expect([first.statusCode, first.json()]).toEqual([202, { eventId: 'c1', retracted: true }]);
    expect([second.statusCode, second.json()]).toEqual([202, { eventId: 'c1', retracted: false }]);
  });

  it('answers 404 for an id never sent, and for an id only another tenant sent', async () => {
    // Prepare
    t = await testApp();
    await post(t, t.keys.globex, { id: 'theirs', type: 'comment', actorId: 'ana' });
    const before = await t.ports.log.latestSequence((await t.ports.log.listShards())[0]!);
    // Act
    const unknown = await remove(t, t.keys.acme, 'never-sent');
    const foreign = await remove(t, t.keys.acme, 'theirs');
    // Assess
    for (const res of [unknown, foreign]) {
      expect(res.statusCode).toBe(404);
      expect(res.json().error.code).toBe('NOT_FOUND');
    }
    expect(await t.ports.log.lookup('acme', 'theirs')).toBeUndefined();
    expect(await t.ports.log.latestSequence((await t.ports.log.listShards())[0]!)).toBe(before);
  });

  it('answers 400 for an id that is no event id, and 401 without a key', async () => {
    // Prepare
    t = await testApp();
    // Act
    const bad = await remove(t, t.keys.acme, 'a!delete');
    const tooLong = await remove(t, t.keys.acme, 'x'.repeat(129));
    const anonymous = await t.app.inject({ method: 'DELETE', url: '/v1/events/c1' });
    // Assess
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('VALIDATION');
    expect(tooLong.statusCode).toBe(400);
    expect(anonymous.statusCode).toBe(401);
  });

  it('is refused to a user token (403)', async () => {
    // Prepare
    t = await testApp();
    await post(t, t.keys.acme, { id: 'c1', type: 'comment', actorId: 'ana' });
    const token = await userToken(t.app, t.keys.acme, 'ana');
    // Act
    const res = await t.app.inject({ method: 'DELETE', url: '/v1/events/c1', headers: bearer(token) });
    // Assess: a user token is refused, and the event stands
    expect(res.statusCode).toBe(403);
    expect(
      (await t.app.inject({ method: 'DELETE', url: '/v1/events/c1', headers: bearer(t.keys.acme) })).json(),
    ).toEqual({ eventId: 'c1', retracted: true });
  });
});

describe('retraction end to end (embedded)', () => {
  it('post, rows in every inbox, DELETE: rows gone, unread counts back, queued jobs audited retracted', async () => {
    // Prepare: ana has two followers; the owner is named; everyone can get push and email
    t = await testApp();
    const { ports } = t;
    const api = (method: 'POST' | 'PUT' | 'DELETE', url: string, payload?: Record<string, unknown>) =>
      t!.app.inject(
        payload === undefined
          ? { method, url, headers: bearer(t!.keys.acme) }
          : { method, url, headers: bearer(t!.keys.acme), payload },
      );
    for (const follower of ['f1', 'f2']) {
      expect((await api('PUT', `/v1/users/ana/followers/${follower}`)).statusCode).toBeLessThan(300);
    }
    const users = ['owner', 'f1', 'f2'];
    for (const userId of users) {
      await ports.preferences.put(consenting({ tenantId: 'acme', userId }));
      await ports.devices.registerMany([
        {
          tenantId: 'acme',
          userId,
          token: `tok-${userId}`,
          platform: 'apns',
          registeredAt: ports.clock.now(),
        },
      ]);
    }
    const tokens = Object.fromEntries(
      await Promise.all(users.map(async (u) => [u, await userToken(t!.app, t!.keys.acme, u)] as const)),
    );
    const inbox = async (u: string) =>
      (await t!.app.inject({ method: 'GET', url: '/v1/me/inbox', headers: bearer(tokens[u]!) })).json();
    const unread = async (u: string) =>
      (
        await t!.app.inject({ method: 'GET', url: '/v1/me/inbox/unread-count', headers: bearer(tokens[u]!) })
      ).json().count;
    const event = { type: 'mention', actorId: 'ana', objectId: 'post-1', recipients: ['owner'] };
    expect((await api('POST', '/v1/events', { id: 'kept', ...event })).statusCode).toBe(202);
    await fanOutLog(ports);
    await consumeAll(ports);
    const sentBefore = (await ports.pushSink.stats()).sends;
    expect((await api('POST', '/v1/events', { id: 'm1', ...event })).statusCode).toBe(202);
    await fanOutLog(ports);
    for (const u of users) {
      expect((await inbox(u)).items.map((i: { eventId: string }) => i.eventId)).toEqual(['m1', 'kept']);
      expect(await unread(u)).toBe(2);
    }
    // Act: delete m1 while its push and email jobs are still queued
    const res = await api('DELETE', '/v1/events/m1');
    await fanOutLog(ports);
    await consumeAll(ports);
    // Assess
    expect(res.statusCode).toBe(202);
    for (const u of users) {
      expect((await inbox(u)).items.map((i: { eventId: string }) => i.eventId)).toEqual(['kept']);
      expect(await unread(u)).toBe(1);
    }
    expect((await ports.pushSink.stats()).sends).toBe(sentBefore);
    const decisions = (await audit(ports)).filter((r) => r.eventId === 'm1');
    expect(decisions.map((r) => `${r.userId}/${r.channel}/${r.outcome}`).sort()).toEqual(
      // The withdrawals of m1's pushes found that none went out: nothing sent, `not_shown`.
      users.flatMap((u) => [`${u}/email/retracted`, `${u}/push/retracted`, `${u}/push/not_shown`]).sort(),
    );
    const verified = await verifyAuditLog(ports.auditDir);
    expect(verified.valid).toBe(true);
  });
});

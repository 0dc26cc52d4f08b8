import { afterEach, describe, expect, it } from 'vitest';
import { TransportRetryableError } from '../../src/domain/errors.ts';
import { notificationId } from '../../src/domain/ids.ts';
import { deadLetterKey } from '../../src/domain/keys.ts';
import { type DeliveryJob, Outcome, type UserKey } from '../../src/domain/types.ts';
import { auditLetters } from '../../src/handlers/dead-letter-audit.ts';
import { jobsIn, parseJobs } from '../../src/handlers/job.ts';
import { consumePush } from '../../src/handlers/push-consumer.ts';
import { sqsEvent } from '../support/events.ts';
import {
  auditRecords,
  closeWorlds,
  consenting,
  consumeRound,
  registerDevices,
  type World,
  world,
} from '../support/world.ts';

/*
 * A message that carries several delivery jobs (the AWS queue adapter packs them to spend one SQS
 * request on many): each job is delivered once, the message is the unit of retry, and the
 * dead-letter audit records each job of a dead-lettered pack once, and only the ones that failed.
 */

const NOW = Date.UTC(2026, 4, 1, 12);
const T = 'acme';
const USERS: UserKey[] = ['ana', 'ben', 'cy'].map((userId) => ({ tenantId: T, userId }));

afterEach(closeWorlds);

function job(userId: string, extra: Partial<DeliveryJob> = {}): DeliveryJob {
  const createdAt = NOW - 1000;
  return {
    tenantId: T,
    userId,
    notificationId: notificationId('e1', userId, createdAt),
    channel: 'push',
    eventId: 'e1',
    type: 'comment',
    category: 'social',
    actorId: 'bob',
    createdAt,
    ...extra,
  };
}

async function packedWorld(): Promise<World> {
  const w = world({ now: NOW });
  for (const user of USERS) await w.preferences.put(consenting(user));
  await registerDevices(w, USERS);
  return w;
}

/** One message holding these bodies as a packed array, with the tenant attribute. */
async function sendPacked(w: World, elements: readonly unknown[]): Promise<void> {
  await w.queues.push.sendRaw([JSON.stringify(elements)], { tenant_id: T });
}

const round = (w: World) => consumeRound(w.queues.push, (event) => consumePush(event, w.pushDeps()));

describe('the delivery job reader: packed messages', () => {
  it('reads each element of an array body as a job of its own, with ids of their own', () => {
    // Act
    const parts = parseJobs(
      sqsEvent([{ body: JSON.stringify([job('ana'), job('ben')]), messageId: 'm1', tenantAttribute: T }])
        .Records[0]!,
      'push',
    );
    // Assess
    expect(parts.map((p) => [p.id, p.job?.userId])).toEqual([
      ['m1/0', 'ana'],
      ['m1/1', 'ben'],
    ]);
  });

  it.each([
    ['an array of one', [job('ana')]],
    ['an empty array', []],
    ['an array over 100 jobs', Array.from({ length: 101 }, () => job('ana'))],
  ])('treats %s as one poison message', (_, body) => {
    const parts = parseJobs(sqsEvent([{ body: JSON.stringify(body), messageId: 'm2' }]).Records[0]!, 'push');
    expect(parts).toEqual([{ id: 'm2', job: undefined }]);
  });

  it('makes poison only the element that is no job, or whose tenant is not the message’s', () => {
    // Act
    const parts = parseJobs(
      sqsEvent([
        {
          body: JSON.stringify([job('ana'), { not: 'a job' }, job('cy', { tenantId: 'other' })]),
          messageId: 'm3',
          tenantAttribute: T,
        },
      ]).Records[0]!,
      'push',
    );
    // Assess
    expect(parts.map((p) => [p.id, p.job?.userId])).toEqual([
      ['m3/0', 'ana'],
      ['m3/1', undefined],
      ['m3/2', undefined],
    ]);
  });
});

describe('counting the jobs of a batch', () => {
  it('counts a packed message as its jobs and anything else as one', () => {
    const bodies = [
      JSON.stringify(job('ana')),
      JSON.stringify([job('ana'), job('ben'), job('cy')]),
      JSON.stringify([job('ana')]),
      '[not json',
    ];
    expect(jobsIn(bodies.map((body) => ({ body })))).toBe(1 + 3 + 1 + 1);
  });
});

describe('push consumer: packed messages', () => {
  it('sends every job of a packed message once and acks the message', async () => {
    // Prepare
    const w = await packedWorld();
    await sendPacked(w, [job('ana'), job('ben'), job('cy')]);
    // Act
    const first = await round(w);
    // Assess
    expect(first.response.batchItemFailures).toEqual([]);
    expect(w.pushCalls.map((m) => m.userId).sort()).toEqual(['ana', 'ben', 'cy']);
    expect((await w.queues.push.depth()).inFlight).toBe(0);
  });

  it('retries the whole message when one job fails, and sends its siblings no second time', async () => {
    // Prepare
    const w = await packedWorld();
    await sendPacked(w, [job('ana'), job('ben'), job('cy')]);
    let benDown = true;
    w.pushFault = (m) =>
      m.userId === 'ben' && benDown ? new TransportRetryableError('provider unavailable') : undefined;
    // Act
    const first = await round(w);
    benDown = false;
    w.clock.advance(180_001);
    const second = await round(w);
    // Assess
    expect(first.response.batchItemFailures).toHaveLength(1);
    expect(second.response.batchItemFailures).toEqual([]);
    expect(await w.pushSink.stats()).toMatchObject({ sends: 3 });
    const sent = (await auditRecords(w)).filter((r) => r.outcome === Outcome.Sent).map((r) => r.userId);
    expect(sent.sort()).toEqual(['ana', 'ben', 'cy']);
    expect((await w.queues.push.depth()).inFlight).toBe(0);
  });

  it('dead-letters a pack whose job keeps failing: that job audited dead_lettered once, its siblings never', async () => {
    // Prepare
    const w = await packedWorld();
    await sendPacked(w, [job('ana'), job('ben'), { not: 'a job' }]);
    w.pushFault = (m) =>
      m.userId === 'ben' ? new TransportRetryableError('provider unavailable') : undefined;
    // Act
    for (let i = 0; i < 5; i++) {
      await round(w);
      w.clock.advance(180_001);
    }
    const letters = await w.queues.push.listDeadLetters(10);
    const pass = await auditLetters('push', letters, { audit: w.audit, dedup: w.dedup, clock: w.clock });
    // Assess
    expect(letters).toHaveLength(1);
    expect(await w.pushSink.stats()).toMatchObject({ sends: 1 });
    const records = await auditRecords(w);
    expect(
      records.filter((r) => r.outcome === Outcome.DeadLettered).map((r) => [r.userId, r.reason]),
    ).toEqual([['ben', 'max_receives']]);
    expect(records.filter((r) => r.outcome === Outcome.Sent).map((r) => r.userId)).toEqual(['ana']);
    // The consumer confirmed both jobs' dead-letter keys on the last receive: the pass adds nothing.
    expect(pass).toEqual({ seen: 1, audited: 0, alreadyAudited: 2, poison: 1, busy: 0 });
  });

  it('lets the dead-letter audit record each job of a pack the consumer never saw, once', async () => {
    // Prepare: the message spends its receives without a consumer (throttled invocations).
    const w = await packedWorld();
    await sendPacked(w, [job('ana'), job('ben')]);
    for (let i = 0; i < 5; i++) {
      await w.queues.push.receive({ max: 10, visibilityTimeoutMs: 1000 });
      w.clock.advance(1001);
    }
    const letters = await w.queues.push.listDeadLetters(10);
    const deps = { audit: w.audit, dedup: w.dedup, clock: w.clock };
    // Act
    const first = await auditLetters('push', letters, deps);
    const second = await auditLetters('push', letters, deps);
    // Assess
    expect(first).toEqual({ seen: 1, audited: 2, alreadyAudited: 0, poison: 0, busy: 0 });
    expect(second).toEqual({ seen: 1, audited: 0, alreadyAudited: 2, poison: 0, busy: 0 });
    expect((await auditRecords(w)).map((r) => [r.userId, r.outcome]).sort()).toEqual([
      ['ana', Outcome.DeadLettered],
      ['ben', Outcome.DeadLettered],
    ]);
  });

  it('reads a user’s preferences once for all of their jobs in a batch', async () => {
    // Prepare
    const w = await packedWorld();
    await sendPacked(w, [
      job('ana'),
      job('ana', { eventId: 'e2', notificationId: notificationId('e2', 'ana', NOW) }),
      job('ben'),
    ]);
    const reads: string[] = [];
    const preferences = w.preferences;
    const counting = Object.create(preferences, {
      get: {
        value: (user: UserKey) => {
          reads.push(user.userId);
          return preferences.get(user);
        },
      },
    }) as typeof preferences;
    // Act
    await consumeRound(w.queues.push, (event) => consumePush(event, w.pushDeps({ preferences: counting })));
    // Assess
    expect(reads.sort()).toEqual(['ana', 'ben']);
    expect(w.pushCalls.map((m) => m.userId).sort()).toEqual(['ana', 'ana', 'ben']);
  });

  it('leaves out, on the retry, the siblings that ended beside the failed job: one record each, one deferred copy', async () => {
    // Prepare: ana sent, ben failing once, cy without consent, dee in quiet hours
    const w = await packedWorld();
    const dee: UserKey = { tenantId: T, userId: 'dee' };
    await w.preferences.put(
      consenting(dee, { timezone: 'UTC', quietHours: { start: '11:00', end: '13:00' } }),
    );
    await registerDevices(w, [dee]);
    await w.preferences.put({ ...consenting(USERS[2]!), consent: {} });
    await sendPacked(w, [job('ana'), job('ben'), job('cy'), job('dee')]);
    let benDown = true;
    w.pushFault = (m) =>
      m.userId === 'ben' && benDown ? new TransportRetryableError('provider unavailable') : undefined;
    // Act
    const first = await round(w);
    benDown = false;
    w.clock.advance(180_001);
    const second = await round(w);
    // Assess
    expect(first.response.batchItemFailures).toHaveLength(1);
    expect(second.response.batchItemFailures).toEqual([]);
    const records = (await auditRecords(w)).map((r) => [r.userId, r.outcome]);
    expect(records.sort()).toEqual(
      [
        ['ana', Outcome.Sent],
        ['ben', Outcome.Sent],
        ['cy', Outcome.SuppressedNoConsent],
        ['dee', Outcome.Deferred],
      ].sort(),
    );
    expect((await w.queues.push.depth()).delayed).toBe(1);
  });

  it('lets the dead-letter audit record only the job that never ended when no consumer saw the last receive', async () => {
    // Prepare: ana is sent on the first receive, ben fails; the later receives never reach a consumer
    const w = await packedWorld();
    await sendPacked(w, [job('ana'), job('ben')]);
    w.pushFault = (m) =>
      m.userId === 'ben' ? new TransportRetryableError('provider unavailable') : undefined;
    await round(w);
    for (let i = 0; i < 4; i++) {
      w.clock.advance(180_001);
      await w.queues.push.receive({ max: 10, visibilityTimeoutMs: 180_000 });
    }
    w.clock.advance(180_001);
    await w.queues.push.receive({ max: 10, visibilityTimeoutMs: 180_000 });
    const letters = await w.queues.push.listDeadLetters(10);
    // Act
    const pass = await auditLetters('push', letters, { audit: w.audit, dedup: w.dedup, clock: w.clock });
    // Assess
    expect(letters).toHaveLength(1);
    expect(pass).toEqual({ seen: 1, audited: 1, alreadyAudited: 1, poison: 0, busy: 0 });
    const records = (await auditRecords(w)).map((r) => [r.userId, r.outcome]);
    expect(records.sort()).toEqual([
      ['ana', Outcome.Sent],
      ['ben', Outcome.DeadLettered],
    ]);
  });

  it('leaves out a settled job only up to the last receive it knows of', async () => {
    // Prepare: ben's key of message m is Done, as a settled job's (or a dead-lettered one's) is
    const w = await packedWorld();
    await w.dedup.confirm([deadLetterKey(T, 'push', 'm/1')]);
    const body = JSON.stringify([job('ana'), job('ben')]);
    const at = (receiveCount: number) =>
      sqsEvent([{ body, messageId: 'm', tenantAttribute: T, receiveCount }]);
    // Act
    await consumePush(at(3), w.pushDeps());
    const third = w.pushCalls.map((m) => m.userId);
    await consumePush(at(5), w.pushDeps());
    // Assess: on the third receive ben is settled; past the fourth, everything is worked on again
    expect(third).toEqual(['ana']);
    expect(w.pushCalls.map((m) => m.userId)).toEqual(['ana', 'ben']);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import {
  DedupUnavailableError,
  StoreUnavailableError,
  TransportRetryableError,
} from '../../src/domain/errors.ts';
import { notificationId } from '../../src/domain/ids.ts';
import { targetDigest } from '../../src/domain/keys.ts';
import { type DeliveryJob, Outcome, type UserKey } from '../../src/domain/types.ts';
import { createUnsubscribeTokens } from '../../src/domain/unsubscribe.ts';
import { consumeEmail } from '../../src/handlers/email-consumer.ts';
import { consumePush } from '../../src/handlers/push-consumer.ts';
import type { DedupStore } from '../../src/ports/dedup-store.ts';
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

/** 2026-05-01 21:30 UTC: 23:30 in Paris (CEST), inside a 22:00–07:00 window. */
const PARIS_NIGHT = Date.UTC(2026, 4, 1, 21, 30);
/** 07:00 in Paris the next morning. */
const PARIS_MORNING = Date.UTC(2026, 4, 2, 5, 0);
const NOW = Date.UTC(2026, 4, 1, 12);
const MINUTE = 60_000;
const T = 'acme';
const ALICE: UserKey = { tenantId: T, userId: 'alice' };

afterEach(closeWorlds);

function job(extra: Partial<DeliveryJob> = {}): DeliveryJob {
  const userId = extra.userId ?? 'alice';
  const eventId = extra.eventId ?? 'e1';
  const createdAt = NOW - 1000;
  return {
    tenantId: T,
    userId,
    notificationId: notificationId(eventId, userId, createdAt),
    channel: 'push',
    eventId,
    type: 'comment',
    category: 'social',
    actorId: 'bob',
    createdAt,
    ...extra,
  };
}

function emailJob(extra: Partial<DeliveryJob> = {}): DeliveryJob {
  return job({ channel: 'email', ...extra });
}

async function pushWorld(opts: { now?: number; devices?: number } = {}): Promise<World> {
  const w = world({ now: opts.now ?? NOW });
  await w.preferences.put(consenting(ALICE));
  const n = opts.devices ?? 1;
  await w.devices.registerMany(
    Array.from({ length: n }, (_, i) => ({
      ...ALICE,
      token: `token-${i}`,
      platform: 'apns' as const,
      registeredAt: NOW - 1,
    })),
  );
  return w;
}

async function outcomes(w: World): Promise<string[]> {
  return (await auditRecords(w)).map((r) => r.outcome);
}

/** A dedup store that does not answer. */
function unavailableDedup(): DedupStore & { calls: number } {
  const store = {
    calls: 0,
    async claim(): Promise<never> {
      store.calls++;
      throw new DedupUnavailableError();
    },
    async confirm(): Promise<never> {
      throw new DedupUnavailableError();
    },
    async release(): Promise<never> {
      throw new DedupUnavailableError();
    },
    async peek(): Promise<never> {
      throw new DedupUnavailableError();
    },
  };
  return store;
}

describe('push consumer: sending', () => {
  it('sends once to every active device and audits each send with a target digest, never the token', async () => {
    // Prepare
    const w = await pushWorld({ devices: 2 });
    // Act
    const response = await consumePush(sqsEvent([job()]), w.pushDeps());
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(w.pushCalls.map((m) => m.token).sort()).toEqual(['token-0', 'token-1']);
    expect(new Set(w.pushCalls.map((m) => m.collapseId)).size).toBe(2);
    expect(w.pushCalls.every((m) => m.ambiguousRetry === undefined)).toBe(true);
    const records = await auditRecords(w);
    expect(records.map((r) => [r.outcome, r.target]).sort()).toEqual(
      [
        [Outcome.Sent, targetDigest('token-0')],
        [Outcome.Sent, targetDigest('token-1')],
      ].sort(),
    );
    expect(JSON.stringify(records)).not.toContain('token-');
    expect(await w.pushSink.stats()).toEqual({ sends: 2, unique: 2, ambiguousResends: 0, duplicates: 0 });
  });

  it('sends nothing and audits suppressed_no_consent without consent, or without any preferences', async () => {
    // Prepare
    const w = await pushWorld();
    const bob: UserKey = { tenantId: T, userId: 'bob' };
    await w.preferences.put(consenting(ALICE, { consent: { push: false, email: true } }));
    await registerDevices(w, [bob]);
    // Act
    const response = await consumePush(sqsEvent([job(), job({ userId: 'bob' })]), w.pushDeps());
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(w.pushCalls).toEqual([]);
    const records = await auditRecords(w);
    expect(records.map((r) => [r.userId, r.outcome, r.reason])).toEqual([
      ['alice', Outcome.SuppressedNoConsent, 'no_consent'],
      ['bob', Outcome.SuppressedNoConsent, 'no_consent'],
    ]);
  });

  it("looks up the devices of a whole batch in one call, each job getting its own user's devices", async () => {
    // Prepare
    const w = await pushWorld({ devices: 2 });
    const bob: UserKey = { tenantId: T, userId: 'bob' };
    await w.preferences.put(consenting(bob));
    await registerDevices(w, [bob]);
    const asked: number[] = [];
    const devices = Object.create(w.devices) as typeof w.devices;
    devices.listActiveMany = (users) => {
      asked.push(users.length);
      return w.devices.listActiveMany(users);
    };
    devices.listActive = () => Promise.reject(new Error('a batch must not look up one user at a time'));
    // Act
    const response = await consumePush(sqsEvent([job(), job({ userId: 'bob' })]), w.pushDeps({ devices }));
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(asked).toEqual([2]);
    expect(w.pushCalls.map((m) => [m.userId, m.token]).sort()).toEqual(
      [
        ['alice', 'token-0'],
        ['alice', 'token-1'],
        ['bob', (await w.devices.listActive(bob))[0]!.token],
      ].sort(),
    );
  });

  it('writes each push of a batch in its user’s locale, English when the locale is unknown', async () => {
    // Prepare
    const w = await pushWorld();
    const bob: UserKey = { tenantId: T, userId: 'bob' };
    const carol: UserKey = { tenantId: T, userId: 'carol' };
    await w.preferences.putMany([
      consenting(ALICE, { locale: 'fr' }),
      consenting(bob, { locale: 'ja-JP' }),
      consenting(carol, { locale: 'zh-Hant-TW' }),
    ]);
    await registerDevices(w, [bob, carol]);
    // Act
    await consumePush(
      sqsEvent([job(), job({ userId: 'bob', type: 'follow' }), job({ userId: 'carol', actorId: 'dave' })]),
      w.pushDeps(),
    );
    // Assess
    expect(w.pushCalls.map((m) => [m.userId, m.title, m.body]).sort()).toEqual([
      ['alice', 'Nouveau commentaire', 'bob a commenté votre publication'],
      ['bob', '新しいフォロワー', 'bobさんがあなたをフォローしました'],
      ['carol', 'New comment', 'dave commented on your post'],
    ]);
  });

  it('sends nothing and retries every job cleared to send when the batch device look-up fails', async () => {
    // Prepare
    const w = await pushWorld();
    const devices = Object.create(w.devices) as typeof w.devices;
    devices.listActiveMany = () => Promise.reject(new StoreUnavailableError('devices down'));
    const event = sqsEvent([job(), job({ userId: 'nobody-with-consent' })]);
    // Act
    const response = await consumePush(event, w.pushDeps({ devices }));
    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.messageId }]);
    expect(w.pushCalls).toEqual([]);
    expect((await auditRecords(w)).map((r) => [r.userId, r.outcome])).toEqual([
      ['nobody-with-consent', Outcome.SuppressedNoConsent],
    ]);
  });

  it('audits suppressed_no_address when the user has no active device', async () => {
    // Prepare
    const w = await pushWorld({ devices: 0 });
    // Act
    const response = await consumePush(sqsEvent([job()]), w.pushDeps());
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(w.pushCalls).toEqual([]);
    expect(await outcomes(w)).toEqual([Outcome.SuppressedNoAddress]);
  });
});

describe('push consumer: quiet hours', () => {
  const night = { timezone: 'Europe/Paris', quietHours: { start: '22:00', end: '07:00' } };

  it('defers a push until the window ends in the user’s timezone, then sends it once', async () => {
    // Prepare
    const w = await pushWorld({ now: PARIS_NIGHT });
    await w.preferences.put(consenting(ALICE, night));
    // Act
    const first = await consumePush(sqsEvent([job()]), w.pushDeps());
    const deferred = await w.queues.push.depth();
    const sentAt: number[] = [];
    for (let hop = 0; hop < 100 && sentAt.length === 0; hop++) {
      w.clock.advance(15 * MINUTE);
      const round = await consumeRound(w.queues.push, (event) => consumePush(event, w.pushDeps()));
      expect(round.response.batchItemFailures).toEqual([]);
      if (w.pushCalls.length > 0) sentAt.push(w.clock.now());
    }
    // Assess
    expect(first.batchItemFailures).toEqual([]);
    expect(deferred).toMatchObject({ visible: 0, delayed: 1 });
    expect(sentAt).toHaveLength(1);
    expect(sentAt[0]).toBeGreaterThanOrEqual(PARIS_MORNING);
    expect(sentAt[0]).toBeLessThanOrEqual(PARIS_MORNING + 15 * MINUTE);
    const records = await auditRecords(w);
    expect(records.map((r) => [r.outcome, r.reason])).toEqual([
      [Outcome.Deferred, 'quiet_hours'],
      [Outcome.Sent, undefined],
    ]);
    expect(await w.pushSink.stats()).toMatchObject({ sends: 1, duplicates: 0 });
  });

  it('suppresses a push when the user asked quiet hours to suppress its category, and re-enqueues nothing', async () => {
    // Prepare
    const w = await pushWorld({ now: PARIS_NIGHT });
    await w.preferences.put(
      consenting(ALICE, { ...night, quietHours: { ...night.quietHours, actions: { social: 'suppress' } } }),
    );
    // Act
    const response = await consumePush(sqsEvent([job()]), w.pushDeps());
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(w.pushCalls).toEqual([]);
    expect(await outcomes(w)).toEqual([Outcome.SuppressedQuietHours]);
    expect(await w.queues.push.depth()).toMatchObject({ visible: 0, delayed: 0, inFlight: 0 });
  });

  it('sends a critical push inside quiet hours', async () => {
    // Prepare
    const w = await pushWorld({ now: PARIS_NIGHT });
    await w.preferences.put(
      consenting(ALICE, { ...night, quietHours: { ...night.quietHours, actions: { critical: 'suppress' } } }),
    );
    // Act
    const response = await consumePush(
      sqsEvent([job({ category: 'critical', type: 'security.login' })]),
      w.pushDeps(),
    );
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(w.pushCalls).toHaveLength(1);
    expect(await outcomes(w)).toEqual([Outcome.Sent]);
  });
});

describe('push consumer: effectively once', () => {
  it('sends nothing and asks for a retry of every record when the dedup store is down', async () => {
    // Prepare
    const w = await pushWorld();
    const dedup = unavailableDedup();
    const event = sqsEvent([job(), job({ eventId: 'e2' })]);
    // Act
    const response = await consumePush(event, w.pushDeps({ dedup }));
    // Assess
    expect(dedup.calls).toBe(1);
    expect(w.pushCalls).toEqual([]);
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      event.Records.map((r) => r.messageId).sort(),
    );
    expect(await outcomes(w)).toEqual([]);
  });

  it('audits a duplicate job as duplicate and sends it no second time', async () => {
    // Prepare
    const w = await pushWorld();
    // Act
    const first = await consumePush(sqsEvent([job()]), w.pushDeps());
    const second = await consumePush(sqsEvent([job()]), w.pushDeps());
    // Assess
    expect(first.batchItemFailures).toEqual([]);
    expect(second.batchItemFailures).toEqual([]);
    expect(w.pushCalls).toHaveLength(1);
    expect(await outcomes(w)).toEqual([Outcome.Sent, Outcome.Duplicate]);
    expect(await w.pushSink.stats()).toEqual({ sends: 1, unique: 1, ambiguousResends: 0, duplicates: 0 });
  });

  it('sends a job queued twice in one batch once: the second waits for the first, then is a duplicate', async () => {
    // Prepare
    const w = await pushWorld();
    await w.queues.push.sendBatch([job(), job()]);
    // Act
    const first = await consumeRound(w.queues.push, (event) => consumePush(event, w.pushDeps()));
    const depthAfterFirst = await w.queues.push.depth();
    w.clock.advance(60_001);
    const retry = await consumeRound(w.queues.push, (event) => consumePush(event, w.pushDeps()));
    // Assess: the busy copy spent no receive; it came back as a delayed copy once the lease ran out
    expect(first.messages).toHaveLength(2);
    expect(first.response.batchItemFailures).toEqual([]);
    expect(depthAfterFirst).toMatchObject({ visible: 0, inFlight: 0, delayed: 1 });
    expect(retry.messages).toHaveLength(1);
    expect(retry.response.batchItemFailures).toEqual([]);
    expect(w.pushCalls).toHaveLength(1);
    expect(await outcomes(w)).toEqual([Outcome.Sent, Outcome.Duplicate]);
  });

  it('keeps the claim after an ambiguous failure and re-sends after the lease as an ambiguous retry', async () => {
    // Prepare
    const w = await pushWorld();
    w.pushFault = () => new TransportRetryableError('timed out after sending', { ambiguous: true });
    // Act
    const failed = await consumePush(sqsEvent([{ job: job(), messageId: 'm1' }]), w.pushDeps());
    w.pushFault = undefined;
    const tooSoon = await consumePush(
      sqsEvent([{ job: job(), messageId: 'm1', receiveCount: 2 }]),
      w.pushDeps(),
    );
    const delayedWhileBusy = (await w.queues.push.depth()).delayed;
    w.clock.advance(60_001);
    const afterLease = await consumePush(
      sqsEvent([{ job: job(), messageId: 'm1', receiveCount: 3 }]),
      w.pushDeps(),
    );
    // Assess: while the claim is live the job is put off as a delayed copy, not sent
    expect(failed.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(tooSoon.batchItemFailures).toEqual([]);
    expect(delayedWhileBusy).toBe(1);
    expect(afterLease.batchItemFailures).toEqual([]);
    expect(w.pushCalls).toHaveLength(2);
    const [original, retry] = w.pushCalls;
    expect(retry!.ambiguousRetry).toBe(true);
    expect(retry!.collapseId).toBe(original!.collapseId);
    expect(retry!.messageId).toBe(original!.messageId);
    const records = await auditRecords(w);
    // The unknown outcome is audited when it happens, then the ambiguous re-send that settled it.
    expect(records.map((r) => [r.outcome, r.ambiguous, r.attempt, r.reason])).toEqual([
      [Outcome.Unknown, undefined, 1, 'no_answer'],
      [Outcome.Sent, true, 3, undefined],
    ]);
    expect(records[0]!.target).toBe(records[1]!.target);
    // The provider may have seen the first attempt: the retry is counted as ambiguous, never as a duplicate.
    expect(await w.pushSink.stats()).toEqual({ sends: 2, unique: 1, ambiguousResends: 1, duplicates: 0 });
  });

  it('releases the claim after a certain failure, so the retry sends at once and is not ambiguous', async () => {
    // Prepare
    const w = await pushWorld();
    w.pushFault = () => new TransportRetryableError('refused before sending');
    // Act
    const failed = await consumePush(sqsEvent([{ job: job(), messageId: 'm1' }]), w.pushDeps());
    w.pushFault = undefined;
    const retried = await consumePush(
      sqsEvent([{ job: job(), messageId: 'm1', receiveCount: 2 }]),
      w.pushDeps(),
    );
    // Assess
    expect(failed.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(retried.batchItemFailures).toEqual([]);
    expect(w.pushCalls.map((m) => m.ambiguousRetry)).toEqual([undefined, undefined]);
    expect(await outcomes(w)).toEqual([Outcome.Sent]);
  });
  it("comes back when the provider's Retry-After says, as a delayed copy that spends no receive", async () => {
    // Prepare: the transport's own budget is spent; the provider asked for two minutes
    const w = await pushWorld();
    w.pushFault = () => new TransportRetryableError('quota exceeded', { retryAfterMs: 120_000 });
    // Act
    const first = await consumePush(sqsEvent([{ job: job(), messageId: 'm1' }]), w.pushDeps());
    const depth = await w.queues.push.depth();
    w.pushFault = undefined;
    w.clock.advance(60_000);
    const tooSoon = await consumeRound(w.queues.push, (event) => consumePush(event, w.pushDeps()));
    w.clock.advance(61_000);
    const due = await consumeRound(w.queues.push, (event) => consumePush(event, w.pushDeps()));
    // Assess
    expect(first.batchItemFailures).toEqual([]);
    expect(depth).toMatchObject({ visible: 0, delayed: 1 });
    expect(tooSoon.messages).toHaveLength(0);
    expect(due.messages.map((m) => [m.receiveCount, JSON.parse(m.body).providerDeferrals])).toEqual([[1, 1]]);
    expect(w.pushCalls.map((m) => m.ambiguousRetry)).toEqual([undefined, undefined]);
    // A throttled send is no decision: only the send that went through is audited.
    expect(await outcomes(w)).toEqual([Outcome.Sent]);
  });

  it('stops putting a job off after five Retry-Afters: the next one spends receives toward the DLQ', async () => {
    // Prepare
    const w = await pushWorld();
    w.pushFault = () => new TransportRetryableError('quota exceeded', { retryAfterMs: 120_000 });
    // Act
    const answers = [];
    for (const providerDeferrals of [4, 5]) {
      const throttled = { ...job(), providerDeferrals };
      answers.push(
        await consumePush(sqsEvent([{ job: throttled, messageId: `m${providerDeferrals}` }]), w.pushDeps()),
      );
    }
    // Assess: the fifth deferral is made; past it, the receive fails as any retryable error does
    expect(answers.map((a) => a.batchItemFailures)).toEqual([[], [{ itemIdentifier: 'm5' }]]);
    expect((await w.queues.push.depth()).delayed).toBe(1);
  });

  it('keeps a stale claim after a certain failure, so a send that may have happened is never repeated as a plain one', async () => {
    // Prepare: the first attempt may have reached the provider (timeout after sending)
    const w = await pushWorld();
    const attempt = (receiveCount: number) =>
      consumePush(sqsEvent([{ job: job(), messageId: 'm1', receiveCount }]), w.pushDeps());
    w.pushFault = () => new TransportRetryableError('timed out after sending', { ambiguous: true });
    await attempt(1);
    // Act: after the lease, the ambiguous re-send is throttled before it leaves; then it goes through
    w.clock.advance(60_001);
    w.pushFault = () => new TransportRetryableError('throttled before sending', { retryAfterMs: 1000 });
    const throttled = await attempt(2);
    w.pushFault = undefined;
    const soon = await attempt(3);
    w.clock.advance(60_001);
    const later = await attempt(4);
    // Assess: releasing the stale claim would have let attempt 3 send as a plain, unflagged repeat
    expect(throttled.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(soon.batchItemFailures).toEqual([]);
    expect(later.batchItemFailures).toEqual([]);
    expect(w.pushCalls.map((m) => m.ambiguousRetry)).toEqual([undefined, true, true]);
    expect(await w.pushSink.stats()).toMatchObject({ duplicates: 0 });
    const records = await auditRecords(w);
    expect(records.map((r) => [r.outcome, r.ambiguous])).toEqual([
      [Outcome.Unknown, undefined],
      [Outcome.Sent, true],
    ]);
  });
});

describe('push consumer: failures and the dead-letter queue', () => {
  it('deactivates a device the provider rejected for good, audits the failure, and acks the job', async () => {
    // Prepare
    const w = await pushWorld({ devices: 2 });
    w.pushFault = (m) =>
      m.token === 'token-0'
        ? { status: 'rejected', reason: 'Unregistered', deactivateDevice: true }
        : undefined;
    // Act
    const response = await consumePush(sqsEvent([job()]), w.pushDeps());
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect((await w.devices.listActive(ALICE)).map((d) => d.token)).toEqual(['token-1']);
    expect(JSON.stringify(w.logger.lines)).not.toContain('token-');
    const records = await auditRecords(w);
    expect(records.map((r) => [r.target, r.outcome, r.reason]).sort()).toEqual(
      [
        [targetDigest('token-0'), Outcome.Failed, 'Unregistered'],
        [targetDigest('token-1'), Outcome.Sent, undefined],
      ].sort(),
    );
  });

  it('keeps a device registered again after the provider said its token went invalid', async () => {
    // Prepare: APNs 410 with a timestamp older than the registration
    const w = await pushWorld();
    w.pushFault = () => ({
      status: 'rejected',
      reason: 'Unregistered',
      deactivateDevice: true,
      invalidSince: NOW - 60_000,
    });
    // Act
    const response = await consumePush(sqsEvent([job()]), w.pushDeps());
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect((await w.devices.listActive(ALICE)).map((d) => d.token)).toEqual(['token-0']);
  });

  it('treats a tenant_id attribute that disagrees with the body as poison: nothing sent, nothing audited', async () => {
    // Prepare
    const w = await pushWorld();
    // Act
    const response = await consumePush(
      sqsEvent([{ job: job(), messageId: 'cross', tenantAttribute: 'globex' }]),
      w.pushDeps(),
    );
    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'cross' }]);
    expect(w.pushCalls).toEqual([]);
    expect(await outcomes(w)).toEqual([]);
  });

  it.each([
    ['not JSON', '{"tenantId":'],
    ['a job of the other channel', JSON.stringify(emailJob())],
    ['a job with a bad notification id', JSON.stringify(job({ notificationId: 'nope' }))],
  ])(
    'reports %s as a failure on every receive and, having no job, only logs it on the last',
    async (_label, body) => {
      // Prepare
      const w = await pushWorld();
      const receives = [1, 2, 3, 4].map((receiveCount) =>
        sqsEvent([{ body, receiveCount, messageId: 'poison' }]),
      );
      // Act
      const responses = [];
      for (const event of receives) responses.push(await consumePush(event, w.pushDeps()));
      // Assess
      for (const r of responses) expect(r.batchItemFailures).toEqual([{ itemIdentifier: 'poison' }]);
      expect(await outcomes(w)).toEqual([]);
      const lastWords = w.logger.lines.filter((l) => l.message === 'poison delivery message dead-lettered');
      expect(lastWords.map((l) => [l.level, l.attributes])).toEqual([['error', { messageId: 'poison' }]]);
      expect(w.pushCalls).toEqual([]);
    },
  );

  it('moves a poison message to the dead-letter queue after its fourth receive', async () => {
    // Prepare
    const w = await pushWorld();
    await w.queues.push.sendRaw(['{"tenantId":'], { tenant_id: T });
    // Act
    const rounds = [];
    for (let i = 0; i < 5; i++) {
      rounds.push(await consumeRound(w.queues.push, (event) => consumePush(event, w.pushDeps())));
      w.clock.advance(180_001);
    }
    // Assess
    expect(rounds.map((r) => r.messages.map((m) => m.receiveCount))).toEqual([[1], [2], [3], [4], []]);
    expect(await w.queues.push.listDeadLetters(10)).toHaveLength(1);
    expect(await outcomes(w)).toEqual([]);
  });

  it('audits dead_lettered when a job fails on its last receive, and only then', async () => {
    // Prepare
    const w = await pushWorld();
    await w.queues.push.sendBatch([job()]);
    w.pushFault = () => new TransportRetryableError('provider unavailable');
    // Act
    for (let i = 0; i < 5; i++) {
      await consumeRound(w.queues.push, (event) => consumePush(event, w.pushDeps()));
      w.clock.advance(180_001);
    }
    // Assess
    expect(w.pushCalls).toHaveLength(4);
    const records = await auditRecords(w);
    expect(records.map((r) => [r.outcome, r.reason, r.attempt])).toEqual([
      [Outcome.DeadLettered, 'max_receives', 4],
    ]);
    expect(await w.queues.push.listDeadLetters(10)).toHaveLength(1);
    expect(await w.pushSink.stats()).toMatchObject({ sends: 0 });
  });
});

describe('email consumer', () => {
  it('sends to the address in the preferences with a signed one-click unsubscribe link', async () => {
    // Prepare
    const w = world({ now: NOW });
    await w.preferences.put(consenting(ALICE));
    const tokens = createUnsubscribeTokens('delivery-test-unsubscribe-secret');
    const j = emailJob({ category: 'mention', type: 'mention' });
    // Act
    const response = await consumeEmail(
      sqsEvent([j]),
      w.emailDeps({ unsubscribe: { baseUrl: 'https://notify.example.com/', tokens } }),
    );
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(w.emailCalls).toHaveLength(1);
    const [message] = w.emailCalls;
    expect(message!.to).toBe('alice@example.com');
    expect(message!.headers?.['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const link = /^<(https:\/\/notify\.example\.com\/v1\/unsubscribe\?token=[^>]+)>$/.exec(
      message!.headers?.['List-Unsubscribe'] ?? '',
    );
    expect(link).not.toBeNull();
    const url = new URL(link![1]!);
    expect(tokens.verify(url.searchParams.get('token')!)).toEqual({
      tenantId: T,
      userId: 'alice',
      category: 'mention',
    });
    expect(message!.text).toContain(`\n${link![1]}\n`);
    expect(message!.html).toContain(`href="${link![1]}"`);
    expect(await outcomes(w)).toEqual([Outcome.Sent]);
    expect(JSON.stringify(await auditRecords(w))).not.toContain('alice@example.com');
    expect(JSON.stringify(w.logger.lines)).not.toContain('alice@example.com');
  });

  it('marks the link one-click only when it is https, as RFC 8058 requires', async () => {
    // Prepare
    const w = world({ now: NOW });
    await w.preferences.put(consenting(ALICE));
    const tokens = createUnsubscribeTokens('delivery-test-unsubscribe-secret');
    // Act
    await consumeEmail(
      sqsEvent([emailJob()]),
      w.emailDeps({ unsubscribe: { baseUrl: 'http://127.0.0.1:8080', tokens } }),
    );
    // Assess: the link is there (it leads to the confirmation page), the one-click marker is not
    const headers = w.emailCalls[0]!.headers ?? {};
    expect(headers['List-Unsubscribe']).toMatch(/^<http:\/\/127\.0\.0\.1:8080\/v1\/unsubscribe\?token=/);
    expect(headers).not.toHaveProperty('List-Unsubscribe-Post');
  });

  it('sets no List-Unsubscribe header and no footer link without unsubscribe settings', async () => {
    // Prepare
    const w = world({ now: NOW });
    await w.preferences.put(consenting(ALICE));
    // Act
    await consumeEmail(sqsEvent([emailJob()]), w.emailDeps());
    // Assess
    expect(w.emailCalls).toHaveLength(1);
    expect(w.emailCalls[0]!.headers).toBeUndefined();
    expect(w.emailCalls[0]!.text).not.toContain('unsubscribe');
  });

  it('writes a French user’s email in French and an unknown locale’s in English', async () => {
    // Prepare
    const w = world({ now: NOW });
    const bob: UserKey = { tenantId: T, userId: 'bob' };
    await w.preferences.putMany([
      consenting(ALICE, { locale: 'fr-CA' }),
      consenting(bob, { locale: 'zh-Hant-TW' }),
    ]);
    // Act
    await consumeEmail(sqsEvent([emailJob(), emailJob({ userId: 'bob', actorId: 'carol' })]), w.emailDeps());
    // Assess
    const byUser = Object.fromEntries(w.emailCalls.map((m) => [m.userId, m]));
    expect(byUser.alice!.subject).toBe('bob a commenté votre publication');
    expect(byUser.alice!.html).toContain('<html lang="fr" dir="ltr">');
    expect(byUser.bob!.subject).toBe('carol commented on your post');
    expect(byUser.bob!.html).toContain('<html lang="en" dir="ltr">');
  });

  it('suppresses email without consent or without an address, and does not hold it for quiet hours', async () => {
    // Prepare
    const w = world({ now: PARIS_NIGHT });
    const bob: UserKey = { tenantId: T, userId: 'bob' };
    const carol: UserKey = { tenantId: T, userId: 'carol' };
    const quiet = { timezone: 'Europe/Paris', quietHours: { start: '22:00', end: '07:00' } };
    await w.preferences.putMany([
      consenting(ALICE, quiet),
      consenting(bob, { consent: { push: true } }),
      consenting(carol, { email: undefined }),
    ]);
    // Act
    const response = await consumeEmail(
      sqsEvent([emailJob(), emailJob({ userId: 'bob' }), emailJob({ userId: 'carol' })]),
      w.emailDeps(),
    );
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(w.emailCalls.map((m) => m.userId)).toEqual(['alice']);
    const records = await auditRecords(w);
    expect(records.map((r) => [r.userId, r.outcome]).sort()).toEqual([
      ['alice', Outcome.Sent],
      ['bob', Outcome.SuppressedNoConsent],
      ['carol', Outcome.SuppressedNoAddress],
    ]);
  });

  it('sends an email job once even when it arrives twice', async () => {
    // Prepare
    const w = world({ now: NOW });
    await w.preferences.put(consenting(ALICE));
    // Act
    await consumeEmail(sqsEvent([emailJob()]), w.emailDeps());
    await consumeEmail(sqsEvent([emailJob()]), w.emailDeps());
    // Assess
    expect(await w.emailSink.stats()).toEqual({ sends: 1, unique: 1, ambiguousResends: 0, duplicates: 0 });
    expect(await outcomes(w)).toEqual([Outcome.Sent, Outcome.Duplicate]);
  });
});

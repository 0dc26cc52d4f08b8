import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedDigestSchedule } from '../../src/adapters/embedded/digest-schedule.ts';
import { TransportRetryableError } from '../../src/domain/errors.ts';
import { notificationId } from '../../src/domain/ids.ts';
import type { DeliveryJob, UserKey } from '../../src/domain/types.ts';
import { createUnsubscribeTokens } from '../../src/domain/unsubscribe.ts';
import { consumeEmail } from '../../src/handlers/email-consumer.ts';
import { type EmailDigestDeps, sendDueDigests } from '../../src/handlers/email-digest.ts';
import { sqsEvent } from '../support/events.ts';
import { inboxRow } from '../support/rows.ts';
import { auditRecords, closeWorlds, consenting, type World, world } from '../support/world.ts';

const HOUR = 3_600_000;
/** 2026-05-01 10:20 UTC. */
const NOW = Date.UTC(2026, 4, 1, 10, 20);
const T = 'acme';
const ALICE: UserKey = { tenantId: T, userId: 'alice' };
const tokens = createUnsubscribeTokens('digest-test-secret-0123456789');
const unsubscribe = { baseUrl: 'https://api.example.com', tokens };

afterEach(closeWorlds);

function emailJob(eventId: string, extra: Partial<DeliveryJob> = {}): DeliveryJob {
  const createdAt = extra.createdAt ?? NOW - 1000;
  return {
    tenantId: T,
    userId: 'alice',
    notificationId: notificationId(eventId, 'alice', createdAt),
    channel: 'email',
    eventId,
    type: 'comment',
    category: 'social',
    actorId: 'bob',
    createdAt,
    ...extra,
  };
}

async function digestWorld(cadence: 'hourly' | 'daily' = 'hourly') {
  const w = world({ now: NOW });
  const schedule = new EmbeddedDigestSchedule({ db: w.db });
  await w.preferences.put(consenting(ALICE, { emailCadence: { social: cadence }, timezone: 'Europe/Paris' }));
  const deps = (over: Partial<EmailDigestDeps> = {}): EmailDigestDeps => ({
    schedule,
    inbox: w.inbox,
    preferences: w.preferences,
    preferenceCache: w.preferenceCache,
    dedup: w.dedup,
    email: w.emailSink,
    audit: w.audit,
    clock: w.clock,
    logger: w.logger,
    unsubscribe,
    ...over,
  });
  return { w, schedule, deps };
}

async function outcomes(w: World): Promise<string[]> {
  return (await auditRecords(w)).map((r) => `${r.outcome}:${r.reason ?? ''}`);
}

describe('email consumer with digest cadences', () => {
  it('holds an hourly-cadence email, audits it digested and schedules its period', async () => {
    // Prepare
    const { w, schedule } = await digestWorld('hourly');
    // Act
    const response = await consumeEmail(sqsEvent([emailJob('e1'), emailJob('e2')]), {
      ...w.emailDeps(),
      digests: schedule,
    });
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(w.emailCalls).toEqual([]);
    expect(await outcomes(w)).toEqual(['digested:email_digest', 'digested:email_digest']);
    const periodStart = Date.UTC(2026, 4, 1, 10);
    expect(await schedule.due(periodStart + 10 * HOUR, 10)).toEqual([
      { ...ALICE, cadence: 'hourly', periodStart, dueAt: periodStart + HOUR },
    ]);
  });

  it('sends critical and immediate categories at once', async () => {
    // Prepare
    const { w, schedule } = await digestWorld('daily');
    // Act
    await consumeEmail(
      sqsEvent([
        emailJob('e1', { category: 'critical', type: 'critical.outage' }),
        emailJob('e2', { category: 'mention', type: 'mention' }),
      ]),
      { ...w.emailDeps(), digests: schedule },
    );
    // Assess
    expect(w.emailCalls).toHaveLength(2);
    expect(await schedule.due(NOW + 48 * HOUR, 10)).toEqual([]);
  });

  it('retries the jobs, sending nothing, when the schedule cannot be written', async () => {
    // Prepare
    const { w, schedule } = await digestWorld('hourly');
    const broken = { ...schedule, add: async () => Promise.reject(new Error('disk full')) };
    // Act
    const response = await consumeEmail(sqsEvent([emailJob('e1')]), {
      ...w.emailDeps(),
      digests: broken as unknown as EmbeddedDigestSchedule,
    });
    // Assess
    expect(response.batchItemFailures).toHaveLength(1);
    expect(w.emailCalls).toEqual([]);
    expect(await outcomes(w)).toEqual([]);
  });
});

describe('sendDueDigests', () => {
  /** Defers two comments and stores their rows, plus rows the digest must leave out. */
  async function prepared(cadence: 'hourly' | 'daily' = 'hourly') {
    const ctx = await digestWorld(cadence);
    const { w, schedule } = ctx;
    const at = NOW - 1000;
    await w.inbox.putMany([
      inboxRow(ALICE, 'e1', at),
      inboxRow(ALICE, 'e2', at + 1, { actorId: 'carol' }),
      // Read already: not listed.
      inboxRow(ALICE, 'e3', at + 2, { read: true }),
      // Another period (the hour before): not listed.
      inboxRow(ALICE, 'e4', at - HOUR),
      // A category the user gets at once: not listed.
      inboxRow(ALICE, 'e5', at + 3, { category: 'mention', type: 'mention' }),
      // An aggregated item: three likes, one line.
      ...['dan', 'eve', 'fay'].map((actor, i) =>
        inboxRow(ALICE, `like-${actor}`, at + 10 + i, {
          type: 'like',
          actorId: actor,
          objectId: 'p1',
          groupKey: 'like\u001fp1',
        }),
      ),
    ]);
    await consumeEmail(sqsEvent([emailJob('e1'), emailJob('e2', { actorId: 'carol' })]), {
      ...w.emailDeps(),
      digests: schedule,
    });
    return ctx;
  }

  it('sends nothing before the period ends', async () => {
    // Prepare
    const { w, deps } = await prepared();
    // Act
    const result = await sendDueDigests(deps());
    // Assess
    expect(result.due).toBe(0);
    expect(w.emailCalls).toEqual([]);
  });

  it('lists exactly the unread items of the period, an aggregated one as one line, with the unsubscribe link', async () => {
    // Prepare
    const { w, deps } = await prepared();
    w.clock.set(Date.UTC(2026, 4, 1, 11));
    // Act
    const result = await sendDueDigests(deps());
    // Assess
    expect(result).toMatchObject({ due: 1, sent: 1 });
    expect(w.emailCalls).toHaveLength(1);
    const mail = w.emailCalls[0]!;
    expect(mail.to).toBe('alice@example.com');
    expect(mail.subject).toBe('3 new notifications');
    expect(mail.text).toContain('- fay, eve, and dan liked your post\n');
    expect(mail.text).toContain('- carol commented on your post\n');
    expect(mail.text).toContain('- bob commented on your post\n');
    expect(mail.text.match(/^- /gm)).toHaveLength(3);
    expect(mail.html).toContain('<li style="margin:0 0 8px;">fay, eve, and dan liked your post</li>');
    const link = mail.headers?.['List-Unsubscribe']?.slice(1, -1);
    expect(link).toMatch(/^https:\/\/api\.example\.com\/v1\/unsubscribe\?token=/);
    expect(mail.headers?.['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(tokens.verify(new URL(link!).searchParams.get('token')!)).toEqual({
      ...ALICE,
      category: 'social',
    });
    expect(mail.text).toContain(link);
    const sent = (await auditRecords(w)).at(-1)!;
    expect(sent).toMatchObject({ outcome: 'sent', reason: 'email_digest', items: 3, channel: 'email' });
  });

  it('sends one email however often it runs', async () => {
    // Prepare
    const { w, schedule, deps } = await prepared();
    w.clock.set(Date.UTC(2026, 4, 1, 11));
    // Act
    await sendDueDigests(deps());
    await sendDueDigests(deps());
    // The period's entry added again later (a job read late) finds the digest decided.
    await schedule.add([
      { ...ALICE, cadence: 'hourly', periodStart: Date.UTC(2026, 4, 1, 10), dueAt: Date.UTC(2026, 4, 1, 11) },
    ]);
    const again = await sendDueDigests(deps());
    // Assess
    expect(w.emailCalls).toHaveLength(1);
    expect(again).toMatchObject({ due: 1, duplicate: 1 });
    expect(await schedule.due(w.clock.now(), 10)).toEqual([]);
  });

  it('re-sends with the same Message-ID, marked ambiguous, after a send whose answer was lost', async () => {
    // Prepare
    const { w, deps } = await prepared();
    w.clock.set(Date.UTC(2026, 4, 1, 11));
    w.emailFault = () => new TransportRetryableError('timeout', { ambiguous: true });
    await sendDueDigests(deps({ leaseMs: 60_000 }));
    w.emailFault = undefined;
    // Act: the claim is busy until its lease ends, then stale.
    const busy = await sendDueDigests(deps({ leaseMs: 60_000 }));
    w.clock.advance(60_001);
    const retried = await sendDueDigests(deps({ leaseMs: 60_000 }));
    // Assess
    expect(busy).toMatchObject({ retry: 1, sent: 0 });
    expect(retried).toMatchObject({ sent: 1 });
    expect(w.emailCalls).toHaveLength(2);
    expect(w.emailCalls[1]!.messageId).toBe(w.emailCalls[0]!.messageId);
    expect(w.emailCalls[1]!.ambiguousRetry).toBe(true);
    const records = await auditRecords(w);
    expect(records.slice(-2).map((r) => [r.outcome, r.ambiguous ?? false])).toEqual([
      ['unknown', false],
      ['sent', true],
    ]);
  });

  it('gives the claim back when a read fails before the send: the next run is no ambiguous re-send', async () => {
    // Prepare: the inbox cannot be read on the first run
    const { w, deps } = await prepared();
    w.clock.set(Date.UTC(2026, 4, 1, 11));
    const failing = { ...deps(), inbox: { ...w.inbox, page: async () => Promise.reject(new Error('io')) } };
    // Act
    const first = await sendDueDigests(failing as never);
    const second = await sendDueDigests(deps());
    // Assess
    expect(first).toMatchObject({ retry: 1, sent: 0 });
    expect(second).toMatchObject({ sent: 1 });
    expect(w.emailCalls).toHaveLength(1);
    expect(w.emailCalls[0]!.ambiguousRetry).toBeUndefined();
  });

  it('sends nothing, audited skipped, when nothing of the period is unread', async () => {
    // Prepare
    const { w, deps } = await prepared();
    await w.inbox.markAllRead(ALICE, notificationId('zzz', 'alice', NOW + HOUR));
    w.clock.set(Date.UTC(2026, 4, 1, 11));
    // Act
    const result = await sendDueDigests(deps());
    // Assess
    expect(result).toMatchObject({ due: 1, skipped: 1, sent: 0 });
    expect(w.emailCalls).toEqual([]);
    expect((await auditRecords(w)).at(-1)).toMatchObject({
      outcome: 'skipped',
      reason: 'nothing_unread',
      items: 0,
    });
  });

  it('sends nothing to a user who turned email off since the emails were held', async () => {
    // Prepare
    const { w, deps } = await prepared();
    await w.preferences.put(
      consenting(ALICE, { emailCadence: { social: 'hourly' }, channels: { email: false }, updatedAt: 2 }),
    );
    await w.preferenceCache.invalidate([ALICE]);
    w.clock.set(Date.UTC(2026, 4, 1, 11));
    // Act
    const result = await sendDueDigests(deps());
    // Assess
    expect(result).toMatchObject({ skipped: 1 });
    expect(w.emailCalls).toEqual([]);
    expect((await auditRecords(w)).at(-1)).toMatchObject({ outcome: 'skipped', reason: 'channel_off' });
  });

  it('writes the digest in the user’s locale with its plural forms', async () => {
    // Prepare
    const { w, deps } = await prepared();
    await w.preferences.put(
      consenting(ALICE, { emailCadence: { social: 'hourly' }, locale: 'fr', updatedAt: 2 }),
    );
    await w.preferenceCache.invalidate([ALICE]);
    w.clock.set(Date.UTC(2026, 4, 1, 11));
    // Act
    await sendDueDigests(deps());
    // Assess
    expect(w.emailCalls[0]!.subject).toBe('3\u00a0nouvelles notifications');
    expect(w.emailCalls[0]!.html).toContain('lang="fr"');
  });

  it('sends the daily digest at the user’s local hour', async () => {
    // Prepare: Paris is UTC+2 in May; the default digest hour is 09:00 local.
    const { w, deps } = await prepared('daily');
    w.clock.set(Date.UTC(2026, 4, 2, 6, 59));
    const early = await sendDueDigests(deps());
    w.clock.set(Date.UTC(2026, 4, 2, 7));
    // Act
    const due = await sendDueDigests(deps());
    // Assess
    expect(early.due).toBe(0);
    expect(due).toMatchObject({ sent: 1 });
    // The daily period runs from 09:00 the day before: the item of the hour before counts too.
    expect(w.emailCalls[0]!.subject).toBe('4 new notifications');
    expect(w.emailCalls[0]!.text).toContain('daily digest');
  });
});

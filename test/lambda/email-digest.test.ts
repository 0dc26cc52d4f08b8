import type { ScheduledEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { digestEntry, digestPeriod } from '../../src/domain/email-digest.ts';
import { createEmailDigestHandler, DIGESTS_PER_RUN } from '../../src/lambda/email-digest.ts';
import { FunctionKind } from '../../src/lambda/env.ts';
import { inboxRow } from '../support/rows.ts';
import { consenting } from '../support/world.ts';
import {
  captureOutput,
  FIXTURE_NOW,
  harnessesClosedAfterEach,
  lambdaContext,
  metricValues,
} from './support.ts';

const harness = harnessesClosedAfterEach();

const SCHEDULED: ScheduledEvent = {
  version: '0',
  id: '7bf73129-1428-4cd3-a780-95db273d1602',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-01-15T13:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/fanout-email-digest'],
  detail: {},
};
const ANA = { tenantId: 'acme', userId: 'ana' };

describe('email digest Lambda (EventBridge schedule)', () => {
  it('sends a due digest once, with signed unsubscribe links, and counts it', async () => {
    // Prepare: an hourly digest of two unread comments, due at the end of the hour.
    const h = harness(FunctionKind.EmailDigest);
    const ports = await h.ports();
    await ports.preferences.put(consenting(ANA, { emailCadence: { social: 'hourly' } }));
    await ports.inbox.putMany([
      inboxRow(ANA, 'e1', FIXTURE_NOW + 1000),
      inboxRow(ANA, 'e2', FIXTURE_NOW + 2000, { actorId: 'carol' }),
    ]);
    const period = digestPeriod('hourly', FIXTURE_NOW + 1000, 'UTC');
    await ports.digestSchedule.add([digestEntry('acme', 'ana', period)]);
    h.clock.set(period.end);
    const handler = createEmailDigestHandler(h.deps);
    // Act
    const { result, lines } = await captureOutput(() =>
      handler(SCHEDULED, lambdaContext('fanout-email-digest')),
    );
    const { result: again } = await captureOutput(() =>
      handler(SCHEDULED, lambdaContext('fanout-email-digest')),
    );
    // Assess
    expect(result).toMatchObject({ due: 1, sent: 1 });
    expect(again).toMatchObject({ due: 0, sent: 0 });
    expect(metricValues(lines)).toMatchObject({ EmailDigestsSent: 1 });
    expect(ports.emailed).toHaveLength(1);
    expect(ports.emailed[0]).toMatchObject({ to: 'ana@example.com', subject: '2 new notifications' });
    expect(ports.emailed[0]!.headers).toMatchObject({
      'List-Unsubscribe': expect.stringMatching(/^<https:\/\/api\.fanout\.example\/v1\/unsubscribe\?token=/),
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
  });
});

describe('email digest Lambda: a backlog', () => {
  it('keeps taking rounds while a full round is due and the last one made progress', async () => {
    // Prepare: one round and a half of due digests (every user of a timezone due at once)
    const h = harness(FunctionKind.EmailDigest);
    const ports = await h.ports();
    const users = Array.from({ length: DIGESTS_PER_RUN + DIGESTS_PER_RUN / 2 }, (_, i) => ({
      tenantId: 'acme',
      userId: `u${i}`,
    }));
    const period = digestPeriod('hourly', FIXTURE_NOW + 1000, 'UTC');
    for (const user of users) {
      await ports.preferences.put(consenting(user, { emailCadence: { social: 'hourly' } }));
      await ports.inbox.putMany([inboxRow(user, `e-${user.userId}`, FIXTURE_NOW + 1000)]);
    }
    await ports.digestSchedule.add(users.map((u) => digestEntry(u.tenantId, u.userId, period)));
    h.clock.set(period.end);
    const handler = createEmailDigestHandler(h.deps);
    // Act
    const { result } = await captureOutput(() => handler(SCHEDULED, lambdaContext('fanout-email-digest')));
    // Assess: both rounds in one run, each user once
    expect(result).toMatchObject({ due: users.length, sent: users.length, retry: 0 });
    expect(new Set(ports.emailed.map((m) => m.to)).size).toBe(users.length);
  }, 120_000);
});

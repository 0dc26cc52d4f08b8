import type { ScheduledEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { readAuditLog } from '../../src/adapters/embedded/audit-log.ts';
import { notificationId } from '../../src/domain/ids.ts';
import { type DeliveryJob, Outcome } from '../../src/domain/types.ts';
import { UNSEEN_DEAD_LETTER_REASON } from '../../src/handlers/dead-letter-audit.ts';
import { createDeadLetterAuditHandler } from '../../src/lambda/dead-letter-audit.ts';
import { FunctionKind } from '../../src/lambda/env.ts';
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
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-01-15T12:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/fanout-dead-letter-audit'],
  detail: {},
};

function job(userId: string, channel: 'push' | 'email'): DeliveryJob {
  return {
    tenantId: 'acme',
    userId,
    notificationId: notificationId('e1', userId, FIXTURE_NOW - 1000),
    channel,
    eventId: 'e1',
    type: 'comment',
    category: 'social',
    actorId: 'bob',
    createdAt: FIXTURE_NOW - 1000,
  };
}

describe('dead-letter audit Lambda (EventBridge schedule)', () => {
  it('audits the dead letters of both channels once, keeps them, and counts them', async () => {
    // Prepare: receives spent with no consumer run, until both jobs are in their DLQs.
    const h = harness(FunctionKind.DeadLetterAudit);
    const ports = await h.ports();
    await ports.queues.push.sendBatch([job('alice', 'push')]);
    await ports.queues.email.sendBatch([job('bob', 'email')]);
    for (let i = 0; i < 5; i++) {
      for (const queue of [ports.queues.push, ports.queues.email]) {
        await queue.receive({ max: 10, visibilityTimeoutMs: 1_000 });
      }
      h.clock.advance(1_001);
    }
    const handler = createDeadLetterAuditHandler(h.deps);
    // Act
    const { result, lines } = await captureOutput(() =>
      handler(SCHEDULED, lambdaContext('fanout-dead-letter-audit')),
    );
    const { result: again } = await captureOutput(() =>
      handler(SCHEDULED, lambdaContext('fanout-dead-letter-audit')),
    );
    // Assess
    expect(result.push).toMatchObject({ seen: 1, audited: 1 });
    expect(result.email).toMatchObject({ seen: 1, audited: 1 });
    expect(again.push).toMatchObject({ audited: 0, alreadyAudited: 1 });
    expect(metricValues(lines)).toMatchObject({ DeadLettersAudited: 2 });
    const records = [];
    for await (const r of readAuditLog(ports.auditDir)) records.push(r);
    expect(records.map((r) => [r.userId, r.channel, r.outcome, r.reason]).sort()).toEqual([
      ['alice', 'push', Outcome.DeadLettered, UNSEEN_DEAD_LETTER_REASON],
      ['bob', 'email', Outcome.DeadLettered, UNSEEN_DEAD_LETTER_REASON],
    ]);
    expect(await ports.queues.push.listDeadLetters(10)).toHaveLength(1);
    expect(await ports.queues.email.listDeadLetters(10)).toHaveLength(1);
  });
});

import { describe, expect, it } from 'vitest';
import { notificationId } from '../../src/domain/ids.ts';
import type { DeliveryJob } from '../../src/domain/types.ts';
import { parseJob } from '../../src/handlers/job.ts';
import { sqsEvent } from '../support/events.ts';
import { closeWorlds, world } from '../support/world.ts';

const NOW = Date.UTC(2026, 4, 1, 12);

const grouped: DeliveryJob = {
  tenantId: 'acme',
  userId: 'owner',
  notificationId: notificationId('like-1', 'owner', NOW),
  channel: 'push',
  eventId: 'like-1',
  type: 'like',
  category: 'social',
  actorId: 'ana',
  objectId: 'post-1',
  createdAt: NOW,
  groupKey: 'like\u001fpost-1',
  digestWindowMs: 300_000,
};

function parsed(body: Record<string, unknown>): DeliveryJob | undefined {
  return parseJob(sqsEvent([{ body: JSON.stringify(body) }]).Records[0]!, 'push');
}

describe('the delivery job codec: digest fields', () => {
  it('keeps a grouped job and a flush through the queue as they were sent', async () => {
    // Prepare
    const w = world({ now: NOW });
    const flush: DeliveryJob = { ...grouped, digestFlush: 5_925_456, notBefore: NOW + 300_000 };
    // Act
    await w.queues.push.sendBatch([grouped, flush]);
    const messages = await w.queues.push.receive({ max: 10, visibilityTimeoutMs: 1000 });
    // Assess
    expect(messages.map((m) => parsed(JSON.parse(m.body)))).toEqual([grouped, flush]);
    closeWorlds();
  });

  it.each([
    ['a group with no window', { ...grouped, digestWindowMs: undefined }],
    ['a window with no group', { ...grouped, groupKey: undefined }],
    ['an empty group key', { ...grouped, groupKey: '' }],
    ['a window under a minute', { ...grouped, digestWindowMs: 59_999 }],
    ['a window over 15 minutes', { ...grouped, digestWindowMs: 900_001 }],
    ['a flush of a negative window', { ...grouped, digestFlush: -1 }],
    ['a flush of no group', { ...grouped, groupKey: undefined, digestWindowMs: undefined, digestFlush: 3 }],
  ])('treats %s as poison', (_, body) => {
    expect(parsed(JSON.parse(JSON.stringify(body)))).toBeUndefined();
  });
});

describe('the delivery job codec: withdrawals', () => {
  const withdrawal: DeliveryJob = {
    tenantId: 'acme',
    userId: 'owner',
    notificationId: notificationId('c-1', 'owner', NOW),
    channel: 'push',
    eventId: 'c-1',
    type: 'comment',
    category: 'social',
    actorId: 'ana',
    createdAt: NOW,
    withdraw: true,
  };

  it('keeps a withdrawal through the queue as it was sent', async () => {
    // Prepare
    const w = world({ now: NOW });
    // Act
    await w.queues.push.sendBatch([withdrawal]);
    const messages = await w.queues.push.receive({ max: 10, visibilityTimeoutMs: 1000 });
    // Assess
    expect(messages.map((m) => parsed(JSON.parse(m.body)))).toEqual([withdrawal]);
    closeWorlds();
  });

  it.each([
    ['withdraw other than true', { ...withdrawal, withdraw: false }],
    ['withdraw as text', { ...withdrawal, withdraw: 'yes' }],
    ['a withdrawal of a digest', { ...withdrawal, groupKey: 'like\u001fpost-1', digestWindowMs: 300_000 }],
  ])('treats %s as poison', (_, body) => {
    expect(parsed(JSON.parse(JSON.stringify(body)))).toBeUndefined();
  });

  it('treats a withdrawal on the email queue as poison', () => {
    const record = sqsEvent([{ body: JSON.stringify({ ...withdrawal, channel: 'email' }) }]).Records[0]!;
    expect(parseJob(record, 'email')).toBeUndefined();
  });
});

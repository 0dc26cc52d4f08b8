import { describe, expect, it } from 'vitest';
import { notificationId } from '../../src/domain/ids.ts';
import type { DeliveryJob, InboxRow } from '../../src/domain/types.ts';
import { FunctionKind } from '../../src/lambda/env.ts';
import { createPushConsumerHandler } from '../../src/lambda/push-consumer.ts';
import { sqsEvent } from '../support/events.ts';
import { consenting } from '../support/world.ts';
import {
  captureOutput,
  FIXTURE_ENV,
  harnessesClosedAfterEach,
  lambdaContext,
  metricValues,
} from './support.ts';

const harness = harnessesClosedAfterEach();
const GROUP = 'like\u001fpost-1';
const AT = 1_768_474_800_000;

function row(i: number): InboxRow {
  return {
    tenantId: 'acme',
    userId: 'bob',
    id: notificationId(`like-${i}`, 'bob', AT + i),
    eventId: `like-${i}`,
    type: 'like',
    category: 'social',
    actorId: `liker-${i}`,
    objectId: 'post-1',
    createdAt: AT + i,
    read: false,
    groupKey: GROUP,
  };
}

function job(r: InboxRow): DeliveryJob {
  return {
    tenantId: r.tenantId,
    userId: r.userId,
    notificationId: r.id,
    channel: 'push',
    eventId: r.eventId,
    type: r.type,
    category: r.category,
    actorId: r.actorId,
    objectId: 'post-1',
    createdAt: r.createdAt,
    groupKey: GROUP,
    digestWindowMs: 300_000,
  };
}

describe('push consumer Lambda: push digests', () => {
  it("pushes a group's likes once, showing the group read from the inbox, and digests the rest", async () => {
    // Prepare
    const h = harness(FunctionKind.PushConsumer, { env: FIXTURE_ENV });
    const ports = await h.ports();
    await ports.preferences.put(consenting({ tenantId: 'acme', userId: 'bob' }));
    await ports.devices.register({
      tenantId: 'acme',
      userId: 'bob',
      token: 'apns-bob',
      platform: 'apns',
      registeredAt: 1,
    });
    const rows = [0, 1, 2, 3].map(row);
    await ports.inbox.putMany(rows);
    const handler = createPushConsumerHandler(h.deps);
    // Act
    const { result, lines } = await captureOutput(() =>
      handler(sqsEvent(rows.map(job)), lambdaContext('fanout-push-consumer')),
    );
    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(ports.pushed.map((m) => m.body)).toEqual(['liker-3, liker-2, and 2 others liked your post']);
    expect(metricValues(lines)).toMatchObject({
      'Deliveries{channel=push,outcome=sent}': 1,
      'Deliveries{channel=push,outcome=digested}': 3,
    });
  });
});

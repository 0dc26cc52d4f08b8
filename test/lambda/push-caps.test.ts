import { describe, expect, it } from 'vitest';
import { notificationId } from '../../src/domain/ids.ts';
import type { DeliveryJob } from '../../src/domain/types.ts';
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

function job(i: number, category: DeliveryJob['category']): DeliveryJob {
  const createdAt = 1_768_474_800_000 + i;
  return {
    tenantId: 'acme',
    userId: 'bob',
    notificationId: notificationId(`evt-${i}`, 'bob', createdAt),
    channel: 'push',
    eventId: `evt-${i}`,
    type: 'like',
    category,
    actorId: 'alice',
    createdAt,
  };
}

describe('push consumer Lambda: frequency caps', () => {
  it("holds back pushes over the tenant's cap from FANOUT_FREQUENCY_CAPS, never a critical one", async () => {
    // Prepare: one push an hour for acme's users.
    const env = {
      ...FIXTURE_ENV,
      FANOUT_FREQUENCY_CAPS: '{"tenants":{"acme":{"push":{"limit":1,"windowSeconds":3600}}}}',
    };
    const h = harness(FunctionKind.PushConsumer, { env });
    const ports = await h.ports();
    await ports.preferences.put(consenting({ tenantId: 'acme', userId: 'bob' }));
    await ports.devices.register({
      tenantId: 'acme',
      userId: 'bob',
      token: 'apns-bob',
      platform: 'apns',
      registeredAt: 1,
    });
    const handler = createPushConsumerHandler(h.deps);
    const event = sqsEvent([job(1, 'social'), job(2, 'social'), job(3, 'critical'), job(4, 'content')]);
    // Act
    const { result, lines } = await captureOutput(() =>
      handler(event, lambdaContext('fanout-push-consumer')),
    );
    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(ports.pushed.map((m) => m.category)).toEqual(['social', 'critical']);
    expect(metricValues(lines)).toMatchObject({
      'Deliveries{channel=push,outcome=sent}': 2,
      'Deliveries{channel=push,outcome=suppressed_frequency_cap}': 2,
    });
  });
});

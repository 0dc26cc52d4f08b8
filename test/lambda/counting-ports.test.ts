import { describe, expect, it } from 'vitest';
import type { DeliveryJob } from '../../src/domain/types.ts';
import { countingPorts, InvocationCounters } from '../../src/lambda/powertools.ts';
import type { DeliveryQueue } from '../../src/ports/delivery-queue.ts';
import type { Ports } from '../../src/ports/ports.ts';

describe('countingPorts', () => {
  it('passes a deferred batch’s delays on to the queue it counts', async () => {
    // Prepare: a queue that records what it was asked to send
    const sent: { jobs: readonly DeliveryJob[]; opts: unknown }[] = [];
    const queue = {
      channel: 'push',
      async sendBatch(jobs: readonly DeliveryJob[], opts?: unknown) {
        sent.push({ jobs, opts });
      },
    } as unknown as DeliveryQueue;
    const ports = {
      queues: { push: queue, email: queue },
      inbox: {},
      log: {},
      audit: {},
    } as unknown as Ports;
    const counted = countingPorts(ports, new InvocationCounters());
    const job = { tenantId: 'acme', userId: 'bob', notificationId: 'n1', channel: 'push' } as DeliveryJob;
    // Act
    await counted.queues.push.sendBatch([job, job], { delaySeconds: [900, 60] });
    // Assess
    expect(sent).toEqual([{ jobs: [job, job], opts: { delaySeconds: [900, 60] } }]);
  });
});

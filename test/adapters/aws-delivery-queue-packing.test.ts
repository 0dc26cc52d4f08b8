import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createQueues } from '../../src/adapters/aws/create-queues.ts';
import { SqsDeliveryQueue } from '../../src/adapters/aws/delivery-queue.ts';
import { ValidationError } from '../../src/domain/errors.ts';
import { notificationId } from '../../src/domain/ids.ts';
import type { DeliveryJob } from '../../src/domain/types.ts';
import { parseJobs } from '../../src/handlers/job.ts';
import type { QueueMessage } from '../../src/ports/delivery-queue.ts';
import type { AwsClients } from '../../src/runtime/aws-clients.ts';
import { toSqsRecord } from '../../src/runtime/sqs-poller.ts';
import { emulatorClients, uniqueName } from '../support/aws.ts';

function job(n: number, extra: Partial<DeliveryJob> = {}): DeliveryJob {
  return {
    tenantId: 't1',
    userId: `u${n}`,
    notificationId: notificationId(`e${n}`, `u${n}`, 1_700_000_000_000),
    channel: 'push',
    eventId: `e${n}`,
    type: 'post',
    category: 'social',
    actorId: 'alice',
    createdAt: 1_700_000_000_000,
    ...extra,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What each received message carries: its tenant attribute and the user ids of its jobs. */
function packs(messages: readonly QueueMessage[]): [string | undefined, string[]][] {
  return messages
    .map((m): [string | undefined, string[]] => {
      const body = JSON.parse(m.body) as DeliveryJob | DeliveryJob[];
      return [m.attributes.tenant_id, (Array.isArray(body) ? body : [body]).map((j) => j.userId)];
    })
    .sort((a, b) => a[1][0]!.localeCompare(b[1][0]!));
}

describe('SqsDeliveryQueue packing jobs into messages (SQS on fauxqs)', () => {
  let clients: AwsClients;
  beforeEach(() => {
    clients = emulatorClients();
  });
  afterEach(() => {
    clients.destroy();
  });

  async function makeQueue(jobsPerMessage: number) {
    const queues = await createQueues(clients.sqs, { name: uniqueName('pack'), maxReceiveCount: 4 });
    return new SqsDeliveryQueue({
      sqs: clients.sqs,
      channel: 'push',
      queueUrl: queues.queueUrl,
      deadLetterQueueUrl: queues.deadLetterQueueUrl,
      jobsPerMessage,
    });
  }

  it('packs up to jobsPerMessage jobs of one tenant and one delay per message, in order', async () => {
    // Prepare
    const queue = await makeQueue(3);
    const jobs = [
      ...[1, 2, 3, 4, 5, 6, 7].map((n) => job(n)),
      job(8, { tenantId: 't2' }),
      job(9, { tenantId: 't2' }),
    ];
    // Act
    await queue.sendBatch(jobs);
    const messages = await queue.receive({ max: 20, visibilityTimeoutMs: 30_000 });
    // Assess
    expect(packs(messages)).toEqual([
      ['t1', ['u1', 'u2', 'u3']],
      ['t1', ['u4', 'u5', 'u6']],
      ['t1', ['u7']],
      ['t2', ['u8', 'u9']],
    ]);
    // Every job comes back through the consumers' reader, each under an id of its own.
    const parts = messages.flatMap((m) => parseJobs(toSqsRecord(m, 'arn:aws:sqs:local:0:pack'), 'push'));
    expect(parts.map((p) => p.job?.userId).sort()).toEqual(jobs.map((j) => j.userId).sort());
    expect(new Set(parts.map((p) => p.id)).size).toBe(jobs.length);
  });

  it('never packs jobs of different delays together: each keeps its own', async () => {
    // Prepare
    const queue = await makeQueue(10);
    // Act
    await queue.sendBatch([job(1), job(2), job(3)], { delaySeconds: [0, 1, 0] });
    const now = await queue.receive({ max: 10, visibilityTimeoutMs: 30_000 });
    await sleep(1_100);
    const later = await queue.receive({ max: 10, visibilityTimeoutMs: 30_000 });
    // Assess
    expect(packs(now)).toEqual([['t1', ['u1', 'u3']]]);
    expect(packs(later)).toEqual([['t1', ['u2']]]);
  });

  it('sends a job too large to share a message alone, and starts a new pack after it', async () => {
    // Prepare
    const queue = await makeQueue(10);
    const large = job(2, { data: { text: 'x'.repeat(61 * 1024) } });
    // Act
    await queue.sendBatch([job(1), large, job(3)]);
    const messages = await queue.receive({ max: 10, visibilityTimeoutMs: 30_000 });
    // Assess
    expect(packs(messages)).toEqual([
      ['t1', ['u1']],
      ['t1', ['u2']],
      ['t1', ['u3']],
    ]);
  });

  it.each([0, 101, 1.5])('refuses jobsPerMessage %s', (jobsPerMessage) => {
    expect(
      () =>
        new SqsDeliveryQueue({
          sqs: clients.sqs,
          channel: 'push',
          queueUrl: 'http://localhost/q',
          deadLetterQueueUrl: 'http://localhost/dlq',
          jobsPerMessage,
        }),
    ).toThrow(ValidationError);
  });
});

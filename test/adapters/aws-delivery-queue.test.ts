import { GetQueueAttributesCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { buildApp } from 'fauxqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createQueues } from '../../src/adapters/aws/create-queues.ts';
import { SqsDeliveryQueue } from '../../src/adapters/aws/delivery-queue.ts';
import { StoreUnavailableError, ValidationError } from '../../src/domain/errors.ts';
import type { DeliveryJob } from '../../src/domain/types.ts';
import { type AwsClients, createAwsClients } from '../../src/runtime/aws-clients.ts';
import { deliveryQueueContract, type QueueClock } from '../contracts/delivery-queue.contract.ts';
import { emulatorClients, uniqueName } from '../support/aws.ts';

/**
 * The contract's timings (visibility timeouts of 5-10 s, a 60-run interleaving property that
 * waits seconds per step) are far beyond real waits within a test's time limit. So the contract
 * runs against a fauxqs started in this worker, whose clock is the worker's `Date`: the harness
 * fakes only `Date` and steps it, as the embedded harness steps its clock. fauxqs evaluates
 * timeouts and delays lazily (on a receive); stepping the clock therefore also runs its timers,
 * as SQS's own servers do continuously. The adapter talks HTTP to it like to any SQS.
 * Separate tests below run against the shared emulator with real waits of about a second.
 */

interface FauxqsStores {
  readonly sqsStore: { host: string; processAllTimers(): void; shutdown(): void };
  readonly snsStore: object;
  readonly s3Store: object;
}

const FAUXQS_DIST = new URL('../../node_modules/fauxqs/dist/', import.meta.url);

async function fauxqsStores(): Promise<FauxqsStores> {
  // fauxqs exports only its app; its stores are reached by file so the harness can run timers.
  const load = async (path: string, name: string) =>
    ((await import(new URL(path, FAUXQS_DIST).href)) as Record<string, new () => object>)[name]!;
  const [SqsStore, SnsStore, S3Store] = await Promise.all([
    load('sqs/sqsStore.js', 'SqsStore'),
    load('sns/snsStore.js', 'SnsStore'),
    load('s3/s3Store.js', 'S3Store'),
  ]);
  const sqsStore = new SqsStore() as FauxqsStores['sqsStore'];
  // Queue URLs on the host the request came to (127.0.0.1:port), not sqs.<region>.localhost.
  sqsStore.host = '';
  return { sqsStore, snsStore: new SnsStore(), s3Store: new S3Store() };
}

let local: { sqs: SQSClient; stores: FauxqsStores; close(): Promise<void> };
/** Harnesses alive right now: `Date` is fake while any is. */
let fakeDateUsers = 0;

beforeAll(async () => {
  const stores = await fauxqsStores();
  const app = buildApp({ logger: false, stores } as unknown as Parameters<typeof buildApp>[0]);
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const clients = createAwsClients({
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    endpoints: { sqs: address },
  });
  local = {
    sqs: clients.sqs,
    stores,
    close: async () => {
      clients.destroy();
      stores.sqsStore.shutdown();
      await app.close();
    },
  };
});

afterAll(async () => {
  await local?.close();
});

/** A clock that is the worker's (fake) `Date`, stepped by the suite. */
function steppedClock(): QueueClock {
  return {
    now: () => Date.now(),
    advance: async (ms) => {
      vi.setSystemTime(Date.now() + ms);
      local.stores.sqsStore.processAllTimers();
    },
  };
}

async function harness(maxReceiveCount: number) {
  if (fakeDateUsers++ === 0) vi.useFakeTimers({ toFake: ['Date'] });
  const queues = await createQueues(local.sqs, {
    name: uniqueName('push'),
    maxReceiveCount,
    visibilityTimeoutSeconds: 30,
  });
  return {
    queue: new SqsDeliveryQueue({
      sqs: local.sqs,
      channel: 'push',
      queueUrl: queues.queueUrl,
      deadLetterQueueUrl: queues.deadLetterQueueUrl,
    }),
    maxReceiveCount,
    clock: steppedClock(),
    deadLettersOnReceive: true,
    close: async () => {
      if (--fakeDateUsers === 0) vi.useRealTimers();
    },
  };
}

deliveryQueueContract('aws (SQS on fauxqs)', () => harness(4));
deliveryQueueContract('aws (SQS on fauxqs), one retry before the dead-letter queue', () => harness(2));

function job(n: number, extra: Partial<DeliveryJob> = {}): DeliveryJob {
  return {
    tenantId: 't1',
    userId: `u${n}`,
    notificationId: `n${n}`,
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

describe('SqsDeliveryQueue on the shared emulator, with real waits', () => {
  let clients: AwsClients;
  beforeEach(() => {
    clients = emulatorClients();
  });
  afterEach(() => {
    clients.destroy();
  });

  async function makeQueue(maxReceiveCount = 4) {
    const queues = await createQueues(clients.sqs, { name: uniqueName('push'), maxReceiveCount });
    const queue = new SqsDeliveryQueue({
      sqs: clients.sqs,
      channel: 'push',
      queueUrl: queues.queueUrl,
      deadLetterQueueUrl: queues.deadLetterQueueUrl,
    });
    return { queue, queues };
  }

  it('creates the queue with a RedrivePolicy to its DLQ: 3 retries means maxReceiveCount 4', async () => {
    // Act
    const { queues } = await makeQueue();
    const attributes = await clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queues.queueUrl, AttributeNames: ['All'] }),
    );
    // Assess
    expect(JSON.parse(attributes.Attributes!.RedrivePolicy!)).toEqual({
      deadLetterTargetArn: queues.deadLetterQueueArn,
      maxReceiveCount: 4,
    });
    expect(attributes.Attributes!.VisibilityTimeout).toBe('180');
  });

  it('shows a message again once its one-second visibility timeout has really passed', async () => {
    // Prepare
    const { queue } = await makeQueue();
    await queue.sendBatch([job(1)]);
    const [first] = await queue.receive({ max: 1, visibilityTimeoutMs: 1 });
    // Act
    const hidden = await queue.receive({ max: 10, visibilityTimeoutMs: 1_000 });
    await sleep(1_100);
    const [again] = await queue.receive({ max: 10, visibilityTimeoutMs: 1_000 });
    // Assess
    expect(hidden).toEqual([]);
    expect(again!.messageId).toBe(first!.messageId);
    expect(again!.receiveCount).toBe(2);
  });

  it('dead-letters after maxReceiveCount receives, then lists and redrives it', async () => {
    // Prepare
    const { queue } = await makeQueue(2);
    await queue.sendBatch([job(1, { tenantId: 'tenant-b' })]);
    for (let i = 0; i < 2; i++) {
      await queue.receive({ max: 1, visibilityTimeoutMs: 1_000 });
      await sleep(1_100);
    }
    // Act
    const moving = await queue.receive({ max: 1, visibilityTimeoutMs: 1_000 });
    const dead = await queue.listDeadLetters(10);
    const depth = await queue.depth();
    const moved = await queue.redriveDeadLetters();
    const [back] = await queue.receive({ max: 1, visibilityTimeoutMs: 1_000 });
    // Assess
    expect(moving).toEqual([]);
    expect(dead.map((d) => [d.receiveCount, d.attributes.tenant_id])).toEqual([[2, 'tenant-b']]);
    expect(depth).toEqual({ visible: 0, inFlight: 0, delayed: 0, deadLettered: 1 });
    expect(moved).toBe(1);
    expect(JSON.parse(back!.body)).toEqual(job(1, { tenantId: 'tenant-b' }));
    expect(back!.receiveCount).toBe(1);
  });

  it('fills a receive of more than 10 with several ReceiveMessage calls, oldest first', async () => {
    // Prepare
    const { queue } = await makeQueue();
    await queue.sendBatch(Array.from({ length: 25 }, (_, i) => job(i)));
    // Act
    const received = await queue.receive({ max: 25, visibilityTimeoutMs: 30_000 });
    // Assess
    expect(received.map((m) => (JSON.parse(m.body) as DeliveryJob).notificationId)).toEqual(
      Array.from({ length: 25 }, (_, i) => `n${i}`),
    );
    expect(await queue.depth()).toEqual({ visible: 0, inFlight: 25, delayed: 0, deadLettered: 0 });
  });

  it('splits a batch at 256 KiB and refuses a single message over it before sending anything', async () => {
    // Prepare
    const { queue } = await makeQueue();
    const big = (n: number) => job(n, { data: { text: 'x'.repeat(100 * 1024) } });
    // Act
    await queue.sendBatch([big(1), big(2), big(3), big(4)]);
    const tooBig = queue.sendBatch([job(5), job(6, { data: { text: 'x'.repeat(300 * 1024) } })]);
    // Assess
    await expect(tooBig).rejects.toBeInstanceOf(ValidationError);
    expect((await queue.depth()).visible).toBe(4);
  });
});

describe('SqsDeliveryQueue against a mocked SQS', () => {
  const sqs = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const mock = mockClient(sqs);
  const noWait = { sleep: async () => {}, random: () => 0 };
  const queue = new SqsDeliveryQueue({
    sqs,
    channel: 'push',
    queueUrl: 'https://sqs.us-east-1.amazonaws.com/1/push',
    deadLetterQueueUrl: 'https://sqs.us-east-1.amazonaws.com/1/push-dlq',
    retry: { ...noWait, maxAttempts: 3 },
  });
  beforeEach(() => {
    mock.reset();
  });
  afterAll(() => {
    mock.restore();
    sqs.destroy();
  });

  const sentIds = (call: number) =>
    (mock.commandCalls(SendMessageBatchCommand)[call]!.args[0].input.Entries ?? []).map(
      (e) => (JSON.parse(e.MessageBody!) as DeliveryJob).notificationId,
    );

  it('sends each job as its JSON with a tenant_id attribute and the delay, 10 per call', async () => {
    // Prepare
    mock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    // Act
    await queue.sendBatch(
      Array.from({ length: 12 }, (_, i) => job(i, { tenantId: `t${i}` })),
      { delaySeconds: 5 },
    );
    // Assess
    const calls = mock.commandCalls(SendMessageBatchCommand);
    expect(calls).toHaveLength(2);
    const first = calls[0]!.args[0].input;
    expect(first.QueueUrl).toBe('https://sqs.us-east-1.amazonaws.com/1/push');
    expect(first.Entries).toHaveLength(10);
    expect(first.Entries![3]).toEqual({
      Id: '3',
      MessageBody: JSON.stringify(job(3, { tenantId: 't3' })),
      MessageAttributes: { tenant_id: { DataType: 'String', StringValue: 't3' } },
      DelaySeconds: 5,
    });
    expect(calls[1]!.args[0].input.Entries).toHaveLength(2);
  });

  it('re-sends only the entries SQS reports as Failed without a sender fault', async () => {
    // Prepare
    mock
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [{ Id: '0', MessageId: 'm0', MD5OfMessageBody: '' }],
        Failed: [
          { Id: '1', Code: 'InternalError', SenderFault: false },
          { Id: '2', Code: 'ServiceUnavailable', SenderFault: false },
        ],
      })
      .resolves({ Successful: [], Failed: [] });
    // Act
    await queue.sendBatch([job(0), job(1), job(2)]);
    // Assess
    expect(mock.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
    expect(sentIds(1)).toEqual(['n1', 'n2']);
    expect(mock.commandCalls(SendMessageBatchCommand)[1]!.args[0].input.Entries!.map((e) => e.Id)).toEqual([
      '1',
      '2',
    ]);
  });

  it('throws at once on an entry with a sender fault, which no re-send can fix', async () => {
    // Prepare
    mock.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: '0', MessageId: 'm0', MD5OfMessageBody: '' }],
      Failed: [{ Id: '1', Code: 'InvalidMessageContents', SenderFault: true }],
    });
    // Act
    const result = queue.sendBatch([job(0), job(1)]);
    // Assess
    await expect(result).rejects.toBeInstanceOf(ValidationError);
    expect(mock.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });

  it('retries a throttled call whole, then succeeds', async () => {
    // Prepare
    const throttled = Object.assign(new Error('slow down'), {
      name: 'RequestThrottled',
      $metadata: { httpStatusCode: 503 },
    });
    mock.on(SendMessageBatchCommand).rejectsOnce(throttled).resolves({ Successful: [], Failed: [] });
    // Act
    await queue.sendBatch([job(0), job(1)]);
    // Assess
    expect(mock.commandCalls(SendMessageBatchCommand)).toHaveLength(2);
    expect(sentIds(1)).toEqual(['n0', 'n1']);
  });

  it('gives up with StoreUnavailableError when entries keep failing', async () => {
    // Prepare
    mock.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false }],
    });
    // Act
    const result = queue.sendBatch([job(0)]);
    // Assess
    await expect(result).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(mock.commandCalls(SendMessageBatchCommand)).toHaveLength(3);
  });
});

import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { BatchGetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { createQueues } from '../../src/adapters/aws/create-queues.ts';
import {
  AUDIT_CONTENT_TYPE,
  CostMeter,
  countsSince,
  SQS_EXTRA_CHUNKS,
} from '../../src/runtime/local-aws/cost-meter.ts';
import { emulatorClients, freshTables, uniqueName } from '../support/aws.ts';

const clients = emulatorClients();
afterAll(() => clients.destroy());
// One meter per set of clients: its middleware is installed once.
const meter = new CostMeter();
meter.attach(clients);

describe('CostMeter', () => {
  it('bills a transactional write as DynamoDB does: 2 units per item, 1 per index entry', async () => {
    // Prepare
    const names = await freshTables(clients, ['inbox']);
    const before = meter.counts();
    const puts = Array.from({ length: 10 }, (_, i) => ({
      Put: {
        TableName: names.inbox,
        Item: { pk: 'acme#alice', sk: `s${i}`, ...(i < 4 ? { upk: 'acme#alice' } : {}) },
      },
    }));
    // Act
    await clients.documents.send(new TransactWriteCommand({ TransactItems: puts }));
    // Assess
    const spent = countsSince(meter.counts(), before);
    expect(spent.requests).toEqual({ 'dynamodb:TransactWriteItems': 1 });
    expect(spent.writeUnits).toEqual({ [names.inbox]: 20, [`${names.inbox}/unread`]: 4 });
    expect(spent.readUnits).toEqual({});
  });

  it('bills every key a BatchGetItem asks for, and at least one read per empty Query', async () => {
    // Prepare
    const names = await freshTables(clients, ['inbox']);
    const before = meter.counts();
    // Act: nothing is there to find
    await clients.documents.send(
      new BatchGetCommand({
        RequestItems: {
          [names.inbox]: {
            Keys: Array.from({ length: 10 }, (_, i) => ({ pk: 'acme#alice', sk: `s${i}` })),
            ConsistentRead: true,
          },
        },
      }),
    );
    await clients.documents.send(
      new QueryCommand({
        TableName: names.inbox,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'acme#nobody' },
        ConsistentRead: true,
      }),
    );
    await clients.documents.send(
      new QueryCommand({
        TableName: names.inbox,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'acme#nobody' },
      }),
    );
    // Assess
    const spent = countsSince(meter.counts(), before);
    expect(spent.readUnits).toEqual({ [names.inbox]: 10 + 1 + 0.5 });
  });

  it('models an audit object as the Firehose records its append would have been: packed, 5 KiB steps', async () => {
    // Prepare
    const bucket = uniqueName('audit');
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const line = `${JSON.stringify({ outcome: 'sent', reason: 'x'.repeat(300) })}\n`;
    const before = meter.counts();
    // Act: a delivery batch of 10 decisions, then one of 4,000 (2 records of at most 1,000 KiB)
    for (const lines of [10, 4000]) {
      await clients.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `audit/${lines}.jsonl`,
          Body: line.repeat(lines),
          ContentType: AUDIT_CONTENT_TYPE,
        }),
      );
    }
    await clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'other', Body: line }));
    // Assess
    const spent = countsSince(meter.counts(), before);
    const perRecord = Math.floor((1000 * 1024) / line.length);
    const steps = (lines: number) => Math.ceil((lines * line.length) / 5120);
    expect(spent.modelled).toEqual({
      'firehose:records': 1 + 2,
      'firehose:billedBytes': 5120 * (steps(10) + steps(perRecord) + steps(4000 - perRecord)),
    });
  });

  it('bills each 64 KiB of an SQS payload as a request, sent and received', async () => {
    // Prepare
    const queues = await createQueues(clients.sqs, { name: uniqueName('meter'), maxReceiveCount: 4 });
    const body = 'x'.repeat(20 * 1024);
    const before = meter.counts();
    // Act: 4 bodies of 20 KiB in one batch (80 KiB: 2 chunks), then a small one alone
    await clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queues.queueUrl,
        Entries: [0, 1, 2, 3].map((i) => ({ Id: String(i), MessageBody: body })),
      }),
    );
    await clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queues.queueUrl,
        Entries: [{ Id: '0', MessageBody: 'small' }],
      }),
    );
    const received = await clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 30,
      }),
    );
    // Assess
    const spent = countsSince(meter.counts(), before);
    const receivedBytes = (received.Messages ?? []).reduce((n, m) => n + (m.Body ?? '').length, 0);
    expect(spent.requests).toEqual({
      'sqs:SendMessageBatch': 2,
      'sqs:ReceiveMessage': 1,
      [SQS_EXTRA_CHUNKS]: 1 + Math.ceil(receivedBytes / 65_536) - 1,
    });
  });

  it('bills a write whose condition failed as a write unit, as DynamoDB does', async () => {
    // Prepare
    const names = await freshTables(clients, ['inbox']);
    const put = () =>
      clients.documents.send(
        new PutCommand({
          TableName: names.inbox,
          Item: { pk: 'acme#alice', sk: 's1' },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    await put();
    const before = meter.counts();
    // Act
    const second = put();
    // Assess
    await expect(second).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    const spent = countsSince(meter.counts(), before);
    expect(spent.requests).toEqual({ 'dynamodb:PutItem': 1 });
    expect(spent.writeUnits).toEqual({ [names.inbox]: 1 });
  });
});

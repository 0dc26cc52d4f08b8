import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { createQueues } from '../../adapters/aws/create-queues.ts';
import { createTables } from '../../adapters/aws/create-tables.ts';
import { awsCall } from '../../adapters/aws/errors.ts';
import { tableNames } from '../../adapters/aws/tables.ts';
import { CHANNELS, type Channel } from '../../domain/types.ts';
import { sleep } from '../../lib/sleep.ts';
import type { AwsClients } from '../aws-clients.ts';
import type { AwsResources } from '../aws-ports.ts';

/** What the local profile creates, under one name prefix. */
export interface LocalResources extends AwsResources {
  /** The S3 bucket audit objects land in (Firehose's destination on AWS). */
  readonly auditBucket: string;
}

export interface ProvisionOptions {
  /** Prefix of every name, e.g. `fanout-local`. */
  readonly prefix: string;
  /** Kinesis shards. */
  readonly shards: number;
  /** Receives before the DLQ. @default 4 (three retries) */
  readonly maxReceiveCount?: number;
}

/**
 * Creates, on the emulators, what the CDK app creates on AWS: the DynamoDB tables, the Kinesis
 * stream, a queue and dead-letter queue per channel, and the audit bucket. Idempotent: a second
 * run on the same emulators re-uses what exists.
 */
export async function provisionLocal(clients: AwsClients, opts: ProvisionOptions): Promise<LocalResources> {
  const tables = tableNames(opts.prefix);
  const streamName = `${opts.prefix}-events`;
  const auditBucket = `${opts.prefix}-audit`;
  const [, , queues] = await Promise.all([
    createTables(clients.dynamodb, tables),
    createStream(clients.kinesis, streamName, opts.shards),
    Promise.all(
      CHANNELS.map(async (channel) => {
        const made = await createQueues(clients.sqs, {
          name: `${opts.prefix}-${channel}`,
          maxReceiveCount: opts.maxReceiveCount ?? 4,
        });
        return [channel, { url: made.queueUrl, deadLetterUrl: made.deadLetterQueueUrl }] as const;
      }),
    ),
    createBucket(clients.s3, auditBucket),
  ]);
  return {
    tables,
    streamName,
    queues: Object.fromEntries(queues) as Record<Channel, { url: string; deadLetterUrl: string }>,
    auditBucket,
  };
}

async function createStream(kinesis: KinesisClient, name: string, shards: number): Promise<void> {
  try {
    await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  } catch (err) {
    if ((err as { name?: string }).name !== 'ResourceInUseException') throw err;
  }
  for (let i = 0; i < 200; i++) {
    const summary = await awsCall('DescribeStreamSummary', () =>
      kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name })),
    );
    if (summary.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await sleep(50);
  }
  throw new Error(`stream ${name} did not become ACTIVE`);
}

async function createBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const name = (err as { name?: string }).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
  }
}

import { createHash } from 'node:crypto';
import type {
  DynamoDBRecord,
  DynamoDBStreamEvent,
  KinesisStreamEvent,
  KinesisStreamRecord,
  SQSEvent,
  SQSRecord,
} from 'aws-lambda';
import { authorPartition } from '../../src/domain/keys.ts';
import type { AuthorEvent, DeliveryJob } from '../../src/domain/types.ts';

/**
 * Builders of the AWS-shaped events the handlers take, as Lambda's event-source mappings build
 * them. Tests write only what matters to them; the rest is filled in the way AWS fills it.
 */

/** One Kinesis record: an event (serialised as the log stores it) or raw bytes (poison). */
export interface KinesisInput {
  readonly event?: AuthorEvent;
  readonly raw?: Uint8Array | string;
  readonly sequenceNumber?: string;
  readonly partitionKey?: string;
}

/** A batch from shard `shardId`; sequence numbers increase in the order given unless set. */
export function kinesisEvent(inputs: readonly KinesisInput[], shardId = 'shard-000'): KinesisStreamEvent {
  return { Records: inputs.map((input, i) => kinesisRecord(input, i + 1, shardId)) };
}

/** Sequence numbers of one fixed width, so they order as strings do (as the log's do). */
export function sequence(n: number): string {
  return String(n).padStart(20, '0');
}

function kinesisRecord(input: KinesisInput, n: number, shardId: string): KinesisStreamRecord {
  const sequenceNumber = input.sequenceNumber ?? sequence(n);
  const bytes =
    input.raw !== undefined
      ? Buffer.from(input.raw)
      : Buffer.from(JSON.stringify(input.event ?? missing('event or raw')), 'utf8');
  const partitionKey =
    input.partitionKey ??
    (input.event ? authorPartition(input.event.tenantId, input.event.actorId) : 'poison');
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey,
      sequenceNumber,
      data: bytes.toString('base64'),
      approximateArrivalTimestamp: 1_700_000_000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::000000000000:role/fanout-test',
    awsRegion: 'local',
    eventSourceARN: 'arn:aws:kinesis:local:000000000000:stream/fanout-events',
  };
}

/** One SQS record: a job or a raw body (poison), received `receiveCount` times. */
export interface SqsInput {
  readonly job?: DeliveryJob;
  readonly body?: string;
  /** @default 1 */
  readonly receiveCount?: number;
  readonly messageId?: string;
  /** @default the job's tenant */
  readonly tenantAttribute?: string;
}

let messageCounter = 0;

export function sqsEvent(inputs: readonly (SqsInput | DeliveryJob)[]): SQSEvent {
  return { Records: inputs.map((input) => sqsRecord(isJob(input) ? { job: input } : input)) };
}

function isJob(input: SqsInput | DeliveryJob): input is DeliveryJob {
  return 'notificationId' in input;
}

function sqsRecord(input: SqsInput): SQSRecord {
  const body = input.body ?? JSON.stringify(input.job ?? missing('job or body'));
  const messageId = input.messageId ?? `msg-${++messageCounter}`;
  const tenant = input.tenantAttribute ?? input.job?.tenantId;
  return {
    messageId,
    receiptHandle: `${messageId}-receipt-${input.receiveCount ?? 1}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(input.receiveCount ?? 1),
      SentTimestamp: '1700000000000',
      SenderId: 'fanout-test',
      ApproximateFirstReceiveTimestamp: '1700000000000',
    },
    messageAttributes:
      tenant === undefined
        ? {}
        : {
            tenant_id: {
              stringValue: tenant,
              dataType: 'String',
              stringListValues: [],
              binaryListValues: [],
            },
          },
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:local:000000000000:fanout-push',
    awsRegion: 'local',
  };
}

/** One DynamoDB Streams record of the preference table. `pk` undefined: a record without keys. */
export interface StreamInput {
  readonly pk?: string;
  readonly eventName?: string;
  readonly sequenceNumber: string;
}

export function dynamoStreamEvent(inputs: readonly StreamInput[]): DynamoDBStreamEvent {
  return {
    Records: inputs.map(
      (input): DynamoDBRecord => ({
        eventID: `event-${input.sequenceNumber}`,
        // DynamoDB Local names TTL deletions in ways the type does not list.
        eventName: (input.eventName ?? 'MODIFY') as DynamoDBRecord['eventName'],
        eventVersion: '1.1',
        eventSource: 'aws:dynamodb',
        awsRegion: 'local',
        dynamodb: {
          ApproximateCreationDateTime: 1_700_000_000,
          ...(input.pk === undefined ? {} : { Keys: { pk: { S: input.pk } } }),
          SequenceNumber: input.sequenceNumber,
          SizeBytes: 0,
          StreamViewType: 'KEYS_ONLY',
        },
        eventSourceARN: 'arn:aws:dynamodb:local:000000000000:table/fanout-preferences/stream/test',
      }),
    ),
  };
}

function missing(what: string): never {
  throw new Error(`fixture needs ${what}`);
}

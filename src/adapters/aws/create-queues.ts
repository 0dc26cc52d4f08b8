import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { requireInteger, requireText } from '../checks/input.ts';
import { awsCall } from './errors.ts';
import { MAX_VISIBILITY_TIMEOUT_MS } from './sqs-messages.ts';

/** What `createQueues` made. */
export interface CreatedQueues {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly deadLetterQueueUrl: string;
  readonly deadLetterQueueArn: string;
}

/** Options of `createQueues`. */
export interface CreateQueuesOptions {
  /** The source queue's name; the dead-letter queue is `${name}-dlq`. */
  readonly name: string;
  /**
   * Receives before SQS moves a message to the dead-letter queue: one try plus the retries, as
   * the embedded queue counts it. @default 4 (three retries)
   */
  readonly maxReceiveCount?: number;
  /** The queue's default visibility timeout; receives pass their own. @default 180 (a 30 s consumer × 6) */
  readonly visibilityTimeoutSeconds?: number;
}

/**
 * Creates a delivery queue and its dead-letter queue with a RedrivePolicy, for the local-aws
 * profile and the tests (on AWS the CDK app owns the queues). CreateQueue is idempotent for the
 * same attributes, so a restart re-uses both. Three requests for the DLQ (create, read its ARN)
 * and the queue, plus one for the queue's ARN.
 */
export async function createQueues(sqs: SQSClient, opts: CreateQueuesOptions): Promise<CreatedQueues> {
  requireText(opts?.name, 'name');
  const maxReceiveCount = opts.maxReceiveCount ?? 4;
  requireInteger(maxReceiveCount, 'maxReceiveCount', 1, 1000);
  const visibility = opts.visibilityTimeoutSeconds ?? 180;
  requireInteger(visibility, 'visibilityTimeoutSeconds', 0, MAX_VISIBILITY_TIMEOUT_MS / 1000);
  // 14 days, SQS's maximum: a dead letter waits for an operator, and SQS keeps a moved message
  // only until its ORIGINAL enqueue time plus the DLQ's retention.
  const retention = String(14 * 24 * 60 * 60);
  const dlq = await awsCall('delivery queue CreateQueue (DLQ)', () =>
    sqs.send(
      new CreateQueueCommand({
        QueueName: `${opts.name}-dlq`,
        Attributes: { MessageRetentionPeriod: retention },
      }),
    ),
  );
  const deadLetterQueueUrl = dlq.QueueUrl!;
  const deadLetterQueueArn = await queueArn(sqs, deadLetterQueueUrl);
  const queue = await awsCall('delivery queue CreateQueue', () =>
    sqs.send(
      new CreateQueueCommand({
        QueueName: opts.name,
        Attributes: {
          VisibilityTimeout: String(visibility),
          MessageRetentionPeriod: String(4 * 24 * 60 * 60),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterQueueArn, maxReceiveCount }),
        },
      }),
    ),
  );
  const queueUrl = queue.QueueUrl!;
  return { queueUrl, queueArn: await queueArn(sqs, queueUrl), deadLetterQueueUrl, deadLetterQueueArn };
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const out = await awsCall('delivery queue GetQueueAttributes', () =>
    sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] })),
  );
  return out.Attributes!.QueueArn!;
}

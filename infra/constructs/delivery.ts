import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CHANNELS, type Channel } from '../../src/domain/types.ts';
import { FanoutFunction } from './fanout-function.ts';

/**
 * Receives before a delivery job is dead-lettered: one try and three retries.
 *
 * AWS advises a `maxReceiveCount` of at least 5 on a queue a Lambda function consumes, so that
 * receives the function throttles (the poller received the message, the function had no room for
 * it) do not push a healthy message into the DLQ. We use 4: the consumers' event-source
 * `maxConcurrency` is the rate control, and it keeps the pollers from receiving more than the
 * consumers may run, so throttled receives are rare (they need the account's concurrency to run
 * out); a fifth receive would add another visibility-timeout wait to every failing job. The consumers read the same number from
 * `FANOUT_MAX_RECEIVE_COUNT` and audit a job's last receive as dead-lettered
 * (`docs/lambda.md`), so the two must agree: this construct sets the variable from the value it
 * puts in the redrive policy.
 */
export const DEFAULT_MAX_RECEIVE_COUNT = 4;

/** The Lambda entry file (under `src/lambda`) of each channel's consumer. */
const CONSUMER_ENTRY: Readonly<Record<Channel, string>> = {
  push: 'push-consumer',
  email: 'email-consumer',
};

/** The environment variables of each channel's queue and dead-letter queue (`docs/lambda.md`). */
const QUEUE_VARIABLES: Readonly<Record<Channel, { readonly queue: string; readonly dlq: string }>> = {
  push: { queue: 'FANOUT_PUSH_QUEUE_URL', dlq: 'FANOUT_PUSH_DLQ_URL' },
  email: { queue: 'FANOUT_EMAIL_QUEUE_URL', dlq: 'FANOUT_EMAIL_DLQ_URL' },
};

/** Default event-source `maxConcurrency` per channel: how many consumers run at most. */
const DEFAULT_MAX_CONCURRENCY: Readonly<Record<Channel, number>> = { push: 50, email: 20 };

export interface FanoutDeliveryProps {
  /**
   * The VPC the consumers run in: they reach ElastiCache (preference cache) and MemoryDB (dedup
   * store), which live only in it.
   */
  readonly vpc: ec2.IVpc;
  /**
   * Security groups of the consumers (the ones the Redis clusters admit).
   * @default what `FanoutFunction` does without them (a new security group per function)
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Subnets of the consumers' network interfaces.
   * @default what `FanoutFunction` does without them (the VPC's private subnets)
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Other subnets for one channel's consumer (the push consumer's, with a route out, for direct
   * push).
   * @default vpcSubnets
   */
  readonly channelSubnets?: Readonly<Partial<Record<Channel, ec2.SubnetSelection>>>;
  /**
   * Customer-managed key of the queues and dead-letter queues. The consumers' grants on it are
   * made here; producers outside the construct (the fan-out function) get theirs from the stack.
   * @default SQS-managed server-side encryption (SSE-SQS)
   */
  readonly key?: kms.IKey;
  /**
   * Environment shared by both consumers: table names, event stream, audit stream, Redis URLs …
   * (`docs/lambda.md`). The queue variables and `FANOUT_MAX_RECEIVE_COUNT` are set by this
   * construct, over any given here.
   * @default no further variables
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Environment of one channel's consumer only (`FANOUT_SES_FROM` for email, the SNS platform
   * application ARNs for push), merged over `environment`.
   * @default no per-channel variables
   */
  readonly channelEnvironment?: Readonly<Partial<Record<Channel, Readonly<Record<string, string>>>>>;
  /**
   * Timeout of each consumer function. Each queue's visibility timeout is six times it, as AWS
   * advises for queues consumed by Lambda (a batch can be retried on throttling while a message is
   * in flight).
   * @default Duration.seconds(30)
   */
  readonly consumerTimeout?: Duration;
  /**
   * Memory of each consumer function, MB.
   * @default the FanoutFunction default (1024)
   */
  readonly consumerMemorySize?: number;
  /**
   * Messages per consumer invocation (1–10 without a batching window, up to 10,000 with one).
   * Larger batches share an invocation's fixed waits among more jobs (the lowest-cost
   * configuration takes 100); a batch must still finish within `consumerTimeout`.
   * @default 10
   */
  readonly batchSize?: number;
  /**
   * How long the poller gathers messages before invoking a consumer with a batch that is not full.
   * @default Duration.seconds(1)
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Most concurrent consumer invocations per channel (2–1000): the delivery rate control, which
   * protects Redis, SNS and SES. Unlike reserved concurrency it does not throttle received
   * messages back to the queue, which is what lets the redrive count stay at 4.
   * @default { push: 50, email: 20 }
   */
  readonly maxConcurrency?: Readonly<Partial<Record<Channel, number>>>;
  /**
   * Receives before a job moves to the dead-letter queue (1–1000); also given to the consumers as
   * `FANOUT_MAX_RECEIVE_COUNT`. See {@link DEFAULT_MAX_RECEIVE_COUNT} for why 4 and not AWS's ≥ 5.
   * @default 4 (one try, three retries)
   */
  readonly maxReceiveCount?: number;
  /**
   * Delivery jobs packed into one SQS message by the functions that send them (1–100), given to
   * every function as `FANOUT_JOBS_PER_MESSAGE`. SQS bills per request: ten jobs a message cost a
   * tenth of the sends, receives and deletes, and a consumer batch of `batchSize` messages holds
   * up to `batchSize` × this many jobs. The unit of retry is the message (dedup keeps a retried
   * sibling from being sent twice). The consumers read any count, whatever this says.
   * @default 10
   */
  readonly jobsPerMessage?: number;
  /**
   * What happens to the queues and dead-letter queues when they leave the stack. Jobs in them are
   * deliveries not yet made (or dead-lettered, waiting for a redrive), so they are kept.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The delivery stage of Fanout: per channel (push, email) an SQS Standard queue of delivery jobs,
 * its dead-letter queue, and the consumer function that drains it through an event-source mapping
 * with partial batch failures.
 *
 * Every queue is encrypted (`key`, or SSE-SQS) and refuses requests without TLS. The construct owns
 * both sides of the consumer ↔ own-queue relation, so it makes those grants itself: the event
 * source grants the consumer receive/delete (and `kms:Decrypt`), and the consumer may send to its
 * own queue (deferred deliveries, quiet hours, are re-sent with a delay), with `kms:GenerateDataKey`
 * on the key. Every other grant (the fan-out function sending jobs, tables, Redis, SNS, SES,
 * Firehose) is the stack's (`infra/grants.ts`).
 */
export class FanoutDelivery extends Construct {
  /** The delivery-job queue of each channel. */
  readonly queues: Readonly<Record<Channel, sqs.IQueue>>;
  /** The dead-letter queue of each channel. */
  readonly deadLetterQueues: Readonly<Record<Channel, sqs.IQueue>>;
  /** The consumer function of each channel. */
  readonly consumers: Readonly<Record<Channel, lambda.Function>>;
  /** The redrive policy's `maxReceiveCount` (also the consumers' `FANOUT_MAX_RECEIVE_COUNT`). */
  readonly maxReceiveCount: number;
  /**
   * The queue variables every Fanout function needs (`FANOUT_{PUSH,EMAIL}_QUEUE_URL`,
   * `FANOUT_{PUSH,EMAIL}_DLQ_URL`), `FANOUT_MAX_RECEIVE_COUNT` and `FANOUT_JOBS_PER_MESSAGE`, for the stack to give to the
   * functions outside this construct.
   */
  readonly environment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: FanoutDeliveryProps) {
    super(scope, id);

    const consumerTimeout = props.consumerTimeout ?? Duration.seconds(30);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.maxReceiveCount = props.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT;
    if (!Number.isInteger(this.maxReceiveCount) || this.maxReceiveCount < 1 || this.maxReceiveCount > 1000) {
      throw new Error(
        `FanoutDelivery: maxReceiveCount must be an integer from 1 to 1000, not ${this.maxReceiveCount}`,
      );
    }
    const jobsPerMessage = props.jobsPerMessage ?? 10;
    if (!Number.isInteger(jobsPerMessage) || jobsPerMessage < 1 || jobsPerMessage > 100) {
      throw new Error(
        `FanoutDelivery: jobsPerMessage must be an integer from 1 to 100, not ${jobsPerMessage}`,
      );
    }
    const batchSize = props.batchSize ?? 10;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
      throw new Error(`FanoutDelivery: batchSize must be an integer from 1 to 10000, not ${batchSize}`);
    }
    const memorySize = props.consumerMemorySize;
    if (
      memorySize !== undefined &&
      (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10_240)
    ) {
      throw new Error(
        `FanoutDelivery: consumerMemorySize must be an integer from 128 to 10240 MB, not ${memorySize}`,
      );
    }
    const encryption = props.key
      ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.key }
      : { encryption: sqs.QueueEncryption.SQS_MANAGED };

    const queues = {} as Record<Channel, sqs.Queue>;
    const deadLetterQueues = {} as Record<Channel, sqs.Queue>;
    for (const channel of CHANNELS) {
      const name = title(channel);
      const deadLetterQueue = new sqs.Queue(this, `${name}DeadLetterQueue`, {
        ...encryption,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        removalPolicy,
      });
      deadLetterQueues[channel] = deadLetterQueue;
      queues[channel] = new sqs.Queue(this, `${name}Queue`, {
        ...encryption,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(consumerTimeout.toSeconds() * 6),
        retentionPeriod: Duration.days(4),
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: this.maxReceiveCount },
        removalPolicy,
      });
    }
    this.queues = queues;
    this.deadLetterQueues = deadLetterQueues;

    const environment: Record<string, string> = {
      FANOUT_MAX_RECEIVE_COUNT: String(this.maxReceiveCount),
      FANOUT_JOBS_PER_MESSAGE: String(jobsPerMessage),
    };
    for (const channel of CHANNELS) {
      environment[QUEUE_VARIABLES[channel].queue] = queues[channel].queueUrl;
      environment[QUEUE_VARIABLES[channel].dlq] = deadLetterQueues[channel].queueUrl;
    }
    this.environment = environment;

    const consumers = {} as Record<Channel, lambda.Function>;
    for (const channel of CHANNELS) {
      const consumer = new FanoutFunction(this, `${title(channel)}Consumer`, {
        entry: CONSUMER_ENTRY[channel],
        environment: {
          ...props.environment,
          ...props.channelEnvironment?.[channel],
          ...environment,
        },
        vpc: props.vpc,
        securityGroups: props.securityGroups,
        vpcSubnets: props.channelSubnets?.[channel] ?? props.vpcSubnets,
        timeout: consumerTimeout,
        memorySize: props.consumerMemorySize,
      }).function;
      consumer.addEventSource(
        new SqsEventSource(queues[channel], {
          batchSize,
          maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(1),
          reportBatchItemFailures: true,
          maxConcurrency: props.maxConcurrency?.[channel] ?? DEFAULT_MAX_CONCURRENCY[channel],
        }),
      );
      // Deferred deliveries (quiet hours) go back to the consumer's own queue with a delay. Written
      // out rather than `grantSendMessages`, whose key actions (`kms:ReEncrypt*`, `kms:Encrypt`) a
      // producer does not need; `kms:Decrypt` comes with the event source.
      consumer.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'DeferToOwnQueue',
          actions: ['sqs:SendMessage'],
          resources: [queues[channel].queueArn],
        }),
      );
      if (props.key !== undefined) {
        consumer.addToRolePolicy(
          new iam.PolicyStatement({
            sid: 'EncryptDeferredJobs',
            actions: ['kms:GenerateDataKey'],
            resources: [props.key.keyArn],
          }),
        );
      }
      consumers[channel] = consumer;
    }
    this.consumers = consumers;
  }
}

function title(channel: Channel): string {
  return channel.charAt(0).toUpperCase() + channel.slice(1);
}

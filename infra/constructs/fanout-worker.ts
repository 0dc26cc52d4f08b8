import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FanoutFunction } from './fanout-function.ts';

export interface FanoutWorkerProps {
  /** The event stream (partition key `tenant#author`). */
  readonly stream: kinesis.IStream;
  /**
   * Environment of the fan-out function (docs/lambda.md).
   * @default none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /** @default not in a VPC */
  readonly vpc?: ec2.IVpc;
  /** @default the VPC's private subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** @default a new security group when `vpc` is set */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /** @default Duration.minutes(2) */
  readonly timeout?: Duration;
  /** @default 1024 */
  readonly memorySize?: number;
  /**
   * Records per invocation.
   * @default 100
   */
  readonly batchSize?: number;
  /**
   * How long to gather records before invoking.
   * @default Duration.seconds(1)
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Concurrent batches per shard (records of one partition key stay in order).
   * @default 2
   */
  readonly parallelizationFactor?: number;
  /**
   * Retries of a failing batch (after bisecting) before it goes to the failure queue.
   * @default 10
   */
  readonly retryAttempts?: number;
  /**
   * Oldest record still fanned out; older ones go to the failure queue.
   * @default Duration.days(1)
   */
  readonly maxRecordAge?: Duration;
  /**
   * Reserved concurrency of the fan-out function (shards × parallelization factor is what it uses).
   * @default no reservation
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * What happens to the failure queue and its key when they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The fan-out worker: the `fanout` function reading the event stream through an event-source
 * mapping from TRIM_HORIZON, reporting the first failed record of a batch
 * (`ReportBatchItemFailures`: the function stops there so an author's events stay in order),
 * bisecting on error, and sending the description of batches it gives up on to an encrypted SQS
 * queue (Lambda puts the shard and sequence range there, not the records).
 */
export class FanoutWorker extends Construct {
  readonly function: lambda.IFunction;
  /** Where Lambda records batches the worker gave up on. */
  readonly failureQueue: sqs.IQueue;
  readonly failureQueueKey: kms.IKey;
  /** Id of the Kinesis event-source mapping. */
  readonly eventSourceMappingId: string;

  constructor(scope: Construct, id: string, props: FanoutWorkerProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.failureQueueKey = new kms.Key(this, 'FailureQueueKey', {
      description: 'Fanout fan-out failure destination queue',
      enableKeyRotation: true,
      removalPolicy,
    });
    const failureQueue = new sqs.Queue(this, 'FailureQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.failureQueueKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    this.failureQueue = failureQueue;
    Validations.of(failureQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the on-failure destination of the fan-out event-source mapping; its messages are inspected and replayed by an operator, never consumed by a function.',
    });

    const fn = new FanoutFunction(this, 'Fanout', {
      entry: 'fanout',
      environment: { ...props.environment },
      timeout: props.timeout ?? Duration.minutes(2),
      memorySize: props.memorySize ?? 1024,
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      ...(props.vpc === undefined ? {} : { vpc: props.vpc }),
      ...(props.vpcSubnets === undefined ? {} : { vpcSubnets: props.vpcSubnets }),
      ...(props.securityGroups === undefined ? {} : { securityGroups: props.securityGroups }),
    }).function;
    this.function = fn;

    // The L2 event source grants the stream read (and its key's decrypt) and the queue send to
    // the function's role itself: those two grants are part of the mapping, not of grants.ts.
    const source = new KinesisEventSource(props.stream, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize: props.batchSize ?? 100,
      maxBatchingWindow: props.maxBatchingWindow ?? Duration.seconds(1),
      parallelizationFactor: props.parallelizationFactor ?? 2,
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      retryAttempts: props.retryAttempts ?? 10,
      maxRecordAge: props.maxRecordAge ?? Duration.days(1),
      onFailure: new SqsDlq(failureQueue),
    });
    fn.addEventSource(source);
    this.eventSourceMappingId = source.eventSourceMappingId;
  }
}

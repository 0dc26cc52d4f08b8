import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as pipes from 'aws-cdk-lib/aws-pipes';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FanoutFunction } from './fanout-function.ts';

/**
 * The stream event names the Pipe lets through: every change to a preferences item.
 *
 * These are all the event names DynamoDB Streams has, so the filter drops nothing today; it is
 * there so that what reaches the function is stated, not implied. A deletion by DynamoDB's TTL is a
 * `REMOVE` too (with `userIdentity: {type: "Service", principalId: "dynamodb.amazonaws.com"}`), so
 * it would pass and invalidate like any other removal (the function invalidates on every record with
 * a key, `docs/lambda.md`). The preferences table has no TTL attribute (`TABLES.preferences` in
 * `src/adapters/aws/tables.ts`), so such records do not occur; if one is added, nothing here needs
 * to change.
 */
export const INVALIDATING_EVENT_NAMES = ['INSERT', 'MODIFY', 'REMOVE'] as const;

export interface FanoutInvalidationProps {
  /**
   * The preferences table. It must have a stream (`TABLES.preferences.stream`, new and old images);
   * the Pipe reads that stream. When the table has a customer-managed key, the Pipe may decrypt
   * with it (stream records are encrypted with the table's key).
   */
  readonly table: dynamodb.ITable;
  /** The VPC the function runs in: it deletes entries from ElastiCache, which lives only in it. */
  readonly vpc: ec2.IVpc;
  /**
   * Security groups of the function (the one the cache cluster admits).
   * @default what `FanoutFunction` does without them (a new security group)
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * Subnets of the function's network interfaces.
   * @default what `FanoutFunction` does without them (the VPC's private subnets)
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * The function's environment: table names, event stream, queues, audit stream, Redis URLs …
   * (`docs/lambda.md`; every function builds the same ports).
   * @default no further variables
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Timeout of the function.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * Stream records per invocation (1–10,000). Each record is one cache deletion, run in parallel.
   * @default 100
   */
  readonly batchSize?: number;
  /**
   * How long the Pipe gathers records before invoking with a batch that is not full (0–300 s).
   * @default none: records are sent as soon as they are read, so a change reaches the cache fast
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Retries of a failed batch before it goes to the dead-letter queue (-1: until its records leave
   * the stream, 24 hours). Records in a shard are read in order, so a batch that keeps failing holds
   * up the shard's later invalidations; a batch given up on leaves a stale cache entry until its TTL
   * (5 minutes) runs out, and its place in the stream (shard, first and last sequence numbers) in
   * the dead-letter queue, whose alarm calls the operator.
   * @default 10
   */
  readonly maximumRetryAttempts?: number;
  /**
   * Removal policy of the dead-letter queue.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Preference-cache invalidation: the `preference-invalidation` function and the EventBridge Pipe
 * that feeds it the preferences table's stream.
 *
 * The Pipe starts at the stream's `LATEST` record (the cache entries of earlier changes expire on
 * their own), lets through `INSERT`, `MODIFY` and `REMOVE` ({@link INVALIDATING_EVENT_NAMES}), and
 * invokes the function synchronously with the batch; failed records come back as
 * `batchItemFailures`, and the Pipe bisects the batch (`AUTOMATIC_BISECT`) to retry them.
 *
 * A batch still failing after `maximumRetryAttempts` is not dropped silently: the Pipe sends a
 * description of it (the stream, shard and sequence-number range, `DDBStreamBatchInfo`) to the
 * {@link FanoutInvalidation.deadLetterQueue}, kept 14 days, on which the stack's operations put an
 * alarm (`dlq-preference-invalidation`). The records themselves are not in the message: the stream
 * keeps them 24 hours, and the operator's fix is the runbook's (docs/deploy.md).
 *
 * The construct owns both sides of the Pipe, so it owns the Pipe's role, which may read that one
 * stream (and decrypt with the table's key, if it has one), invoke that one function and send to its
 * dead-letter queue, nothing else. Whatever the function itself needs beyond that (it only deletes Redis keys) is the
 * stack's to grant (`infra/grants.ts`).
 */
export class FanoutInvalidation extends Construct {
  /** The `preference-invalidation` function. */
  readonly function: lambda.Function;
  /** The Pipe from the preferences table's stream to the function. */
  readonly pipe: pipes.CfnPipe;
  /** The role the Pipe runs with. */
  readonly pipeRole: iam.IRole;
  /** Where the Pipe sends a batch it gave up on (its place in the stream, not its records). */
  readonly deadLetterQueue: sqs.IQueue;

  constructor(scope: Construct, id: string, props: FanoutInvalidationProps) {
    super(scope, id);

    const streamArn = props.table.tableStreamArn;
    if (streamArn === undefined) {
      throw new Error(
        `FanoutInvalidation: the preferences table ${props.table.node.path} has no stream; give it one (TABLES.preferences.stream)`,
      );
    }

    this.function = new FanoutFunction(this, 'Function', {
      entry: 'preference-invalidation',
      environment: { ...props.environment },
      vpc: props.vpc,
      securityGroups: props.securityGroups,
      vpcSubnets: props.vpcSubnets,
      timeout: props.timeout,
    }).function;

    // Encrypted with an SQS-owned key, so the Pipe needs no KMS permission to send to it.
    const deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    Validations.of(deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        "This queue is itself the Pipe's dead-letter target; its messages are read by an operator (docs/deploy.md, runbook), never consumed by a function.",
    });
    this.deadLetterQueue = deadLetterQueue;

    // Inline policies, so the permissions exist when the Pipe (which depends on the role) is created.
    const stack = Stack.of(this);
    const source = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadPreferencesStream',
          actions: [
            'dynamodb:DescribeStream',
            'dynamodb:GetRecords',
            'dynamodb:GetShardIterator',
            'dynamodb:ListStreams',
          ],
          resources: [streamArn],
        }),
      ],
    });
    if (props.table.encryptionKey !== undefined) {
      source.addStatements(
        new iam.PolicyStatement({
          sid: 'DecryptPreferencesStream',
          actions: ['kms:Decrypt'],
          resources: [props.table.encryptionKey.keyArn],
        }),
      );
    }
    const target = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'InvokeInvalidation',
          actions: ['lambda:InvokeFunction'],
          resources: [this.function.functionArn],
        }),
      ],
    });
    const deadLetter = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'SendFailedBatches',
          actions: ['sqs:SendMessage'],
          resources: [deadLetterQueue.queueArn],
        }),
      ],
    });
    const role = new iam.Role(this, 'PipeRole', {
      assumedBy: new iam.ServicePrincipal('pipes.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description:
        'Fanout preference-invalidation Pipe: reads the preferences stream, invokes the function, dead-letters failed batches',
      inlinePolicies: { Source: source, Target: target, DeadLetter: deadLetter },
    });
    this.pipeRole = role;

    this.pipe = new pipes.CfnPipe(this, 'Pipe', {
      description: 'Fanout: preferences table stream to preference-cache invalidation',
      roleArn: role.roleArn,
      source: streamArn,
      sourceParameters: {
        dynamoDbStreamParameters: {
          startingPosition: 'LATEST',
          batchSize: props.batchSize ?? 100,
          ...(props.maxBatchingWindow === undefined
            ? {}
            : { maximumBatchingWindowInSeconds: props.maxBatchingWindow.toSeconds() }),
          maximumRetryAttempts: props.maximumRetryAttempts ?? 10,
          onPartialBatchItemFailure: 'AUTOMATIC_BISECT',
          deadLetterConfig: { arn: deadLetterQueue.queueArn },
        },
        filterCriteria: {
          filters: [{ pattern: JSON.stringify({ eventName: INVALIDATING_EVENT_NAMES }) }],
        },
      },
      target: this.function.functionArn,
      targetParameters: {
        // Synchronous, so the function's batchItemFailures reach the Pipe.
        lambdaFunctionParameters: { invocationType: 'REQUEST_RESPONSE' },
      },
    });
  }
}

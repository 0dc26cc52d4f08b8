import { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { FanoutFunction } from './fanout-function.ts';

/** Properties of {@link FanoutScheduledFunction}. */
export interface FanoutScheduledFunctionProps {
  /** The Lambda entry point under `src/lambda` (`dead-letter-audit`, `email-digest`). */
  readonly entry: string;
  /** The schedule rule's description: what each run does. */
  readonly description: string;
  /**
   * The function's environment: the tables, queues, the dedup Redis URL, the audit stream…
   * (`docs/lambda.md`; every function builds the same ports).
   */
  readonly environment: Readonly<Record<string, string>>;
  /** The VPC the function runs in: it claims keys in MemoryDB, which lives only in it. */
  readonly vpc: ec2.IVpc;
  /** @default what `FanoutFunction` does without them (the VPC's private subnets) */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** @default what `FanoutFunction` does without them (a new security group) */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * How often it runs: the longest its work waits (a dead letter for its audit record, a digest
   * past its due time).
   * @default Duration.minutes(1)
   */
  readonly schedule?: Duration;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
}

/**
 * A function run on a schedule by an EventBridge rule, one run at a time: the stack's dead-letter
 * audit (the `dead_lettered` record of every DLQ job without one, peeked and left for the
 * operator) and email digest sender (the hourly and daily digests that are due, one email per
 * user and period). Two runs at once would only race for the same dedup claims. Grants are the
 * stack's (`infra/grants.ts`).
 */
export class FanoutScheduledFunction extends Construct {
  readonly function: lambda.Function;
  /** The schedule. */
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: FanoutScheduledFunctionProps) {
    super(scope, id);
    this.function = new FanoutFunction(this, 'Function', {
      entry: props.entry,
      environment: { ...props.environment },
      vpc: props.vpc,
      ...(props.vpcSubnets === undefined ? {} : { vpcSubnets: props.vpcSubnets }),
      ...(props.securityGroups === undefined ? {} : { securityGroups: props.securityGroups }),
      timeout: props.timeout ?? Duration.minutes(1),
      reservedConcurrentExecutions: 1,
    }).function;
    this.rule = new events.Rule(this, 'Schedule', {
      description: props.description,
      schedule: events.Schedule.rate(props.schedule ?? Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
    });
  }
}

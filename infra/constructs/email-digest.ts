import { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { FanoutFunction } from './fanout-function.ts';

/** Properties of {@link FanoutEmailDigest}. */
export interface FanoutEmailDigestProps {
  /**
   * The function's environment: the tables, the dedup Redis URL, the audit stream, and the email
   * consumer's sender and unsubscribe settings (`docs/lambda.md`; every function builds the same
   * ports).
   */
  readonly environment: Readonly<Record<string, string>>;
  /** The VPC the function runs in: it claims keys in MemoryDB, which lives only in it. */
  readonly vpc: ec2.IVpc;
  /** @default what `FanoutFunction` does without them (the VPC's private subnets) */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** @default what `FanoutFunction` does without them (a new security group) */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * How often due digests are looked for: the longest a digest waits past its due time.
   * @default Duration.minutes(1)
   */
  readonly schedule?: Duration;
  /** @default Duration.minutes(2) */
  readonly timeout?: Duration;
}

/**
 * The email digest sender: the `email-digest` function, run on a schedule by an EventBridge rule,
 * sends the hourly and daily email digests that are due (`digestSchedule` table), one email per
 * (user, period). Its grants (the schedule table, inbox and preferences reads, SES send, the audit
 * stream) are the stack's (`infra/grants.ts`).
 */
export class FanoutEmailDigest extends Construct {
  readonly function: lambda.Function;
  /** The schedule. */
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: FanoutEmailDigestProps) {
    super(scope, id);
    this.function = new FanoutFunction(this, 'Function', {
      entry: 'email-digest',
      environment: { ...props.environment },
      vpc: props.vpc,
      ...(props.vpcSubnets === undefined ? {} : { vpcSubnets: props.vpcSubnets }),
      ...(props.securityGroups === undefined ? {} : { securityGroups: props.securityGroups }),
      timeout: props.timeout ?? Duration.minutes(2),
      // One run at a time: two would only race for the same claims (the dedup store keeps them
      // from sending twice, at the price of busy claims and ambiguous re-sends).
      reservedConcurrentExecutions: 1,
    }).function;
    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Fanout: send the email digests that are due',
      schedule: events.Schedule.rate(props.schedule ?? Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
    });
  }
}

import { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { FanoutFunction } from './fanout-function.ts';

/** Properties of {@link FanoutDeadLetterAudit}. */
export interface FanoutDeadLetterAuditProps {
  /**
   * The function's environment: the queue and DLQ URLs of both channels, the dedup Redis URL, the
   * audit stream … (`docs/lambda.md`; every function builds the same ports).
   */
  readonly environment: Readonly<Record<string, string>>;
  /** The VPC the function runs in: it claims keys in MemoryDB, which lives only in it. */
  readonly vpc: ec2.IVpc;
  /** @default what `FanoutFunction` does without them (the VPC's private subnets) */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** @default what `FanoutFunction` does without them (a new security group) */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /**
   * How often the dead-letter queues are looked at: the longest a dead letter goes without its
   * audit record.
   * @default Duration.minutes(1)
   */
  readonly schedule?: Duration;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
}

/**
 * The dead-letter audit: the `dead-letter-audit` function, run on a schedule by an EventBridge
 * rule, writes the `dead_lettered` audit record of every delivery job in a channel's DLQ that has
 * none (a job whose last receive never reached its consumer: throttled, timed out). It peeks at the
 * DLQs and leaves the messages there for the operator (docs/deploy.md, runbook). Its grants (the
 * DLQs' receive and visibility change, the queues' redrive policy, the audit stream) are the
 * stack's (`infra/grants.ts`).
 */
export class FanoutDeadLetterAudit extends Construct {
  readonly function: lambda.Function;
  /** The schedule. */
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: FanoutDeadLetterAuditProps) {
    super(scope, id);
    this.function = new FanoutFunction(this, 'Function', {
      entry: 'dead-letter-audit',
      environment: { ...props.environment },
      vpc: props.vpc,
      ...(props.vpcSubnets === undefined ? {} : { vpcSubnets: props.vpcSubnets }),
      ...(props.securityGroups === undefined ? {} : { securityGroups: props.securityGroups }),
      timeout: props.timeout ?? Duration.minutes(1),
      // One run at a time: two would only race for the same claims.
      reservedConcurrentExecutions: 1,
    }).function;
    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Fanout: audit the delivery dead-letter queues',
      schedule: events.Schedule.rate(props.schedule ?? Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 0 })],
    });
  }
}

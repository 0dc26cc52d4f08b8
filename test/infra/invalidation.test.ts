import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FanoutInvalidation, INVALIDATING_EVENT_NAMES } from '../../infra/constructs/invalidation.ts';
import { TABLES } from '../../src/adapters/aws/tables.ts';
import { checkedStack } from './support.ts';

// One stack for the file (each function is bundled by esbuild): the invalidation with its defaults
// over a table with a customer-managed key, and one with every prop set over a table without.
// The app runs the AWS Solutions checks (cdk-nag) at synthesis.
let stack: Stack;
let template: Template;
let vpc: ec2.Vpc;
let key: kms.Key;
let encryptedTable: dynamodb.Table;
let plainTable: dynamodb.Table;
let defaults: FanoutInvalidation;
let tuned: FanoutInvalidation;
let validationReport: { pluginReports: unknown[] };

const ENV = { FANOUT_TABLE_PREFIX: 'fanout-test', FANOUT_CACHE_REDIS_URL: 'rediss://cache:6379' };

function preferencesTable(scope: Stack, name: string, encryptionKey?: kms.IKey): dynamodb.Table {
  const spec = TABLES.preferences;
  return new dynamodb.Table(scope, name, {
    partitionKey: { name: spec.partitionKey, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    stream: dynamodb.StreamViewType[spec.stream],
    ...(encryptionKey ? { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey } : {}),
  });
}

beforeAll(() => {
  let app: App;
  ({ app, stack, vpc, key } = checkedStack('InvalidationTest'));
  encryptedTable = preferencesTable(stack, 'Preferences', key);
  plainTable = preferencesTable(stack, 'PlainPreferences');
  const securityGroup = new ec2.SecurityGroup(stack, 'CacheClients', { vpc });
  defaults = new FanoutInvalidation(stack, 'Invalidation', { table: encryptedTable, vpc, environment: ENV });
  tuned = new FanoutInvalidation(stack, 'Tuned', {
    table: plainTable,
    vpc,
    securityGroups: [securityGroup],
    vpcSubnets: { subnetGroupName: 'app' },
    environment: ENV,
    timeout: Duration.seconds(10),
    batchSize: 25,
    maxBatchingWindow: Duration.seconds(2),
    maximumRetryAttempts: 3,
  });
  const assembly = app.synth();
  validationReport = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'));
  template = Template.fromStack(stack);
});

function id(construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

function logicalId(element: CfnElement): string {
  return stack.getLogicalId(element);
}

function expectResource(type: string, logicalId: string, props: Record<string, unknown>): void {
  const found = template.findResources(type, props);
  expect(Object.keys(found), `${type} ${logicalId}`).toContain(logicalId);
}

const arn = (construct: IConstruct) => ({ 'Fn::GetAtt': [id(construct), 'Arn'] });
const streamArn = (table: dynamodb.Table) => ({ 'Fn::GetAtt': [id(table), 'StreamArn'] });

describe('FanoutInvalidation', () => {
  it('passes the AWS Solutions checks with nothing acknowledged', () => {
    expect(validationReport.pluginReports).toEqual([]);
  });
});

describe('FanoutInvalidation function', () => {
  it('runs the preference-invalidation entry in the VPC with the given environment', () => {
    const privateSubnets = vpc.privateSubnets.map((s) => ({ Ref: id(s) }));
    expectResource('AWS::Lambda::Function', id(defaults.function), {
      Properties: Match.objectLike({
        Handler: 'index.handler',
        Timeout: 30,
        VpcConfig: Match.objectLike({ SubnetIds: Match.arrayWith(privateSubnets) }),
        Environment: {
          Variables: Match.objectLike({ ...ENV, POWERTOOLS_SERVICE_NAME: 'fanout-preference-invalidation' }),
        },
      }),
    });
    expectResource('AWS::Lambda::Function', id(tuned.function), {
      Properties: Match.objectLike({
        Timeout: 10,
        VpcConfig: Match.objectLike({
          SubnetIds: vpc.isolatedSubnets.map((s) => ({ Ref: id(s) })),
          SecurityGroupIds: [{ 'Fn::GetAtt': [id(stack.node.findChild('CacheClients')), 'GroupId'] }],
        }),
      }),
    });
  });

  it('is fed by the Pipe only: no event-source mapping', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
  });
});

describe('FanoutInvalidation Pipe', () => {
  it('reads the preferences stream from LATEST and invokes the function synchronously', () => {
    expectResource('AWS::Pipes::Pipe', logicalId(defaults.pipe), {
      Properties: Match.objectLike({
        Source: streamArn(encryptedTable),
        Target: arn(defaults.function),
        RoleArn: arn(defaults.pipeRole),
        SourceParameters: Match.objectLike({
          DynamoDBStreamParameters: Match.objectLike({ StartingPosition: 'LATEST' }),
        }),
        TargetParameters: { LambdaFunctionParameters: { InvocationType: 'REQUEST_RESPONSE' } },
      }),
    });
    template.resourceCountIs('AWS::Pipes::Pipe', 2);
  });

  it('batches 100 records, retries 10 times, bisects on partial failure and does not wait by default', () => {
    expectResource('AWS::Pipes::Pipe', logicalId(defaults.pipe), {
      Properties: Match.objectLike({
        SourceParameters: Match.objectLike({
          DynamoDBStreamParameters: Match.exact({
            StartingPosition: 'LATEST',
            BatchSize: 100,
            MaximumRetryAttempts: 10,
            OnPartialBatchItemFailure: 'AUTOMATIC_BISECT',
            DeadLetterConfig: { Arn: arn(defaults.deadLetterQueue) },
          }),
        }),
      }),
    });
  });

  it('follows batchSize, maxBatchingWindow and maximumRetryAttempts', () => {
    expectResource('AWS::Pipes::Pipe', logicalId(tuned.pipe), {
      Properties: Match.objectLike({
        Source: streamArn(plainTable),
        Target: arn(tuned.function),
        SourceParameters: Match.objectLike({
          DynamoDBStreamParameters: Match.exact({
            StartingPosition: 'LATEST',
            BatchSize: 25,
            MaximumBatchingWindowInSeconds: 2,
            MaximumRetryAttempts: 3,
            OnPartialBatchItemFailure: 'AUTOMATIC_BISECT',
            DeadLetterConfig: { Arn: arn(tuned.deadLetterQueue) },
          }),
        }),
      }),
    });
  });

  it('sends a batch that still fails after its retries to its own encrypted dead-letter queue, kept 14 days', () => {
    for (const stage of [defaults, tuned]) {
      expectResource('AWS::SQS::Queue', id(stage.deadLetterQueue), {
        Properties: Match.objectLike({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 }),
        DeletionPolicy: 'Retain',
      });
      const pipe = template.toJSON().Resources[logicalId(stage.pipe)];
      expect(pipe.Properties.SourceParameters.DynamoDBStreamParameters.DeadLetterConfig).toEqual({
        Arn: arn(stage.deadLetterQueue),
      });
    }
    expect(id(defaults.deadLetterQueue)).not.toBe(id(tuned.deadLetterQueue));
    // Only TLS: the queue policy denies insecure transport.
    const policies = template.findResources('AWS::SQS::QueuePolicy', {
      Properties: { Queues: [{ Ref: id(defaults.deadLetterQueue) }] },
    });
    expect(JSON.stringify(Object.values(policies))).toContain('aws:SecureTransport');
  });

  it('lets through INSERT, MODIFY and REMOVE (a TTL deletion would be a REMOVE) and filters on nothing else', () => {
    expect(INVALIDATING_EVENT_NAMES).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    for (const stage of [defaults, tuned]) {
      const pipe = template.toJSON().Resources[logicalId(stage.pipe)];
      const filters = pipe.Properties.SourceParameters.FilterCriteria.Filters as { Pattern: string }[];
      expect(filters.map((f) => JSON.parse(f.Pattern))).toEqual([
        { eventName: ['INSERT', 'MODIFY', 'REMOVE'] },
      ]);
    }
  });
});

describe('FanoutInvalidation Pipe role', () => {
  it('may be assumed by EventBridge Pipes of this account only', () => {
    for (const stage of [defaults, tuned]) {
      expectResource('AWS::IAM::Role', id(stage.pipeRole), {
        Properties: Match.objectLike({
          AssumeRolePolicyDocument: Match.objectLike({
            Statement: [
              {
                Effect: 'Allow',
                Action: 'sts:AssumeRole',
                Principal: { Service: 'pipes.amazonaws.com' },
                Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' } },
              },
            ],
          }),
          ManagedPolicyArns: Match.absent(),
        }),
      });
    }
  });

  it('reads that stream only, decrypts with the table’s key only, invokes that function only and sends to its dead-letter queue only', () => {
    expectResource('AWS::IAM::Role', id(defaults.pipeRole), {
      Properties: Match.objectLike({
        Policies: Match.exact([
          {
            PolicyName: 'Source',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'ReadPreferencesStream',
                  Effect: 'Allow',
                  Action: [
                    'dynamodb:DescribeStream',
                    'dynamodb:GetRecords',
                    'dynamodb:GetShardIterator',
                    'dynamodb:ListStreams',
                  ],
                  Resource: streamArn(encryptedTable),
                },
                {
                  Sid: 'DecryptPreferencesStream',
                  Effect: 'Allow',
                  Action: 'kms:Decrypt',
                  Resource: arn(key),
                },
              ],
            },
          },
          {
            PolicyName: 'Target',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'InvokeInvalidation',
                  Effect: 'Allow',
                  Action: 'lambda:InvokeFunction',
                  Resource: arn(defaults.function),
                },
              ],
            },
          },
          {
            PolicyName: 'DeadLetter',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'SendFailedBatches',
                  Effect: 'Allow',
                  Action: 'sqs:SendMessage',
                  Resource: arn(defaults.deadLetterQueue),
                },
              ],
            },
          },
        ]),
      }),
    });
  });

  it('has no key statement when the table has no customer-managed key', () => {
    expectResource('AWS::IAM::Role', id(tuned.pipeRole), {
      Properties: Match.objectLike({
        Policies: Match.exact([
          {
            PolicyName: 'Source',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'ReadPreferencesStream',
                  Effect: 'Allow',
                  Action: [
                    'dynamodb:DescribeStream',
                    'dynamodb:GetRecords',
                    'dynamodb:GetShardIterator',
                    'dynamodb:ListStreams',
                  ],
                  Resource: streamArn(plainTable),
                },
              ],
            },
          },
          Match.objectLike({ PolicyName: 'Target' }),
          Match.objectLike({ PolicyName: 'DeadLetter' }),
        ]),
      }),
    });
  });

  it('gets no other policy attached', () => {
    for (const stage of [defaults, tuned]) {
      const attached = template.findResources('AWS::IAM::Policy', {
        Properties: { Roles: Match.arrayWith([{ Ref: id(stage.pipeRole) }]) },
      });
      expect(Object.keys(attached)).toEqual([]);
      const managed = template.findResources('AWS::IAM::ManagedPolicy', {
        Properties: { Roles: Match.arrayWith([{ Ref: id(stage.pipeRole) }]) },
      });
      expect(Object.keys(managed)).toEqual([]);
    }
  });

  it('refuses a table without a stream', () => {
    const other = new Stack(new App(), 'NoStream');
    const table = new dynamodb.Table(other, 'Preferences', {
      partitionKey: { name: TABLES.preferences.partitionKey, type: dynamodb.AttributeType.STRING },
    });
    expect(
      () => new FanoutInvalidation(other, 'Invalidation', { table, vpc: new ec2.Vpc(other, 'Vpc') }),
    ).toThrow(/has no stream/);
  });
});

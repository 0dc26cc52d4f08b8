import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_RECEIVE_COUNT, FanoutDelivery } from '../../infra/constructs/delivery.ts';
import { CHANNELS } from '../../src/domain/types.ts';
import { checkedStack } from './support.ts';

// One stack for the file (every consumer is bundled by esbuild): a delivery stage with the defaults
// and one with every prop set, side by side, each asserted on its own resources by logical id.
// The app runs the AWS Solutions checks (cdk-nag) at synthesis.
let stack: Stack;
let template: Template;
let key: kms.Key;
let vpc: ec2.Vpc;
let defaults: FanoutDelivery;
let tuned: FanoutDelivery;
let validationReport: { pluginReports: unknown[] };

const SHARED_ENV = { FANOUT_TABLE_PREFIX: 'fanout-test', FANOUT_CACHE_REDIS_URL: 'rediss://cache:6379' };

beforeAll(() => {
  let app: App;
  ({ app, stack, vpc, key } = checkedStack('DeliveryTest'));
  const securityGroup = new ec2.SecurityGroup(stack, 'RedisClients', { vpc });
  defaults = new FanoutDelivery(stack, 'Delivery', { vpc, environment: SHARED_ENV });
  tuned = new FanoutDelivery(stack, 'Tuned', {
    vpc,
    securityGroups: [securityGroup],
    vpcSubnets: { subnetGroupName: 'app' },
    key,
    environment: SHARED_ENV,
    channelEnvironment: { email: { FANOUT_SES_FROM: 'noreply@example.com' } },
    consumerTimeout: Duration.seconds(60),
    consumerMemorySize: 512,
    batchSize: 100,
    maxBatchingWindow: Duration.seconds(3),
    maxConcurrency: { push: 200 },
    maxReceiveCount: 6,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const assembly = app.synth();
  validationReport = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'));
  template = Template.fromStack(stack);
});

function id(construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

/** The resource with this logical id matches `props` (Match.objectLike at the top level). */
function expectResource(type: string, logicalId: string, props: Record<string, unknown>): void {
  const found = template.findResources(type, props);
  expect(Object.keys(found), `${type} ${logicalId}`).toContain(logicalId);
}

const arn = (construct: IConstruct) => ({ 'Fn::GetAtt': [id(construct), 'Arn'] });
const ref = (construct: IConstruct) => ({ Ref: id(construct) });

describe('FanoutDelivery', () => {
  it('passes the AWS Solutions checks with nothing acknowledged', () => {
    expect(validationReport.pluginReports).toEqual([]);
  });

  it('refuses a maxReceiveCount SQS would not take (and the consumers would not read)', () => {
    for (const maxReceiveCount of [0, 1.5, 1001]) {
      const other = new Stack(new App(), 'BadCount');
      const otherVpc = new ec2.Vpc(other, 'Vpc');
      expect(() => new FanoutDelivery(other, 'Delivery', { vpc: otherVpc, maxReceiveCount })).toThrow(
        /maxReceiveCount must be an integer from 1 to 1000/,
      );
    }
  });
});

describe('FanoutDelivery batches and memory', () => {
  it('refuses a batch size or a consumer memory Lambda would not take', () => {
    const other = new Stack(new App(), 'BadBatch');
    const otherVpc = new ec2.Vpc(other, 'Vpc');
    for (const batchSize of [0, 2.5, 10_001]) {
      expect(
        () =>
          new FanoutDelivery(other, `Batch${String(batchSize).replace('.', '_')}`, {
            vpc: otherVpc,
            batchSize,
          }),
      ).toThrow(/batchSize must be an integer from 1 to 10000/);
    }
    for (const consumerMemorySize of [64, 512.5, 20_000]) {
      expect(
        () =>
          new FanoutDelivery(other, `Memory${String(consumerMemorySize).replace('.', '_')}`, {
            vpc: otherVpc,
            consumerMemorySize,
          }),
      ).toThrow(/consumerMemorySize must be an integer from 128 to 10240/);
    }
    for (const jobsPerMessage of [0, 1.5, 101]) {
      expect(
        () =>
          new FanoutDelivery(other, `Pack${String(jobsPerMessage).replace('.', '_')}`, {
            vpc: otherVpc,
            jobsPerMessage,
          }),
      ).toThrow(/jobsPerMessage must be an integer from 1 to 100/);
    }
  });
});

describe('FanoutDelivery queues', () => {
  it('makes one queue and one dead-letter queue per channel, and nothing else of SQS', () => {
    template.resourceCountIs('AWS::SQS::Queue', 2 * 2 * CHANNELS.length);
  });

  it('redrives a job after 4 receives by default, to its own channel’s DLQ', () => {
    expect(defaults.maxReceiveCount).toBe(DEFAULT_MAX_RECEIVE_COUNT);
    expect(DEFAULT_MAX_RECEIVE_COUNT).toBe(4);
    for (const channel of CHANNELS) {
      expectResource('AWS::SQS::Queue', id(defaults.queues[channel]), {
        Properties: Match.objectLike({
          RedrivePolicy: { deadLetterTargetArn: arn(defaults.deadLetterQueues[channel]), maxReceiveCount: 4 },
        }),
      });
    }
  });

  it('sets the visibility timeout to six times the consumer timeout and keeps jobs 4 days', () => {
    for (const channel of CHANNELS) {
      expectResource('AWS::SQS::Queue', id(defaults.queues[channel]), {
        Properties: Match.objectLike({ VisibilityTimeout: 180, MessageRetentionPeriod: 4 * 24 * 3600 }),
      });
      expectResource('AWS::SQS::Queue', id(tuned.queues[channel]), {
        Properties: Match.objectLike({ VisibilityTimeout: 360, MessageRetentionPeriod: 4 * 24 * 3600 }),
      });
    }
  });

  it('keeps dead-lettered jobs 14 days', () => {
    for (const stage of [defaults, tuned]) {
      for (const channel of CHANNELS) {
        expectResource('AWS::SQS::Queue', id(stage.deadLetterQueues[channel]), {
          Properties: Match.objectLike({ MessageRetentionPeriod: 14 * 24 * 3600 }),
        });
      }
    }
  });

  it('encrypts every queue with SSE-SQS by default and with the given key otherwise', () => {
    for (const channel of CHANNELS) {
      for (const queue of [defaults.queues[channel], defaults.deadLetterQueues[channel]]) {
        expectResource('AWS::SQS::Queue', id(queue), {
          Properties: Match.objectLike({ SqsManagedSseEnabled: true, KmsMasterKeyId: Match.absent() }),
        });
      }
      for (const queue of [tuned.queues[channel], tuned.deadLetterQueues[channel]]) {
        expectResource('AWS::SQS::Queue', id(queue), {
          Properties: Match.objectLike({ KmsMasterKeyId: arn(key) }),
        });
      }
    }
  });

  it('refuses requests without TLS on every queue', () => {
    for (const stage of [defaults, tuned]) {
      for (const channel of CHANNELS) {
        for (const queue of [stage.queues[channel], stage.deadLetterQueues[channel]]) {
          template.hasResourceProperties('AWS::SQS::QueuePolicy', {
            Queues: [ref(queue)],
            PolicyDocument: {
              Statement: Match.arrayWith([
                Match.objectLike({
                  Effect: 'Deny',
                  Action: 'sqs:*',
                  Principal: { AWS: '*' },
                  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
                  Resource: arn(queue),
                }),
              ]),
            },
          });
        }
      }
    }
  });

  it('retains queues and dead-letter queues by default, and follows removalPolicy', () => {
    for (const channel of CHANNELS) {
      for (const queue of [defaults.queues[channel], defaults.deadLetterQueues[channel]]) {
        expectResource('AWS::SQS::Queue', id(queue), {
          DeletionPolicy: 'Retain',
          UpdateReplacePolicy: 'Retain',
        });
      }
      for (const queue of [tuned.queues[channel], tuned.deadLetterQueues[channel]]) {
        expectResource('AWS::SQS::Queue', id(queue), {
          DeletionPolicy: 'Delete',
          UpdateReplacePolicy: 'Delete',
        });
      }
    }
  });

  it('puts a custom maxReceiveCount in the redrive policy and in the consumers’ environment alike', () => {
    expect(tuned.maxReceiveCount).toBe(6);
    for (const channel of CHANNELS) {
      expectResource('AWS::SQS::Queue', id(tuned.queues[channel]), {
        Properties: Match.objectLike({
          RedrivePolicy: { deadLetterTargetArn: arn(tuned.deadLetterQueues[channel]), maxReceiveCount: 6 },
        }),
      });
      expectResource('AWS::Lambda::Function', id(tuned.consumers[channel]), {
        Properties: Match.objectLike({
          Environment: { Variables: Match.objectLike({ FANOUT_MAX_RECEIVE_COUNT: '6' }) },
        }),
      });
    }
  });
});

describe('FanoutDelivery consumers', () => {
  const entry = { push: 'push-consumer', email: 'email-consumer' } as const;

  it('runs each channel’s consumer entry in the VPC with the consumer timeout', () => {
    const privateSubnets = vpc.privateSubnets.map((s) => ({ Ref: id(s) }));
    const appSubnets = vpc.isolatedSubnets.map((s) => ({ Ref: id(s) }));
    for (const channel of CHANNELS) {
      expectResource('AWS::Lambda::Function', id(defaults.consumers[channel]), {
        Properties: Match.objectLike({
          Handler: 'index.handler',
          Timeout: 30,
          VpcConfig: Match.objectLike({ SubnetIds: Match.arrayWith(privateSubnets) }),
          Environment: {
            Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: `fanout-${entry[channel]}` }),
          },
        }),
      });
      expectResource('AWS::Lambda::Function', id(tuned.consumers[channel]), {
        Properties: Match.objectLike({
          Timeout: 60,
          MemorySize: 512,
          VpcConfig: Match.objectLike({
            SubnetIds: appSubnets,
            SecurityGroupIds: [{ 'Fn::GetAtt': [id(stack.node.findChild('RedisClients')), 'GroupId'] }],
          }),
        }),
      });
    }
  });

  it('gives each consumer every queue variable, the receive count and the shared environment', () => {
    const queueVariables = (stage: FanoutDelivery) => ({
      FANOUT_PUSH_QUEUE_URL: ref(stage.queues.push),
      FANOUT_PUSH_DLQ_URL: ref(stage.deadLetterQueues.push),
      FANOUT_EMAIL_QUEUE_URL: ref(stage.queues.email),
      FANOUT_EMAIL_DLQ_URL: ref(stage.deadLetterQueues.email),
    });
    for (const channel of CHANNELS) {
      expectResource('AWS::Lambda::Function', id(defaults.consumers[channel]), {
        Properties: Match.objectLike({
          Environment: {
            Variables: Match.objectLike({
              ...queueVariables(defaults),
              ...SHARED_ENV,
              FANOUT_MAX_RECEIVE_COUNT: '4',
              FANOUT_SES_FROM: Match.absent(),
            }),
          },
        }),
      });
    }
    expectResource('AWS::Lambda::Function', id(tuned.consumers.email), {
      Properties: Match.objectLike({
        Environment: {
          Variables: Match.objectLike({ ...queueVariables(tuned), FANOUT_SES_FROM: 'noreply@example.com' }),
        },
      }),
    });
    expectResource('AWS::Lambda::Function', id(tuned.consumers.push), {
      Properties: Match.objectLike({
        Environment: { Variables: Match.objectLike({ FANOUT_SES_FROM: Match.absent() }) },
      }),
    });
  });

  it('exposes the queue variables for the functions outside the construct', () => {
    expect(stack.resolve(defaults.environment)).toEqual({
      FANOUT_PUSH_QUEUE_URL: ref(defaults.queues.push),
      FANOUT_PUSH_DLQ_URL: ref(defaults.deadLetterQueues.push),
      FANOUT_EMAIL_QUEUE_URL: ref(defaults.queues.email),
      FANOUT_EMAIL_DLQ_URL: ref(defaults.deadLetterQueues.email),
      FANOUT_MAX_RECEIVE_COUNT: '4',
      FANOUT_JOBS_PER_MESSAGE: '10',
    });
  });

  it('gives the functions the jobs packed per message it is built with', () => {
    const other = new Stack(new App(), 'Packed');
    const delivery = new FanoutDelivery(other, 'Delivery', {
      vpc: new ec2.Vpc(other, 'Vpc'),
      jobsPerMessage: 1,
    });
    expect(delivery.environment.FANOUT_JOBS_PER_MESSAGE).toBe('1');
    Template.fromStack(other).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ FANOUT_JOBS_PER_MESSAGE: '1' }) },
    });
  });

  it('drains each queue with batches of 10 within 1 s, partial failures and 50 push / 20 email at most', () => {
    const maxConcurrency = { push: 50, email: 20 } as const;
    for (const channel of CHANNELS) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: arn(defaults.queues[channel]),
        FunctionName: ref(defaults.consumers[channel]),
        BatchSize: 10,
        MaximumBatchingWindowInSeconds: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: maxConcurrency[channel] },
      });
    }
  });

  it('follows batchSize, maxBatchingWindow and per-channel maxConcurrency', () => {
    const maxConcurrency = { push: 200, email: 20 } as const;
    for (const channel of CHANNELS) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: arn(tuned.queues[channel]),
        FunctionName: ref(tuned.consumers[channel]),
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 3,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: maxConcurrency[channel] },
      });
    }
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 2 * CHANNELS.length);
  });

  it('lets each consumer receive, delete and re-send on its own queue only, and decrypt with the key', () => {
    for (const stage of [defaults, tuned]) {
      for (const channel of CHANNELS) {
        const other = channel === 'push' ? 'email' : 'push';
        const role = stage.consumers[channel].role!;
        const policies = template.findResources('AWS::IAM::Policy', {
          Properties: { Roles: Match.arrayWith([ref(role)]) },
        });
        const statements = Object.values(policies).flatMap(
          (p) =>
            (p as { Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } } }).Properties
              .PolicyDocument.Statement,
        );
        const sqsStatements = statements.filter((s) => JSON.stringify(s.Action).includes('sqs:'));
        expect(sqsStatements).toEqual(
          expect.arrayContaining([
            expect.objectContaining({
              Effect: 'Allow',
              Action: expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']),
              Resource: arn(stage.queues[channel]),
            }),
            {
              Sid: 'DeferToOwnQueue',
              Effect: 'Allow',
              Action: 'sqs:SendMessage',
              Resource: arn(stage.queues[channel]),
            },
          ]),
        );
        // Nothing on the other channel's queue, nor on any dead-letter queue.
        for (const s of sqsStatements) {
          expect(s.Resource).toEqual(arn(stage.queues[channel]));
        }
        expect(JSON.stringify(statements)).not.toContain(id(stage.queues[other]));
        const kmsStatements = statements.filter((s) => JSON.stringify(s.Action).includes('kms:'));
        if (stage === tuned) {
          expect(kmsStatements).toEqual(
            expect.arrayContaining([
              expect.objectContaining({ Action: 'kms:Decrypt', Resource: arn(key) }),
              {
                Sid: 'EncryptDeferredJobs',
                Effect: 'Allow',
                Action: 'kms:GenerateDataKey',
                Resource: arn(key),
              },
            ]),
          );
          // A producer needs no more of the key than that.
          expect(kmsStatements.flatMap((s) => s.Action as string | string[]).sort()).toEqual([
            'kms:Decrypt',
            'kms:GenerateDataKey',
          ]);
        } else {
          expect(kmsStatements).toEqual([]);
        }
      }
    }
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FanoutOperations, THROTTLE_OPERATIONS } from '../../infra/constructs/operations.ts';
import { METRICS_NAMESPACE, MetricName } from '../../src/lambda/powertools.ts';

// One stack for the file, two operations constructs over the same resources: one with every prop
// set, one with the defaults. The watched resources are stand-ins (inline functions, plain
// queues), so nothing is bundled; they are not what is asserted.
let stack: Stack;
let template: Template;
let full: FanoutOperations;
let defaults: FanoutOperations;
let validationReport: { pluginReports: unknown[] };
let stream: kinesis.IStream;
let pushDlq: sqs.IQueue;
let emailDlq: sqs.IQueue;
let pushQueue: sqs.IQueue;
let fanoutFn: lambda.IFunction;
let consumerFn: lambda.IFunction;
let inbox: dynamodb.ITableV2;
let tenants: dynamodb.ITableV2;
let topicKey: kms.Key;

const AUDIT_STREAM = 'fanout-audit';

function arn(service: string, resource: string): string {
  return `arn:aws:${service}:eu-west-1:111111111111:${resource}`;
}

beforeAll(() => {
  const app = new App();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  stack = new Stack(app, 'OperationsTest', { env: { account: '111111111111', region: 'eu-west-1' } });
  // The watched resources are imported: the constructs take interfaces, and the stack holds only
  // what the operations constructs make (which cdk-nag then checks alone).
  stream = kinesis.Stream.fromStreamArn(stack, 'Events', arn('kinesis', 'stream/fanout-events'));
  pushDlq = sqs.Queue.fromQueueArn(stack, 'PushDlq', arn('sqs', 'fanout-push-dlq'));
  emailDlq = sqs.Queue.fromQueueArn(stack, 'EmailDlq', arn('sqs', 'fanout-email-dlq'));
  pushQueue = sqs.Queue.fromQueueArn(stack, 'PushQueue', arn('sqs', 'fanout-push'));
  fanoutFn = lambda.Function.fromFunctionArn(stack, 'Fanout', arn('lambda', 'function:fanout-fanout'));
  consumerFn = lambda.Function.fromFunctionArn(stack, 'Push', arn('lambda', 'function:fanout-push-consumer'));
  inbox = dynamodb.TableV2.fromTableName(stack, 'Inbox', 'fanout-inbox');
  tenants = dynamodb.TableV2.fromTableName(stack, 'Tenants', 'fanout-tenants');
  topicKey = new kms.Key(stack, 'TopicKey', { enableKeyRotation: true });
  const watchedProps = {
    deadLetterQueues: { push: pushDlq, email: emailDlq },
    functions: { fanout: fanoutFn, 'push-consumer': consumerFn },
    eventStream: stream,
    tables: { inbox, tenants },
    auditDeliveryStreamName: AUDIT_STREAM,
  };
  full = new FanoutOperations(stack, 'Full', {
    ...watchedProps,
    alarmEmail: 'oncall@example.com',
    alarmTopicKey: topicKey,
    queues: { push: pushQueue },
    iteratorAgeThreshold: Duration.seconds(30),
    auditFreshnessThreshold: Duration.minutes(10),
    dashboardName: 'fanout-ops',
    removalPolicy: RemovalPolicy.DESTROY,
  });
  defaults = new FanoutOperations(stack, 'Defaults', watchedProps);
  const assembly = app.synth();
  validationReport = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'));
  template = Template.fromStack(stack);
});

function id(construct: IConstruct): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

/** The one resource with this logical id, as in the template. */
function resource(
  logicalId: string,
): { Type: string; Properties: Record<string, unknown> } & Record<string, unknown> {
  const found = template.toJSON().Resources[logicalId];
  expect(found, logicalId).toBeDefined();
  return found;
}

/** The logical id of an alarm of a construct. */
function alarmId(operations: FanoutOperations, name: string): string {
  const alarm = operations.alarms[name];
  expect(alarm, name).toBeDefined();
  return id(alarm!);
}

const notify = (operations: FanoutOperations) => ({
  AlarmActions: [{ Ref: id(operations.alarmTopic) }],
  OKActions: [{ Ref: id(operations.alarmTopic) }],
  TreatMissingData: 'notBreaching',
});

/** The dashboard body of a construct, with the tokens of other resources rendered as `<logical id>`. */
function dashboardBody(operations: FanoutOperations): Record<string, unknown> {
  const body = resource(id(operations.dashboard)).Properties.DashboardBody as {
    'Fn::Join': [string, unknown[]];
  };
  const text = body['Fn::Join'][1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const token = part as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
      return token.Ref !== undefined ? `<${token.Ref}>` : `<${token['Fn::GetAtt']![0]}>`;
    })
    .join('');
  return JSON.parse(text);
}

interface Widget {
  type: string;
  width: number;
  properties: { title: string; metrics?: unknown[][]; alarms?: string[]; annotations?: unknown };
}

function widget(operations: FanoutOperations, title: string): Widget {
  const widgets = (dashboardBody(operations).widgets as Widget[]).filter((w) => w.properties.title === title);
  expect(widgets, title).toHaveLength(1);
  return widgets[0]!;
}

describe('FanoutOperations alarm topic', () => {
  it('encrypts the topic with the given key, TLS only, CloudWatch of this account let in', () => {
    const topic = id(full.alarmTopic);
    expect(resource(topic)).toEqual({
      Type: 'AWS::SNS::Topic',
      Properties: { DisplayName: 'Fanout alarms', KmsMasterKeyId: { 'Fn::GetAtt': [id(topicKey), 'Arn'] } },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topic }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sns:Publish',
            Principal: '*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          {
            Sid: 'AllowCloudWatchAlarms',
            Effect: 'Allow',
            Action: 'sns:Publish',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Resource: { Ref: topic },
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: {
                'aws:SourceArn': {
                  'Fn::Join': [
                    '',
                    [
                      'arn:',
                      { Ref: 'AWS::Partition' },
                      ':cloudwatch:',
                      { Ref: 'AWS::Region' },
                      ':',
                      { Ref: 'AWS::AccountId' },
                      ':alarm:*',
                    ],
                  ],
                },
              },
            },
          },
        ]),
      },
    });
  });

  it('subscribes the alarm address by email, and nobody by default', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: { Ref: id(full.alarmTopic) },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 1);
  });

  it('makes a rotating key that CloudWatch may use when none is given, retained by default', () => {
    const key = id(defaults.alarmTopic.node.scope!.node.findChild('AlarmTopicKey'));
    expect(resource(id(defaults.alarmTopic)).Properties.KmsMasterKeyId).toEqual({
      'Fn::GetAtt': [key, 'Arn'],
    });
    expect(resource(key)).toMatchObject({
      Properties: {
        Description: 'Fanout alarm topic',
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: expect.arrayContaining([
            {
              Sid: 'AllowCloudWatchAlarmsToPublish',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
              Resource: '*',
              Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            },
          ]),
        },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    expect(full.alarmTopic.node.scope!.node.tryFindChild('AlarmTopicKey')).toBeUndefined();
    template.resourceCountIs('AWS::KMS::Key', 2);
  });
});

describe('FanoutOperations alarms', () => {
  it('makes the same alarms for both, named after what they watch', () => {
    const names = [
      'dlq-push',
      'dlq-email',
      'stream-iterator-age',
      'errors-fanout',
      'throttles-fanout',
      'errors-push-consumer',
      'throttles-push-consumer',
      'throttled-inbox',
      'throttled-tenants',
      'audit-freshness',
      'audit-delivery',
    ];
    expect(Object.keys(full.alarms).sort()).toEqual([...names].sort());
    expect(Object.keys(defaults.alarms).sort()).toEqual([...names].sort());
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2 * names.length);
  });

  it('fires on any message in a dead-letter queue', () => {
    for (const [name, queue] of [
      ['push', 'fanout-push-dlq'],
      ['email', 'fanout-email-dlq'],
    ] as const) {
      expect(resource(alarmId(full, `dlq-${name}`)).Properties).toEqual({
        ...notify(full),
        AlarmDescription: `Fanout: messages in the ${name} dead-letter queue: inspect, fix, then redrive (docs/deploy.md, runbook).`,
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: queue }],
        Statistic: 'Maximum',
        Period: 60,
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
      });
    }
  });

  it('fires when the stream iterator age passes the threshold for 3 of 5 minutes', () => {
    const expected = (operations: FanoutOperations, ms: number, human: string) => ({
      ...notify(operations),
      AlarmDescription: `Fanout: the oldest event read from the stream is older than ${human}: the fan-out is falling behind or stuck on a record (docs/deploy.md, runbook).`,
      Namespace: 'AWS/Kinesis',
      MetricName: 'GetRecords.IteratorAgeMilliseconds',
      Dimensions: [{ Name: 'StreamName', Value: 'fanout-events' }],
      Statistic: 'Maximum',
      Period: 60,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: ms,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
    });
    expect(resource(alarmId(full, 'stream-iterator-age')).Properties).toEqual(
      expected(full, 30_000, '30 seconds'),
    );
    expect(resource(alarmId(defaults, 'stream-iterator-age')).Properties).toEqual(
      expected(defaults, 60_000, '1 minute'),
    );
  });

  it('fires on any error or throttle of each function', () => {
    for (const [name, fn] of [
      ['fanout', 'fanout-fanout'],
      ['push-consumer', 'fanout-push-consumer'],
    ] as const) {
      for (const [kind, metric, what] of [
        ['errors', 'Errors', 'failed invocations'],
        ['throttles', 'Throttles', 'was throttled (concurrency limit)'],
      ] as const) {
        expect(resource(alarmId(full, `${kind}-${name}`)).Properties).toEqual({
          ...notify(full),
          AlarmDescription: `Fanout: the ${name} function ${what}.`,
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: fn }],
          Statistic: 'Sum',
          Period: 300,
          ComparisonOperator: 'GreaterThanThreshold',
          Threshold: 0,
          EvaluationPeriods: 1,
          DatapointsToAlarm: 1,
        });
      }
    }
  });

  it('fires on any throttled request to a table, summing every operation the adapters call', () => {
    const properties = resource(alarmId(full, 'throttled-inbox')).Properties;
    const ids = THROTTLE_OPERATIONS.map((op) => `t${op.toLowerCase()}`);
    expect(properties).toEqual({
      ...notify(full),
      AlarmDescription: 'Fanout: requests to the inbox table were throttled.',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      Metrics: [
        {
          Id: 'expr_1',
          Expression: ids.map((i) => `FILL(${i}, 0)`).join(' + '),
          Label: 'inbox throttled requests',
          ReturnData: true,
        },
        ...THROTTLE_OPERATIONS.map((op, n) => ({
          Id: ids[n],
          MetricStat: {
            Metric: {
              Namespace: 'AWS/DynamoDB',
              MetricName: 'ThrottledRequests',
              Dimensions: [
                { Name: 'Operation', Value: op },
                { Name: 'TableName', Value: 'fanout-inbox' },
              ],
            },
            Period: 300,
            Stat: 'Sum',
          },
          ReturnData: false,
        })),
      ],
    });
    // An alarm's metric math takes at most 10 metrics.
    expect((properties.Metrics as unknown[]).length).toBeLessThanOrEqual(10);
    expect(THROTTLE_OPERATIONS).toEqual(
      expect.arrayContaining([
        'GetItem',
        'BatchGetItem',
        'Query',
        'Scan',
        'PutItem',
        'UpdateItem',
        'DeleteItem',
        'BatchWriteItem',
        'TransactWriteItems',
      ]),
    );
    expect(JSON.stringify(resource(alarmId(full, 'throttled-tenants')).Properties)).toContain(
      'fanout-tenants',
    );
  });

  it('fires when audit records wait too long for S3, or a delivery to S3 fails', () => {
    const firehose = {
      Namespace: 'AWS/Firehose',
      Dimensions: [{ Name: 'DeliveryStreamName', Value: AUDIT_STREAM }],
    };
    expect(resource(alarmId(full, 'audit-freshness')).Properties).toEqual({
      ...notify(full),
      ...firehose,
      AlarmDescription: 'Fanout: audit records have waited more than 10 minutes to reach S3.',
      MetricName: 'DeliveryToS3.DataFreshness',
      Statistic: 'Maximum',
      Period: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 600,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
    });
    expect(resource(alarmId(defaults, 'audit-freshness')).Properties).toMatchObject({ Threshold: 900 });
    expect(resource(alarmId(full, 'audit-delivery')).Properties).toEqual({
      ...notify(full),
      ...firehose,
      AlarmDescription:
        'Fanout: Firehose failed to deliver audit records to S3 (it retries; records past its retry window go to the error prefix).',
      MetricName: 'DeliveryToS3.Success',
      Statistic: 'Minimum',
      Period: 300,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
    });
  });

  it('passes the AWS Solutions checks', () => {
    expect(validationReport.pluginReports).toEqual([]);
  });
});

describe('FanoutOperations dashboard', () => {
  it('is named when asked, over the last three hours', () => {
    expect(resource(id(full.dashboard)).Properties.DashboardName).toBe('fanout-ops');
    expect(resource(id(defaults.dashboard)).Properties.DashboardName).toBeUndefined();
    expect(dashboardBody(full).start).toBe('-PT3H');
  });

  it('shows the state of every alarm first', () => {
    const alarms = (dashboardBody(full).widgets as Widget[])[0]!;
    expect(alarms.type).toBe('alarm');
    expect(alarms.properties.alarms).toEqual(Object.values(full.alarms).map((a) => `<${id(a)}>`));
  });

  it('graphs the pipeline from the EMF metrics the functions publish, by service', () => {
    const emf = (name: string, service: string, label: string) => [
      METRICS_NAMESPACE,
      name,
      'service',
      service,
      { label, stat: 'Sum' },
    ];
    expect(widget(full, 'Events: accepted, fanned out, undecodable').properties.metrics).toEqual([
      emf(MetricName.EventsAccepted, 'fanout-event-api', 'accepted (event API)'),
      emf(MetricName.EventsFannedOut, 'fanout-fanout', 'fanned out'),
      emf(MetricName.UndecodableRecords, 'fanout-fanout', 'undecodable'),
    ]);
    expect(widget(full, 'Fan-out writes').properties.metrics).toEqual([
      emf(MetricName.InboxRowsWritten, 'fanout-fanout', 'inbox rows'),
      emf(MetricName.DeliveryJobsQueued, 'fanout-fanout', 'delivery jobs'),
    ]);
    expect(widget(full, 'Batch items handed back for retry').properties.metrics).toEqual([
      emf(MetricName.BatchItemFailures, 'fanout-fanout', 'fanout'),
      emf(MetricName.BatchItemFailures, 'fanout-push-consumer', 'push consumer'),
      emf(MetricName.BatchItemFailures, 'fanout-email-consumer', 'email consumer'),
      emf(MetricName.BatchItemFailures, 'fanout-preference-invalidation', 'preference invalidation'),
    ]);
    expect(widget(full, 'HTTP API answers').properties.metrics).toEqual([
      emf(MetricName.HttpRequests, 'fanout-event-api', 'event API requests'),
      emf(MetricName.HttpClientErrors, 'fanout-event-api', 'event API 4xx'),
      emf(MetricName.HttpServerErrors, 'fanout-event-api', 'event API 5xx'),
      emf(MetricName.HttpRequests, 'fanout-inbox-api', 'inbox API requests'),
      emf(MetricName.HttpClientErrors, 'fanout-inbox-api', 'inbox API 4xx'),
      emf(MetricName.HttpServerErrors, 'fanout-inbox-api', 'inbox API 5xx'),
    ]);
    expect(widget(full, 'Preference cache invalidations').properties.metrics).toEqual([
      emf(MetricName.PreferencesInvalidated, 'fanout-preference-invalidation', 'invalidated'),
    ]);
  });

  it('graphs delivery outcomes per channel with a search over the channel and outcome dimensions', () => {
    for (const channel of ['push', 'email']) {
      const title = `${channel === 'push' ? 'Push' : 'Email'} deliveries by outcome`;
      expect(widget(full, title).properties.metrics).toEqual([
        [
          {
            expression: `SEARCH('{Fanout,channel,outcome,service} MetricName="Deliveries" channel="${channel}"', 'Sum', 300)`,
          },
        ],
      ]);
    }
  });

  it('graphs stream lag against the alarm threshold, and records in', () => {
    const graph = widget(full, 'Event stream: iterator age (max) and records in');
    expect(graph.properties.metrics).toEqual([
      [
        'AWS/Kinesis',
        'GetRecords.IteratorAgeMilliseconds',
        'StreamName',
        'fanout-events',
        { label: 'iterator age, ms', period: 60, stat: 'Maximum' },
      ],
      [
        'AWS/Kinesis',
        'IncomingRecords',
        'StreamName',
        'fanout-events',
        { label: 'records in', period: 60, stat: 'Sum', yAxis: 'right' },
      ],
    ]);
    expect(graph.properties.annotations).toEqual({
      horizontal: [{ value: 30_000, label: 'alarm', yAxis: 'left' }],
    });
  });

  it('graphs queue depth and age, dead-letter queues apart', () => {
    expect(
      widget(full, 'Queues: visible messages (dead-letter queues on the right)').properties.metrics,
    ).toEqual([
      [
        'AWS/SQS',
        'ApproximateNumberOfMessagesVisible',
        'QueueName',
        'fanout-push',
        { label: 'push', period: 60, stat: 'Maximum' },
      ],
      [
        'AWS/SQS',
        'ApproximateNumberOfMessagesVisible',
        'QueueName',
        'fanout-push-dlq',
        { label: 'push DLQ', period: 60, stat: 'Maximum', yAxis: 'right' },
      ],
      [
        'AWS/SQS',
        'ApproximateNumberOfMessagesVisible',
        'QueueName',
        'fanout-email-dlq',
        { label: 'email DLQ', period: 60, stat: 'Maximum', yAxis: 'right' },
      ],
    ]);
    expect(widget(full, 'Queues: age of the oldest message, s').properties.metrics).toEqual([
      [
        'AWS/SQS',
        'ApproximateAgeOfOldestMessage',
        'QueueName',
        'fanout-push',
        { label: 'push', period: 60, stat: 'Maximum' },
      ],
    ]);
  });

  it('graphs each function’s errors, throttles and p99 duration', () => {
    expect(widget(full, 'Lambda errors and throttles').properties.metrics).toEqual([
      ['AWS/Lambda', 'Errors', 'FunctionName', 'fanout-fanout', { label: 'fanout errors', stat: 'Sum' }],
      [
        'AWS/Lambda',
        'Errors',
        'FunctionName',
        'fanout-push-consumer',
        { label: 'push-consumer errors', stat: 'Sum' },
      ],
      [
        'AWS/Lambda',
        'Throttles',
        'FunctionName',
        'fanout-fanout',
        { label: 'fanout throttles', stat: 'Sum', yAxis: 'right' },
      ],
      [
        'AWS/Lambda',
        'Throttles',
        'FunctionName',
        'fanout-push-consumer',
        { label: 'push-consumer throttles', stat: 'Sum', yAxis: 'right' },
      ],
    ]);
    expect(widget(full, 'Lambda duration p99, ms').properties.metrics).toEqual([
      ['AWS/Lambda', 'Duration', 'FunctionName', 'fanout-fanout', { label: 'fanout', stat: 'p99' }],
      [
        'AWS/Lambda',
        'Duration',
        'FunctionName',
        'fanout-push-consumer',
        { label: 'push-consumer', stat: 'p99' },
      ],
    ]);
  });

  it('graphs each table’s write units and throttled requests, metric ids kept apart', () => {
    const metrics = widget(full, 'DynamoDB: consumed write units (throttled requests on the right)')
      .properties.metrics as unknown[][];
    expect(metrics.slice(0, 2)).toEqual([
      [
        'AWS/DynamoDB',
        'ConsumedWriteCapacityUnits',
        'TableName',
        'fanout-inbox',
        expect.objectContaining({ label: 'inbox', stat: 'Sum' }),
      ],
      [
        'AWS/DynamoDB',
        'ConsumedWriteCapacityUnits',
        'TableName',
        'fanout-tenants',
        expect.objectContaining({ label: 'tenants', stat: 'Sum' }),
      ],
    ]);
    const expressions = metrics.filter((m) => typeof m[0] === 'object' && 'expression' in (m[0] as object));
    expect(expressions).toEqual([
      [
        expect.objectContaining({
          expression: expect.stringContaining('FILL(t0getitem, 0)'),
          label: 'inbox throttled',
          yAxis: 'right',
        }),
      ],
      [
        expect.objectContaining({
          expression: expect.stringContaining('FILL(t1getitem, 0)'),
          label: 'tenants throttled',
          yAxis: 'right',
        }),
      ],
    ]);
  });

  it('graphs audit freshness against its threshold, and delivery success', () => {
    const graph = widget(full, 'Audit trail: Firehose → S3');
    expect(graph.properties.metrics).toEqual([
      [
        'AWS/Firehose',
        'DeliveryToS3.DataFreshness',
        'DeliveryStreamName',
        AUDIT_STREAM,
        { label: 'oldest record not in S3, s', stat: 'Maximum' },
      ],
      [
        'AWS/Firehose',
        'DeliveryToS3.Success',
        'DeliveryStreamName',
        AUDIT_STREAM,
        { label: 'delivery success (1 = all)', stat: 'Minimum', yAxis: 'right' },
      ],
    ]);
    expect(graph.properties.annotations).toEqual({
      horizontal: [{ value: 600, label: 'alarm', yAxis: 'left' }],
    });
  });
});

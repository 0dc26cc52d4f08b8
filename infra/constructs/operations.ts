import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { FunctionKind } from '../../src/lambda/env.ts';
import { METRICS_NAMESPACE, MetricName } from '../../src/lambda/powertools.ts';

/**
 * The DynamoDB operations the AWS adapters call (src/adapters/aws): the throttle alarm of a table
 * sums `ThrottledRequests` over them. A CloudWatch alarm's math expression takes at most 10 metrics.
 */
export const THROTTLE_OPERATIONS: readonly dynamodb.Operation[] = [
  dynamodb.Operation.GET_ITEM,
  dynamodb.Operation.BATCH_GET_ITEM,
  dynamodb.Operation.QUERY,
  dynamodb.Operation.SCAN,
  dynamodb.Operation.PUT_ITEM,
  dynamodb.Operation.UPDATE_ITEM,
  dynamodb.Operation.DELETE_ITEM,
  dynamodb.Operation.BATCH_WRITE_ITEM,
  dynamodb.Operation.TRANSACT_WRITE_ITEMS,
];

export interface FanoutOperationsProps {
  /**
   * Address subscribed to the alarm topic (the subscription must be confirmed from the mail).
   * @default no subscription
   */
  readonly alarmEmail?: string;
  /**
   * Key of the alarm topic. Its policy must let `cloudwatch.amazonaws.com` use it
   * (`kms:GenerateDataKey*`, `kms:Decrypt`), or alarms cannot publish.
   * @default a new key with rotation, which CloudWatch of this account may use
   */
  readonly alarmTopicKey?: kms.IKey;
  /**
   * Dead-letter queues by name (`push`, `email`, `fanout-failures` …): each has an alarm on any
   * visible message.
   */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  /**
   * Work queues by name, for the dashboard's depth and age-of-oldest graphs.
   * @default none on the dashboard
   */
  readonly queues?: Readonly<Record<string, sqs.IQueue>>;
  /** Lambda functions by name: each has an alarm on errors and one on throttles. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** The event log's Kinesis stream. */
  readonly eventStream: kinesis.IStream;
  /**
   * Largest tolerated age of the oldest record read from the stream: above it for 3 of 5
   * minutes, the fan-out is falling behind.
   * @default Duration.minutes(1)
   */
  readonly iteratorAgeThreshold?: Duration;
  /** DynamoDB tables by name: each has an alarm on throttled requests. */
  readonly tables: Readonly<Record<string, dynamodb.ITable>>;
  /** Name of the audit trail's Firehose stream. */
  readonly auditDeliveryStreamName: string;
  /**
   * Largest tolerated age of the oldest audit record not yet in S3.
   * @default Duration.minutes(15)
   */
  readonly auditFreshnessThreshold?: Duration;
  /**
   * The replication of the audit trail from Firehose's landing bucket into the Object Lock bucket
   * (`FanoutAudit`): alarmed on any failed replication and on replication later than 15 minutes.
   * @default no replication alarms
   */
  readonly auditReplication?: {
    readonly sourceBucketName: string;
    readonly destinationBucketName: string;
    readonly ruleId: string;
  };
  /**
   * Name of the CloudWatch dashboard.
   * @default a name CloudFormation generates
   */
  readonly dashboardName?: string;
  /**
   * What happens to the alarm topic's key when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * `ThrottledRequests` of one table summed over `THROTTLE_OPERATIONS`, per 5 minutes. Each operation's
 * series exists only where that operation was throttled, and arithmetic on series keeps only the
 * times all of them have, so each is filled with 0 first (which `metricThrottledRequestsForOperations`
 * does not do). `idPrefix` keeps the metric ids apart when several tables share a graph.
 */
export function throttledRequests(
  table: dynamodb.ITable,
  idPrefix: string,
  label: string,
): cloudwatch.MathExpression {
  const period = Duration.minutes(5);
  const usingMetrics: Record<string, cloudwatch.IMetric> = {};
  for (const operation of THROTTLE_OPERATIONS) {
    usingMetrics[`${idPrefix}${operation.toLowerCase()}`] = table.metric('ThrottledRequests', {
      dimensionsMap: { TableName: table.tableName, Operation: operation },
      statistic: cloudwatch.Stats.SUM,
      period,
    });
  }
  return new cloudwatch.MathExpression({
    expression: Object.keys(usingMetrics)
      .map((id) => `FILL(${id}, 0)`)
      .join(' + '),
    usingMetrics,
    label,
    period,
  });
}

/** The `service` dimension Powertools gives a function's metrics. */
function service(kind: FunctionKind): string {
  return `fanout-${kind}`;
}

/**
 * The operator's view of Fanout on AWS: an encrypted SNS topic for alarms (with an optional email
 * subscription), alarms on what needs a human (dead letters, a stream falling behind, Lambda errors
 * and throttles, DynamoDB throttling, audit records not reaching S3), and one dashboard with the
 * pipeline's own metrics (the functions' EMF metrics, namespace `Fanout`, docs/lambda.md) beside
 * the services' metrics. Every alarm notifies the topic when it fires and when it clears.
 */
export class FanoutOperations extends Construct {
  readonly alarmTopic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  /** Every alarm, by a name made of what it watches (`dlq-push`, `errors-fanout`, …). */
  readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;

  constructor(scope: Construct, id: string, props: FanoutOperationsProps) {
    super(scope, id);
    const key = props.alarmTopicKey ?? this.#alarmKey(props.removalPolicy ?? RemovalPolicy.RETAIN);
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Fanout alarms',
      masterKey: key,
      enforceSSL: true,
    });
    // The topic policy replaces SNS's default one: CloudWatch of this account is let in by name.
    this.alarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alarmTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: {
            'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*`,
          },
        },
      }),
    );
    if (props.alarmEmail !== undefined) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }

    const alarms: Record<string, cloudwatch.Alarm> = {};
    const action = new actions.SnsAction(this.alarmTopic);
    const alarm = (
      name: string,
      metric: cloudwatch.IMetric,
      options: {
        threshold: number;
        description: string;
        comparison?: cloudwatch.ComparisonOperator;
        evaluationPeriods?: number;
        datapointsToAlarm?: number;
      },
    ): void => {
      const created = new cloudwatch.Alarm(this, `Alarm-${name}`, {
        metric,
        threshold: options.threshold,
        comparisonOperator: options.comparison ?? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: options.evaluationPeriods ?? 1,
        datapointsToAlarm: options.datapointsToAlarm ?? options.evaluationPeriods ?? 1,
        // No traffic publishes no data point: that is not a failure.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `Fanout: ${options.description}`,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      alarms[name] = created;
    };

    const oneMinute = Duration.minutes(1);
    const fiveMinutes = Duration.minutes(5);
    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      alarm(
        `dlq-${name}`,
        queue.metricApproximateNumberOfMessagesVisible({
          statistic: cloudwatch.Stats.MAXIMUM,
          period: oneMinute,
        }),
        {
          threshold: 0,
          description: `messages in the ${name} dead-letter queue: inspect, fix, then redrive (docs/deploy.md, runbook).`,
        },
      );
    }
    const iteratorAge = props.iteratorAgeThreshold ?? Duration.minutes(1);
    alarm(
      'stream-iterator-age',
      props.eventStream.metricGetRecordsIteratorAgeMilliseconds({
        statistic: cloudwatch.Stats.MAXIMUM,
        period: oneMinute,
      }),
      {
        threshold: iteratorAge.toMilliseconds(),
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        description: `the oldest event read from the stream is older than ${iteratorAge.toHumanString()}: the fan-out is falling behind or stuck on a record (docs/deploy.md, runbook).`,
      },
    );
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(`errors-${name}`, fn.metricErrors({ statistic: cloudwatch.Stats.SUM, period: fiveMinutes }), {
        threshold: 0,
        description: `the ${name} function failed invocations.`,
      });
      alarm(
        `throttles-${name}`,
        fn.metricThrottles({ statistic: cloudwatch.Stats.SUM, period: fiveMinutes }),
        {
          threshold: 0,
          description: `the ${name} function was throttled (concurrency limit).`,
        },
      );
    }
    for (const [name, table] of Object.entries(props.tables)) {
      alarm(`throttled-${name}`, throttledRequests(table, 't', `${name} throttled requests`), {
        threshold: 0,
        description: `requests to the ${name} table were throttled.`,
      });
    }
    const firehose = (metricName: string, statistic: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: 'AWS/Firehose',
        metricName,
        dimensionsMap: { DeliveryStreamName: props.auditDeliveryStreamName },
        statistic,
        period: fiveMinutes,
      });
    const freshness = props.auditFreshnessThreshold ?? Duration.minutes(15);
    alarm('audit-freshness', firehose('DeliveryToS3.DataFreshness', cloudwatch.Stats.MAXIMUM), {
      threshold: freshness.toSeconds(),
      description: `audit records have waited more than ${freshness.toHumanString()} to reach S3.`,
    });
    alarm('audit-delivery', firehose('DeliveryToS3.Success', cloudwatch.Stats.MINIMUM), {
      threshold: 1,
      comparison: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      description:
        'Firehose failed to deliver audit records to S3 (it retries; records past its retry window go to the error prefix).',
    });
    if (props.auditReplication !== undefined) {
      const r = props.auditReplication;
      const replication = (metricName: string, statistic: string) =>
        new cloudwatch.Metric({
          namespace: 'AWS/S3',
          metricName,
          dimensionsMap: {
            SourceBucket: r.sourceBucketName,
            DestinationBucket: r.destinationBucketName,
            RuleId: r.ruleId,
          },
          statistic,
          period: fiveMinutes,
        });
      alarm('audit-replication', replication('OperationsFailedReplication', cloudwatch.Stats.SUM), {
        threshold: 0,
        description:
          'audit objects failed to replicate from the landing bucket into the Object Lock trail: they are not locked yet (docs/deploy.md, runbook).',
      });
      alarm('audit-replication-latency', replication('ReplicationLatency', cloudwatch.Stats.MAXIMUM), {
        threshold: 15 * 60,
        evaluationPeriods: 3,
        description: 'audit objects take more than 15 minutes to reach the Object Lock trail.',
      });
    }
    this.alarms = alarms;

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      ...(props.dashboardName === undefined ? {} : { dashboardName: props.dashboardName }),
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(alarms), width: 24 }),
    );
    this.dashboard.addWidgets(...this.#pipelineWidgets());
    this.dashboard.addWidgets(...this.#serviceWidgets(props, iteratorAge, freshness));
  }

  /** The functions' own EMF metrics: the pipeline from accepted events to delivery outcomes. */
  #pipelineWidgets(): cloudwatch.IWidget[] {
    const fiveMinutes = Duration.minutes(5);
    const emf = (name: MetricName, kind: FunctionKind, label?: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { service: service(kind) },
        statistic: cloudwatch.Stats.SUM,
        period: fiveMinutes,
        ...(label === undefined ? {} : { label }),
      });
    // Deliveries carry `channel` and `outcome` besides `service`: one line per outcome found.
    const deliveries = (channel: 'push' | 'email'): cloudwatch.MathExpression =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${METRICS_NAMESPACE},channel,outcome,service} MetricName="${MetricName.Deliveries}" channel="${channel}"', 'Sum', 300)`,
        usingMetrics: {},
        label: '',
        period: fiveMinutes,
      });
    const graph = (title: string, left: cloudwatch.IMetric[], width = 8): cloudwatch.GraphWidget =>
      new cloudwatch.GraphWidget({ title, left, width, height: 6 });
    return [
      graph('Events: accepted, fanned out, undecodable', [
        emf(MetricName.EventsAccepted, FunctionKind.EventApi, 'accepted (event API)'),
        emf(MetricName.EventsFannedOut, FunctionKind.Fanout, 'fanned out'),
        emf(MetricName.UndecodableRecords, FunctionKind.Fanout, 'undecodable'),
      ]),
      graph('Fan-out writes', [
        emf(MetricName.InboxRowsWritten, FunctionKind.Fanout, 'inbox rows'),
        emf(MetricName.DeliveryJobsQueued, FunctionKind.Fanout, 'delivery jobs'),
      ]),
      graph('Batch items handed back for retry', [
        emf(MetricName.BatchItemFailures, FunctionKind.Fanout, 'fanout'),
        emf(MetricName.BatchItemFailures, FunctionKind.PushConsumer, 'push consumer'),
        emf(MetricName.BatchItemFailures, FunctionKind.EmailConsumer, 'email consumer'),
        emf(MetricName.BatchItemFailures, FunctionKind.PreferenceInvalidation, 'preference invalidation'),
      ]),
      graph('Push deliveries by outcome', [deliveries('push')], 12),
      graph('Email deliveries by outcome', [deliveries('email')], 12),
      graph('HTTP API answers', [
        emf(MetricName.HttpRequests, FunctionKind.EventApi, 'event API requests'),
        emf(MetricName.HttpClientErrors, FunctionKind.EventApi, 'event API 4xx'),
        emf(MetricName.HttpServerErrors, FunctionKind.EventApi, 'event API 5xx'),
        emf(MetricName.HttpRequests, FunctionKind.InboxApi, 'inbox API requests'),
        emf(MetricName.HttpClientErrors, FunctionKind.InboxApi, 'inbox API 4xx'),
        emf(MetricName.HttpServerErrors, FunctionKind.InboxApi, 'inbox API 5xx'),
      ]),
      graph('Preference cache invalidations', [
        emf(MetricName.PreferencesInvalidated, FunctionKind.PreferenceInvalidation, 'invalidated'),
      ]),
    ];
  }

  /** The managed services' metrics: stream lag, queues, functions, tables, audit delivery. */
  #serviceWidgets(
    props: FanoutOperationsProps,
    iteratorAge: Duration,
    freshness: Duration,
  ): cloudwatch.IWidget[] {
    const oneMinute = Duration.minutes(1);
    const fiveMinutes = Duration.minutes(5);
    const queues = { ...props.queues };
    const queueMetrics = (
      of: (queue: sqs.IQueue, label: string) => cloudwatch.Metric,
      sets: Readonly<Record<string, sqs.IQueue>>,
      suffix: string,
    ): cloudwatch.Metric[] => Object.entries(sets).map(([name, queue]) => of(queue, `${name}${suffix}`));
    const functions = Object.entries(props.functions);
    const tables = Object.entries(props.tables);
    const firehose = (metricName: string, statistic: string, label: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: 'AWS/Firehose',
        metricName,
        dimensionsMap: { DeliveryStreamName: props.auditDeliveryStreamName },
        statistic,
        period: fiveMinutes,
        label,
      });
    return [
      new cloudwatch.GraphWidget({
        title: 'Event stream: iterator age (max) and records in',
        left: [
          props.eventStream.metricGetRecordsIteratorAgeMilliseconds({
            statistic: cloudwatch.Stats.MAXIMUM,
            period: oneMinute,
            label: 'iterator age, ms',
          }),
        ],
        leftAnnotations: [{ value: iteratorAge.toMilliseconds(), label: 'alarm' }],
        right: [
          props.eventStream.metricIncomingRecords({
            statistic: cloudwatch.Stats.SUM,
            period: oneMinute,
            label: 'records in',
          }),
        ],
        width: 12,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Queues: visible messages (dead-letter queues on the right)',
        left: queueMetrics(
          (q, label) =>
            q.metricApproximateNumberOfMessagesVisible({
              statistic: cloudwatch.Stats.MAXIMUM,
              period: oneMinute,
              label,
            }),
          queues,
          '',
        ),
        right: queueMetrics(
          (q, label) =>
            q.metricApproximateNumberOfMessagesVisible({
              statistic: cloudwatch.Stats.MAXIMUM,
              period: oneMinute,
              label,
            }),
          props.deadLetterQueues,
          ' DLQ',
        ),
        width: 12,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Queues: age of the oldest message, s',
        left: queueMetrics(
          (q, label) =>
            q.metricApproximateAgeOfOldestMessage({
              statistic: cloudwatch.Stats.MAXIMUM,
              period: oneMinute,
              label,
            }),
          queues,
          '',
        ),
        width: 8,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda errors and throttles',
        left: functions.map(([name, fn]) =>
          fn.metricErrors({ statistic: cloudwatch.Stats.SUM, period: fiveMinutes, label: `${name} errors` }),
        ),
        right: functions.map(([name, fn]) =>
          fn.metricThrottles({
            statistic: cloudwatch.Stats.SUM,
            period: fiveMinutes,
            label: `${name} throttles`,
          }),
        ),
        width: 8,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lambda duration p99, ms',
        left: functions.map(([name, fn]) =>
          fn.metricDuration({ statistic: cloudwatch.Stats.p(99), period: fiveMinutes, label: name }),
        ),
        width: 8,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'DynamoDB: consumed write units (throttled requests on the right)',
        left: tables.map(([name, table]) =>
          table.metricConsumedWriteCapacityUnits({
            statistic: cloudwatch.Stats.SUM,
            period: fiveMinutes,
            label: name,
          }),
        ),
        right: tables.map(([name, table], i) => throttledRequests(table, `t${i}`, `${name} throttled`)),
        width: 12,
        height: 6,
      }),
      new cloudwatch.GraphWidget({
        title: 'Audit trail: Firehose → S3',
        left: [
          firehose('DeliveryToS3.DataFreshness', cloudwatch.Stats.MAXIMUM, 'oldest record not in S3, s'),
        ],
        leftAnnotations: [{ value: freshness.toSeconds(), label: 'alarm' }],
        right: [firehose('DeliveryToS3.Success', cloudwatch.Stats.MINIMUM, 'delivery success (1 = all)')],
        width: 12,
        height: 6,
      }),
    ];
  }

  /** A key CloudWatch alarms of this account may publish to the topic with. */
  #alarmKey(removalPolicy: RemovalPolicy): kms.Key {
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'Fanout alarm topic',
      enableKeyRotation: true,
      removalPolicy,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    return key;
  }
}

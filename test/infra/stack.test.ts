import type { CfnElement } from 'aws-cdk-lib';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FanoutStack } from '../../infra/stack.ts';
import { TABLES, type TableName, type TableSpec } from '../../src/adapters/aws/tables.ts';
import { FULL_PROPS, synthStack } from './support.ts';

let stack: FanoutStack;
let template: Template;

beforeAll(() => {
  ({ stack, template } = synthStack(FULL_PROPS));
}, 300_000);

/** The logical id of a construct's CloudFormation resource. */
function logicalId(construct: { node: { defaultChild?: unknown } } | CfnElement): string {
  const cfn = ('node' in construct && (construct.node.defaultChild as CfnElement | undefined)) || construct;
  return stack.getLogicalId(cfn as CfnElement);
}

/** Every action of the policies attached to a role. */
function actionsOfRole(roleLogicalId: string): string[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([{ Ref: roleLogicalId }]) },
  });
  return Object.values(policies).flatMap((policy) =>
    // biome-ignore lint/suspicious/noExplicitAny: policy documents are plain JSON.
    (policy.Properties.PolicyDocument.Statement as any[]).flatMap((s) => [s.Action].flat()),
  );
}

/** A `FanoutScheduledFunction`: its every-minute rule, one run at a time, in the VPC, with `variables`. */
function expectScheduled(fn: string, variables: readonly string[]): void {
  template.hasResourceProperties('AWS::Events::Rule', {
    ScheduleExpression: 'rate(1 minute)',
    State: 'ENABLED',
    Targets: [
      Match.objectLike({ Arn: { 'Fn::GetAtt': [fn, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } }),
    ],
  });
  const resource = template.toJSON().Resources[fn];
  expect(resource.Properties.ReservedConcurrentExecutions).toBe(1);
  expect(resource.Properties.VpcConfig).toBeDefined();
  expect(Object.keys(resource.Properties.Environment.Variables)).toEqual(
    expect.arrayContaining([...variables]),
  );
}

/** The actions a role's policies allow on `table` (its ARN or its indexes). */
function tableActionsOfRole(roleLogicalId: string, table: string): string[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
    JSON.stringify(policy.Properties.Roles).includes(roleLogicalId),
  );
  return policies.flatMap((policy) =>
    // biome-ignore lint/suspicious/noExplicitAny: policy documents are plain JSON.
    (policy.Properties.PolicyDocument.Statement as any[])
      .filter((s) => JSON.stringify(s.Resource ?? '').includes(table))
      .flatMap((s) => [s.Action].flat() as string[]),
  );
}

function roleOf(fn: { role?: unknown }): string {
  return logicalId(fn.role as CfnElement & { node: { defaultChild?: unknown } });
}

describe('FanoutStack: tables', () => {
  it.each(Object.keys(TABLES) as TableName[])('declares the %s table from its spec', (name) => {
    const spec: TableSpec = TABLES[name];
    const keySchema: { AttributeName: string; KeyType: string }[] = [
      { AttributeName: spec.partitionKey, KeyType: 'HASH' },
    ];
    if (spec.sortKey !== undefined) keySchema.push({ AttributeName: spec.sortKey, KeyType: 'RANGE' });
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        TableName: `fanout-test-${name}`,
        KeySchema: keySchema,
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        ...(spec.ttlAttribute !== undefined
          ? { TimeToLiveSpecification: { AttributeName: spec.ttlAttribute, Enabled: true } }
          : {}),
        Replicas: Match.arrayWith(
          ['eu-central-1', 'us-east-1', 'eu-west-1'].map((region) =>
            Match.objectLike({
              Region: region,
              DeletionProtectionEnabled: true,
              PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
              SSESpecification: {
                KMSMasterKeyId:
                  region === 'eu-west-1'
                    ? { 'Fn::GetAtt': [logicalId(stack.data.key as never), 'Arn'] }
                    : FULL_PROPS.replicaKeyArns?.[region],
              },
            }),
          ),
        ),
      }),
    });
  });

  it('gives the inbox its sparse unread index and the preferences table its change stream', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'fanout-test-inbox',
      GlobalSecondaryIndexes: [
        {
          IndexName: 'unread',
          KeySchema: [
            { AttributeName: 'upk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    });
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'fanout-test-preferences',
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
  });

  it('encrypts the tables with one customer-managed key that rotates and is retained', () => {
    template.hasResource('AWS::KMS::Key', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        EnableKeyRotation: true,
        Description: 'Fanout DynamoDB tables (fanout-test)',
      }),
    });
  });
});

describe('FanoutStack: event stream and fan-out worker', () => {
  it('provisions the shards asked for, encrypted, kept on deletion', () => {
    template.hasResource('AWS::Kinesis::Stream', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        ShardCount: 4,
        StreamModeDetails: { StreamMode: 'PROVISIONED' },
        StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
        RetentionPeriodHours: 24,
      }),
    });
  });

  it('reads the stream from TRIM_HORIZON with partial batch responses, bisection and a failure queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.ingest.stream as never), 'Arn'] },
      FunctionName: { Ref: logicalId(stack.worker.function as never) },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      ParallelizationFactor: 2,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 86400,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(stack.worker.failureQueue as never), 'Arn'] } },
      },
    });
  });

  it('encrypts the failure queue with its own rotating key and keeps it', () => {
    template.hasResource('AWS::SQS::Queue', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KmsMasterKeyId: { 'Fn::GetAtt': [logicalId(stack.worker.failureQueueKey as never), 'Arn'] },
        MessageRetentionPeriod: 14 * 24 * 3600,
      }),
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      Description: 'Fanout fan-out failure destination queue',
      EnableKeyRotation: true,
    });
  });

  it('runs the fan-out function on Node 24, ARM64, traced, with its reserved concurrency', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      ReservedConcurrentExecutions: 20,
      Timeout: 120,
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'fanout-fanout',
          FANOUT_TABLE_PREFIX: 'fanout-test',
        }),
      },
    });
  });
});

describe('FanoutStack: HTTP API', () => {
  it('has one REQUEST authorizer with simple responses, cached by the Authorization header', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      AuthorizerPayloadFormatVersion: '2.0',
      EnableSimpleResponses: true,
      IdentitySource: ['$request.header.Authorization'],
      AuthorizerResultTtlInSeconds: 300,
    });
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
  });

  it('routes /v1/me/* to the inbox API and the other /v1 routes to the event API, both authorized', () => {
    const authorizer = Object.keys(template.findResources('AWS::ApiGatewayV2::Authorizer'))[0];
    for (const [routeKey, fn] of [
      ['ANY /v1/{proxy+}', stack.ingest.eventApi],
      ['ANY /v1/me/{proxy+}', stack.ingest.inboxApi],
    ] as const) {
      const routes = template.findResources('AWS::ApiGatewayV2::Route', {
        Properties: { RouteKey: routeKey, AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizer } },
      });
      expect(Object.keys(routes)).toHaveLength(1);
      const target: string = Object.values(routes)[0]?.Properties.Target['Fn::Join'][1][1].Ref;
      expect(template.toJSON().Resources[target]).toMatchObject({
        Type: 'AWS::ApiGatewayV2::Integration',
        Properties: {
          IntegrationType: 'AWS_PROXY',
          PayloadFormatVersion: '2.0',
          IntegrationUri: { 'Fn::GetAtt': [logicalId(fn as never), 'Arn'] },
        },
      });
    }
  });

  it('serves only the static pages and the unsubscribe link without credentials', () => {
    const open = template.findResources('AWS::ApiGatewayV2::Route', {
      Properties: { AuthorizationType: 'NONE' },
    });
    const keys = Object.values(open).map((r) => r.Properties.RouteKey as string);
    expect(keys.sort()).toEqual(
      [
        ...[
          '/',
          '/app.js',
          '/preferences.js',
          '/styles.css',
          '/sse.js',
          '/web-push.js',
          '/sw.js',
          '/fanout-inbox.js',
          '/inbox-api.js',
          '/inbox-view.js',
          '/inbox-styles.js',
          '/inbox-list.js',
          '/inbox-template.js',
          '/ops',
          '/ops.js',
          '/openapi.json',
          '/docs',
          '/docs/{proxy+}',
        ].map((p) => `GET ${p}`),
        'OPTIONS /v1/me/{proxy+}',
        'GET /v1/unsubscribe',
        'HEAD /v1/unsubscribe',
        'POST /v1/unsubscribe',
      ].sort(),
    );
  });

  it('sends the CORS preflight of /v1/me/* to the inbox API unauthorized, and sets no API-wide CORS', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).filter(
      (r) => r.Properties.RouteKey === 'OPTIONS /v1/me/{proxy+}',
    );
    expect(routes).toHaveLength(1);
    expect(routes[0]!.Properties.AuthorizationType).toBe('NONE');
    const target: string = routes[0]!.Properties.Target['Fn::Join'][1][1].Ref;
    expect(template.toJSON().Resources[target].Properties.IntegrationUri).toEqual({
      'Fn::GetAtt': [logicalId(stack.ingest.inboxApi as never), 'Arn'],
    });
    // API Gateway's own CORS would answer for the tenant's API-key routes too.
    for (const api of Object.values(template.findResources('AWS::ApiGatewayV2::Api'))) {
      expect(api.Properties.CorsConfiguration).toBeUndefined();
    }
  });

  it('sends the unsubscribe link to the inbox API, with no authorizer (its signed token is the credential)', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).filter((r) =>
      (r.Properties.RouteKey as string).endsWith(' /v1/unsubscribe'),
    );
    expect(routes).toHaveLength(3);
    for (const route of routes) {
      expect(route.Properties.AuthorizationType).toBe('NONE');
      expect(route.Properties.AuthorizerId).toBeUndefined();
      const target: string = route.Properties.Target['Fn::Join'][1][1].Ref;
      expect(template.toJSON().Resources[target].Properties.IntegrationUri).toEqual({
        'Fn::GetAtt': [logicalId(stack.ingest.inboxApi as never), 'Arn'],
      });
    }
  });

  it('throttles the default stage and writes JSON access logs to a retained log group', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 800 },
      AccessLogSettings: {
        DestinationArn: { 'Fn::GetAtt': [logicalId(stack.ingest.accessLogs as never), 'Arn'] },
        Format: Match.serializedJson(
          Match.objectLike({
            requestId: '$context.requestId',
            status: '$context.status',
            routeKey: '$context.routeKey',
          }),
        ),
      },
    });
    template.hasResource('AWS::Logs::LogGroup', {
      DeletionPolicy: 'Retain',
      Properties: { RetentionInDays: 90 },
    });
  });
});

describe('FanoutStack: environment', () => {
  it('has no missing-sender warning when SES has an identity', () => {
    expect(
      Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('email_not_configured')),
    ).toEqual([]);
  });

  const infra = [
    'FANOUT_TABLE_PREFIX',
    'FANOUT_EVENT_STREAM',
    'FANOUT_PUSH_QUEUE_URL',
    'FANOUT_PUSH_DLQ_URL',
    'FANOUT_EMAIL_QUEUE_URL',
    'FANOUT_EMAIL_DLQ_URL',
    'FANOUT_AUDIT_STREAM',
    'FANOUT_CACHE_REDIS_URL',
    'FANOUT_DEDUP_REDIS_URL',
    'FANOUT_REDIS_CLUSTER',
  ];
  const variables = (fn: unknown): Record<string, unknown> =>
    template.toJSON().Resources[logicalId(fn as never)].Properties.Environment.Variables;

  it('gives every pipeline function the names of all infrastructure, and no HMAC secret', () => {
    for (const fn of [stack.worker.function, stack.delivery.consumers.push, stack.delivery.consumers.email]) {
      const env = variables(fn);
      expect(Object.keys(env)).toEqual(expect.arrayContaining(infra));
      expect(env).not.toHaveProperty('FANOUT_TOKEN_SECRET');
      expect(env).not.toHaveProperty('FANOUT_CURSOR_SECRET');
    }
    // Only the email consumer signs unsubscribe links.
    expect(variables(stack.worker.function)).not.toHaveProperty('FANOUT_UNSUBSCRIBE_SECRET');
    expect(variables(stack.delivery.consumers.push)).not.toHaveProperty('FANOUT_UNSUBSCRIBE_SECRET');
    expect(JSON.stringify(variables(stack.delivery.consumers.email).FANOUT_UNSUBSCRIBE_SECRET)).toMatch(
      /\{\{resolve:secretsmanager:/,
    );
  });

  it('gives the API functions the secrets as dynamic references, never their values', () => {
    for (const fn of [stack.ingest.eventApi, stack.ingest.inboxApi]) {
      const env = variables(fn);
      expect(Object.keys(env)).toEqual(
        expect.arrayContaining([...infra, 'FANOUT_TOKEN_SECRET', 'FANOUT_CURSOR_SECRET']),
      );
      for (const name of ['FANOUT_TOKEN_SECRET', 'FANOUT_CURSOR_SECRET']) {
        expect(JSON.stringify(env[name])).toMatch(/\{\{resolve:secretsmanager:/);
      }
    }
    // The unsubscribe key: the inbox API checks links (it serves /v1/unsubscribe), the event API never.
    expect(JSON.stringify(variables(stack.ingest.inboxApi).FANOUT_UNSUBSCRIBE_SECRET)).toMatch(
      /\{\{resolve:secretsmanager:/,
    );
    expect(variables(stack.ingest.eventApi)).not.toHaveProperty('FANOUT_UNSUBSCRIBE_SECRET');
  });

  it('gives the authorizer the tenants table and the token key only', () => {
    const env = variables(stack.ingest.authorizer);
    expect(Object.keys(env).sort()).toEqual(
      [
        'FANOUT_TABLE_PREFIX',
        'FANOUT_TOKEN_SECRET',
        'POWERTOOLS_METRICS_NAMESPACE',
        'POWERTOOLS_SERVICE_NAME',
        'NODE_OPTIONS',
      ].sort(),
    );
  });

  it('tells every function that reads or writes the inbox the same unread mode, counter by default', () => {
    // Prepare
    const functions = [
      stack.worker.function,
      stack.delivery.consumers.push,
      stack.delivery.consumers.email,
      stack.ingest.eventApi,
      stack.ingest.inboxApi,
    ];
    const gsi = synthStack({ ...FULL_PROPS, unreadMode: 'gsi' });
    // Act / Assess
    for (const fn of functions) expect(variables(fn).FANOUT_UNREAD_MODE).toBe('counter');
    // Same construct path in both stacks, so the same logical id.
    const gsiEnv =
      gsi.template.toJSON().Resources[logicalId(gsi.stack.worker.function as never)].Properties.Environment
        .Variables;
    expect(gsiEnv.FANOUT_UNREAD_MODE).toBe('gsi');
  });

  it('tells every function that can send delivery jobs how many to pack a message, 10 by default', () => {
    // Prepare
    const senders = (t: Template) =>
      Object.values(t.toJSON().Resources as Record<string, { Type: string; Properties: never }>)
        .filter((r) => r.Type === 'AWS::Lambda::Function')
        .map(
          (r) =>
            (r.Properties as { Environment?: { Variables?: Record<string, unknown> } }).Environment
              ?.Variables ?? {},
        )
        .filter((v) => v.FANOUT_PUSH_QUEUE_URL !== undefined);
    const single = synthStack({ ...FULL_PROPS, jobsPerMessage: 1 });
    // Act
    const byDefault = senders(template);
    const one = senders(single.template);
    // Assess: the worker, both consumers, the APIs and the digest sender at least
    expect(byDefault.length).toBeGreaterThanOrEqual(5);
    expect(new Set(byDefault.map((v) => v.FANOUT_JOBS_PER_MESSAGE))).toEqual(new Set(['10']));
    expect(new Set(one.map((v) => v.FANOUT_JOBS_PER_MESSAGE))).toEqual(new Set(['1']));
  });

  it('gives the push consumer, and it alone, the default frequency caps and their store', () => {
    expect(variables(stack.delivery.consumers.push).FANOUT_FREQUENCY_CAPS_STORE).toBe('dynamodb');
    expect(JSON.parse(variables(stack.delivery.consumers.push).FANOUT_FREQUENCY_CAPS as string)).toEqual(
      FULL_PROPS.frequencyCaps,
    );
    for (const fn of [stack.worker.function, stack.delivery.consumers.email, stack.ingest.eventApi]) {
      expect(variables(fn)).not.toHaveProperty('FANOUT_FREQUENCY_CAPS');
    }
  });

  it('gives the email consumer its sender and configuration set', () => {
    expect(variables(stack.delivery.consumers.email)).toMatchObject({
      FANOUT_SES_FROM: 'notifications@mail.example.com',
      FANOUT_SES_CONFIGURATION_SET: expect.anything(),
    });
  });
});

describe('FanoutStack: grants', () => {
  const forbidden = (a: string) => a === '*' || a.endsWith(':*') || /Delete(Table|Stream|Queue)$/.test(a);

  it('lets the fan-out function write inbox rows and send jobs, and nothing administrative', () => {
    const actions = actionsOfRole(roleOf(stack.worker.function));
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:BatchWriteItem', 'sqs:SendMessage', 'kinesis:GetRecords']),
    );
    expect(actions.filter(forbidden)).toEqual([]);
    expect(actions).not.toContain('kinesis:PutRecords');
    expect(actions).not.toContain('ses:SendEmail');
  });

  it("lets the inbox API read preferences (the items' locale) and write them (unsubscribe links)", () => {
    const preferences = logicalId(stack.data.tables.preferences as never);
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: Match.arrayWith([{ Ref: roleOf(stack.ingest.inboxApi) }]) },
    });
    const statements = Object.values(policies).flatMap(
      // biome-ignore lint/suspicious/noExplicitAny: policy documents are plain JSON.
      (policy) => policy.Properties.PolicyDocument.Statement as any[],
    );
    const writes = statements.filter(
      (s) =>
        [s.Action].flat().includes('dynamodb:PutItem') && JSON.stringify(s.Resource).includes(preferences),
    );
    expect(writes).toHaveLength(1);
    // Only the put the unsubscribe route makes: nothing that deletes or writes in bulk.
    const onPreferences = statements.filter((s) => JSON.stringify(s.Resource).includes(preferences));
    const actions = onPreferences.flatMap((s) => [s.Action].flat());
    expect(actions).not.toContain('dynamodb:DeleteItem');
    expect(actions).not.toContain('dynamodb:BatchWriteItem');
    expect(actions).not.toContain('dynamodb:UpdateItem');
    // Inbox items are rendered in the user's locale, read from their preferences.
    expect(actions).toContain('dynamodb:GetItem');
  });

  it('lets the event API put records and the authorizer only read', () => {
    expect(actionsOfRole(roleOf(stack.ingest.eventApi))).toEqual(
      expect.arrayContaining(['kinesis:PutRecords', 'kinesis:PutRecord', 'sqs:GetQueueAttributes']),
    );
    const authorizer = actionsOfRole(roleOf(stack.ingest.authorizer));
    expect(authorizer).toContain('dynamodb:GetItem');
    expect(authorizer.filter((a) => /Put|Write|Update|Delete/.test(a) && a.startsWith('dynamodb:'))).toEqual(
      [],
    );
    expect(authorizer.filter(forbidden)).toEqual([]);
  });

  it('lets only the email consumer send email, as the identity and its configuration set', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleOf(stack.delivery.consumers.email) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'SendEmailAsIdentity',
            Action: 'ses:SendEmail',
            Resource: Match.arrayWith([
              {
                'Fn::Join': [
                  '',
                  Match.arrayWith([Match.stringLikeRegexp(':identity/mail\\.example\\.com$')]),
                ],
              },
            ]),
          }),
        ]),
      },
    });
    for (const fn of [stack.delivery.consumers.push, stack.worker.function, stack.ingest.eventApi]) {
      expect(actionsOfRole(roleOf(fn))).not.toContain('ses:SendEmail');
    }
  });

  it('lets only the push consumer read and put frequency-cap items, and nothing else on that table', () => {
    // Prepare
    const table = logicalId(stack.data.tables.frequencyCaps as never);
    const policies = Object.entries(template.findResources('AWS::IAM::Policy'));
    const onTable = (statement: { Resource?: unknown }) =>
      JSON.stringify(statement.Resource ?? '').includes(table);
    // Act
    const granted = policies.flatMap(([, policy]) =>
      // biome-ignore lint/suspicious/noExplicitAny: policy documents are plain JSON.
      (policy.Properties.PolicyDocument.Statement as any[]).filter(onTable).map((s) => ({
        roles: JSON.stringify(policy.Properties.Roles),
        actions: [s.Action].flat() as string[],
      })),
    );
    // Assess
    const push = roleOf(stack.delivery.consumers.push);
    expect(granted.length).toBeGreaterThan(0);
    expect(granted.every((g) => g.roles.includes(push))).toBe(true);
    const actions = granted.flatMap((g) => g.actions);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem']));
    expect(
      actions.filter((a) => /Delete|Update|BatchWrite|\*$/.test(a) && a.startsWith('dynamodb:')),
    ).toEqual([]);
  });

  it('lets the push consumer read the inbox table (digests read their group) and never write it', () => {
    // Prepare
    const table = logicalId(stack.data.tables.inbox as never);
    // Act
    const actions = tableActionsOfRole(roleOf(stack.delivery.consumers.push), table);
    // Assess
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:BatchGetItem']));
    expect(actions.filter((a) => /Put|Delete|Update|BatchWrite|\*$/.test(a))).toEqual([]);
  });

  it('lets the email consumer read retraction tombstones on the inbox table with BatchGetItem, and nothing else there', () => {
    // Prepare
    const table = logicalId(stack.data.tables.inbox as never);
    // Act
    const actions = tableActionsOfRole(roleOf(stack.delivery.consumers.email), table);
    // Assess
    expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual(['dynamodb:BatchGetItem']);
  });

  it('gives the preference invalidation no table access', () => {
    const actions = actionsOfRole(roleOf(stack.invalidation.function));
    expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
  });
});

describe('FanoutStack: composition', () => {
  it('composes every construct: network, caches, pipe, audit, transport, operations', () => {
    for (const type of [
      'AWS::EC2::VPC',
      'AWS::ElastiCache::ServerlessCache',
      'AWS::MemoryDB::Cluster',
      'AWS::Pipes::Pipe',
      'AWS::KinesisFirehose::DeliveryStream',
      'AWS::SES::ConfigurationSet',
      'AWS::CloudWatch::Dashboard',
      'AWS::ApiGatewayV2::Api',
      'AWS::Kinesis::Stream',
    ]) {
      template.resourceCountIs(type, 1);
    }
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', Object.keys(TABLES).length);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });

  it('alarms on the fan-out failure queue like on the delivery dead-letter queues', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: Match.arrayWith([
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalId(stack.worker.failureQueue as never), 'QueueName'] },
        },
      ]),
    });
  });
});

describe('FanoutStack: preference invalidation dead letters', () => {
  it('gives the invalidation Pipe a dead-letter queue with an alarm that notifies the alarm topic', () => {
    const queue = logicalId(stack.invalidation.deadLetterQueue as never);
    const pipe = template.toJSON().Resources[logicalId(stack.invalidation.pipe)];
    expect(pipe.Properties.SourceParameters.DynamoDBStreamParameters.DeadLetterConfig).toEqual({
      Arn: { 'Fn::GetAtt': [queue, 'Arn'] },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
      AlarmActions: [{ Ref: logicalId(stack.operations.alarmTopic) }],
    });
    expect(Object.keys(stack.operations.alarms)).toContain('dlq-preference-invalidation');
  });
});

describe('FanoutStack: audit trail replication', () => {
  it('alarms on failed and late replication from the landing bucket into the Object Lock trail', () => {
    const dimensions = [
      { Name: 'DestinationBucket', Value: { Ref: logicalId(stack.audit.bucket as never) } },
      { Name: 'RuleId', Value: 'audit-trail' },
      { Name: 'SourceBucket', Value: { Ref: logicalId(stack.audit.landingBucket as never) } },
    ];
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/S3',
      MetricName: 'OperationsFailedReplication',
      Statistic: 'Sum',
      Threshold: 0,
      Dimensions: dimensions,
      AlarmActions: [{ Ref: logicalId(stack.operations.alarmTopic) }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/S3',
      MetricName: 'ReplicationLatency',
      Threshold: 900,
      Dimensions: dimensions,
    });
    // Firehose writes to the landing bucket, never to the Object Lock one.
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: Match.objectLike({
        BucketARN: { 'Fn::GetAtt': [logicalId(stack.audit.landingBucket as never), 'Arn'] },
      }),
    });
  });
});

describe('FanoutStack: dead-letter audit', () => {
  it('runs the dead-letter-audit function every minute, one at a time, in the VPC', () => {
    expectScheduled(logicalId(stack.deadLetterAudit.function), [
      'FANOUT_PUSH_DLQ_URL',
      'FANOUT_EMAIL_DLQ_URL',
      'FANOUT_DEDUP_REDIS_URL',
      'FANOUT_AUDIT_STREAM',
    ]);
    expect(Object.keys(stack.operations.alarms)).toContain('errors-dead-letter-audit');
  });

  it('may peek at the dead-letter queues and put to the audit stream, and never delete a message', () => {
    const actions = actionsOfRole(roleOf(stack.deadLetterAudit.function));
    expect(actions).toEqual(
      expect.arrayContaining([
        'sqs:ReceiveMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:GetQueueAttributes',
        'firehose:PutRecordBatch',
      ]),
    );
    expect(actions).not.toContain('sqs:DeleteMessage');
    expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
  });
});

describe('FanoutStack: email digests', () => {
  it('runs the email-digest function every minute, one at a time, in the VPC, with the sender settings', () => {
    const fn = logicalId(stack.emailDigest.function);
    expectScheduled(fn, [
      'FANOUT_TABLE_PREFIX',
      'FANOUT_DEDUP_REDIS_URL',
      'FANOUT_AUDIT_STREAM',
      'FANOUT_SES_FROM',
      'FANOUT_SES_CONFIGURATION_SET',
      'FANOUT_PUBLIC_BASE_URL',
      'FANOUT_UNSUBSCRIBE_SECRET',
    ]);
    expect(template.toJSON().Resources[fn].Properties.Handler).toBe('index.handler');
    expect(Object.keys(stack.operations.alarms)).toContain('errors-email-digest');
  });

  it('may query and clear the schedule, read inbox and preferences, send email and audit; nothing else', () => {
    const actions = actionsOfRole(roleOf(stack.emailDigest.function));
    expect(actions).toEqual(
      expect.arrayContaining([
        'dynamodb:Query',
        'dynamodb:BatchWriteItem',
        'dynamodb:GetItem',
        'ses:SendEmail',
        'firehose:PutRecordBatch',
      ]),
    );
    // Reads of the inbox and preferences come with the tables' read grant; no write but the schedule's.
    for (const forbidden of ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']) {
      expect(actions).not.toContain(forbidden);
    }
    expect(actions.filter((a) => a.startsWith('sqs:'))).toEqual([]);
  });

  it('lets the email consumer add to the schedule and nothing more on that table', () => {
    // biome-ignore lint/suspicious/noExplicitAny: policy documents are plain JSON.
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) =>
      p.Properties.Roles.some((r: { Ref: string }) => r.Ref === roleOf(stack.delivery.consumers.email))
        ? p.Properties.PolicyDocument.Statement
        : [],
    );
    const scheduleTable = logicalId(stack.data.tables.digestSchedule);
    const onSchedule = statements.filter((s: { Resource: unknown }) =>
      JSON.stringify(s.Resource).includes(scheduleTable),
    );
    expect(onSchedule.flatMap((s: { Action: unknown }) => [s.Action].flat())).toEqual([
      'dynamodb:BatchWriteItem',
    ]);
  });
});

describe('FanoutStack: cdk-nag with every option on', () => {
  it('finds nothing unacknowledged with replicas, shards, SES and reserved concurrency', () => {
    const report = new AwsSolutionsChecks().validateScope(stack);
    expect(report.violations.map((v) => `${v.severity} ${v.ruleName}`)).toEqual([]);
  });
});

describe('FanoutStack: tags', () => {
  it('tags every taggable resource Project=fanout (not the raw custom-resource providers of CDK)', () => {
    for (const type of [
      'AWS::Lambda::Function',
      'AWS::SQS::Queue',
      'AWS::Kinesis::Stream',
      'AWS::KMS::Key',
    ]) {
      for (const [id, resource] of Object.entries(template.findResources(type))) {
        if (id.startsWith('Custom')) continue;
        expect([id, resource.Properties.Tags]).toEqual([
          id,
          expect.arrayContaining([{ Key: 'Project', Value: 'fanout' }]),
        ]);
      }
    }
  });
});

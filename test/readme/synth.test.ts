import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CreateDeliveryStreamCommand, FirehoseClient } from '@aws-sdk/client-firehose';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  CreatePlatformApplicationCommand,
  ListEndpointsByPlatformApplicationCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, KinesisStreamEvent, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDigestSchedule } from '../../src/adapters/aws/digest-schedule.ts';
import { DynamoInbox } from '../../src/adapters/aws/inbox.ts';
import { RedisPreferenceCache } from '../../src/adapters/aws/preference-cache.ts';
import { DynamoPreferenceStore } from '../../src/adapters/aws/preferences.ts';
import { DynamoTenants } from '../../src/adapters/aws/tenants.ts';
import { digestEntry, digestPeriod } from '../../src/domain/email-digest.ts';
import { notificationId } from '../../src/domain/ids.ts';
import { hashApiKey, newApiKey } from '../../src/http/auth.ts';
import { createUserTokens } from '../../src/http/user-tokens.ts';
import { provisionLocal } from '../../src/runtime/local-aws/provision.ts';
import { FIXTURE_API_KEY, FIXTURE_NOW } from '../lambda/support.ts';
import {
  closeRedis,
  EMULATOR_CLIENT,
  emulatorClients,
  emulatorEndpoints,
  freshTables,
  motoEndpoint,
  readyRedis,
  uniqueName,
} from '../support/aws.ts';
import { ROOT, run } from './support.ts';

/**
 * `npm run synth` as typed, once for this file, into a directory of its own under cdk.out/ (set
 * through CDK_OUTDIR, which infra/app.ts reads): inside the repository, so that a bundle resolves
 * what Lambda's runtime provides (the AWS SDK, left out of the bundles) from node_modules.
 */
const OUT = join(ROOT, 'cdk.out', `readme-${process.pid}`);

interface LambdaFunction {
  readonly id: string;
  readonly asset: string;
  readonly environment: Record<string, string>;
}

let synth: { code: number; stdout: string; stderr: string };
let functions: LambdaFunction[] = [];

beforeAll(async () => {
  mkdirSync(join(ROOT, 'cdk.out'), { recursive: true });
  synth = await run('npm run synth', { CDK_OUTDIR: OUT });
  if (synth.code !== 0) return;
  const template = JSON.parse(readFileSync(join(OUT, 'Fanout.template.json'), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  functions = Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.Handler === 'index.handler')
    .map(([id, r]) => {
      const code = r.Properties.Code as { S3Key: string };
      const vars = ((r.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables ?? {}) as Record<string, unknown>;
      // Values CloudFormation resolves at deploy time (queue URLs, secrets) get a stand-in of the same kind.
      const environment = Object.fromEntries(
        Object.entries(vars).map(([name, value]) => [
          name,
          typeof value === 'string' ? value : standIn(name),
        ]),
      );
      return { id, asset: join(OUT, `asset.${code.S3Key.replace(/\.zip$/, '')}`), environment };
    });
}, 600_000);

afterAll(() => {
  rmSync(OUT, { recursive: true, force: true });
});

function standIn(name: string): string {
  if (name.endsWith('_URL') && name.includes('REDIS')) return 'rediss://cache.fanout.example:6379';
  if (name.endsWith('_URL')) return 'https://sqs.us-east-1.amazonaws.com/123456789012/fanout-stand-in';
  if (name.endsWith('_ARN')) return 'arn:aws:sns:us-east-1:123456789012:app/APNS/fanout';
  if (name.includes('SECRET')) return 'stand-in-secret-of-enough-bytes-0123456789';
  return 'fanout-stand-in';
}

describe('README: npm run synth', { timeout: 600_000 }, () => {
  it('writes the template and one esbuild bundle per Lambda function', () => {
    // Assess
    expect(synth.code, synth.stderr).toBe(0);
    expect(functions.map((f) => f.id).sort()).toEqual([
      expect.stringMatching(/^DeadLetterAuditFunction/),
      expect.stringMatching(/^DeliveryEmailConsumerFunction/),
      expect.stringMatching(/^DeliveryPushConsumerFunction/),
      expect.stringMatching(/^EmailDigestFunction/),
      expect.stringMatching(/^IngestAuthorizerFunction/),
      expect.stringMatching(/^IngestEventApiFunction/),
      expect.stringMatching(/^IngestInboxApiFunction/),
      expect.stringMatching(/^InvalidationFunction/),
      expect.stringMatching(/^WorkerFanoutFunction/),
    ]);
    for (const f of functions) expect(existsSync(join(f.asset, 'index.mjs')), f.id).toBe(true);
  });

  it('every bundle loads on Node 24 with its function environment and exports its handler', () => {
    for (const f of functions) {
      // Act: a fresh process per bundle, as a Lambda cold start is
      const loaded = spawnSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `const m = await import(${JSON.stringify(join(f.asset, 'index.mjs'))}); console.log(typeof m.handler);`,
        ],
        { env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', ...f.environment }, encoding: 'utf8' },
      );
      // Assess
      expect(loaded.stderr, f.id).toBe('');
      expect(loaded.stdout.trim(), f.id).toBe('function');
    }
  });
});

describe('the bundles are what AWS runs', { timeout: 600_000 }, () => {
  it('the authorizer bundle, with its environment pointed at DynamoDB Local, allows a tenant key and denies another', async () => {
    // Prepare: the tenants table under a prefix of this test, a tenant and its key
    const f = functions.find((fn) => fn.id.startsWith('IngestAuthorizerFunction'));
    expect(f).toBeDefined();
    const clients = emulatorClients();
    const prefix = uniqueName('bundle');
    const names = await freshTables(clients, ['tenants']);
    const key = newApiKey('acme');
    await new DynamoTenants({ documents: clients.documents, tableName: names.tenants }).create(
      'acme',
      hashApiKey(key),
      Date.now(),
    );
    const event = (authorization: string) => ({
      version: '2.0',
      type: 'REQUEST',
      routeArn: 'arn:aws:execute-api:us-east-1:123456789012:abcdef123/$default/POST/v1/events',
      identitySource: [authorization],
      routeKey: 'ANY /v1/{proxy+}',
      rawPath: '/v1/events',
      rawQueryString: '',
      headers: { authorization },
      requestContext: {},
    });
    const events = [event(`Bearer ${key}`), event(`Bearer ${newApiKey('acme')}`)];
    // Act: the bundle in a process of its own, with the template's variables and the SDK's
    // endpoint variables naming the emulator
    const invoked = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { handler } = await import(${JSON.stringify(join((f as LambdaFunction).asset, 'index.mjs'))});
         const results = [];
         for (const e of ${JSON.stringify(events)}) results.push(await handler(e, { awsRequestId: 'r1', functionName: 'authorizer' }));
         console.log(JSON.stringify(results));`,
      ],
      {
        env: {
          PATH: process.env.PATH,
          ...(f as LambdaFunction).environment,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          AWS_ENDPOINT_URL_DYNAMODB: emulatorEndpoints().dynamodb,
          FANOUT_TABLE_PREFIX: prefix,
          FANOUT_TABLE_TENANTS: names.tenants,
          FANOUT_TOKEN_SECRET: 'stand-in-secret-of-enough-bytes-0123456789',
        },
        encoding: 'utf8',
      },
    );
    // Assess
    const results = JSON.parse(invoked.stdout.trim().split('\n').pop() ?? 'null') as unknown;
    expect(results, invoked.stderr).toEqual([
      { isAuthorized: true, context: { tenantId: 'acme' } },
      { isAuthorized: false, context: {} },
    ]);
  });
});

/** Invokes the handler of `f`'s bundle once per event in a fresh Node process; its results. */
function invokeBundle(f: LambdaFunction, events: readonly unknown[], env: Record<string, string>) {
  const e = emulatorEndpoints();
  const invoked = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      // The emulator's queue URLs name sqs.<region>.localhost, which the SQS client calls (as on
      // AWS it calls the QueueUrl's host): fauxqs's helper resolves that name to this machine.
      `const { interceptLocalhostDns } = await import('fauxqs');
       interceptLocalhostDns();
       const { handler } = await import(${JSON.stringify(join(f.asset, 'index.mjs'))});
       const results = [];
       for (const e of ${JSON.stringify(events)}) results.push(await handler(e, { awsRequestId: 'r1', functionName: 'f' }));
       console.log(JSON.stringify(results));
       process.exit(0);`,
    ],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        ...f.environment,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_ENDPOINT_URL_DYNAMODB: e.dynamodb,
        AWS_ENDPOINT_URL_KINESIS: e.kinesis,
        AWS_ENDPOINT_URL_SQS: e.sqs,
        AWS_ENDPOINT_URL_S3: e.sqs,
        AWS_ENDPOINT_URL_SESV2: e.ses,
        AWS_ENDPOINT_URL_SNS: motoEndpoint(),
        AWS_ENDPOINT_URL_FIREHOSE: motoEndpoint(),
        FANOUT_CACHE_REDIS_URL: e.redis,
        FANOUT_DEDUP_REDIS_URL: e.redis,
        FANOUT_REDIS_CLUSTER: 'false',
        ...env,
      },
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  const last = invoked.stdout.trim().split('\n').pop() ?? '';
  return {
    results: (last.startsWith('[') ? JSON.parse(last) : null) as unknown[] | null,
    stderr: invoked.stderr,
  };
}

describe('the event API bundle', { timeout: 600_000 }, () => {
  it('takes the recorded API Gateway request and logs the event to Kinesis through kinesalite', async () => {
    // Prepare: every table, the stream and the queues under a prefix of this test
    const f = functions.find((fn) => fn.id.startsWith('IngestEventApiFunction')) as LambdaFunction;
    const clients = emulatorClients();
    const prefix = uniqueName('bundle');
    const resources = await provisionLocal(clients, { prefix, shards: 1 });
    // The tenant whose key the recorded request carries.
    await new DynamoTenants({ documents: clients.documents, tableName: resources.tables.tenants }).create(
      'acme',
      hashApiKey(FIXTURE_API_KEY),
      Date.now(),
    );
    const recorded = JSON.parse(
      readFileSync(join(ROOT, 'test/fixtures/lambda/apigw-v2-post-event.json'), 'utf8'),
    ) as unknown;
    // Act
    const { results, stderr } = invokeBundle(f, [recorded], {
      FANOUT_TABLE_PREFIX: prefix,
      FANOUT_EVENT_STREAM: resources.streamName,
      FANOUT_PUSH_QUEUE_URL: resources.queues.push.url,
      FANOUT_PUSH_DLQ_URL: resources.queues.push.deadLetterUrl,
      FANOUT_EMAIL_QUEUE_URL: resources.queues.email.url,
      FANOUT_EMAIL_DLQ_URL: resources.queues.email.deadLetterUrl,
    });
    // Assess
    expect(results, stderr).not.toBeNull();
    const [response] = results as { statusCode: number; body: string }[];
    expect(response?.statusCode, stderr).toBe(202);
    expect(JSON.parse(response?.body ?? '{}')).toEqual({ eventId: 'evt-http-1' });
    const { GetShardIteratorCommand, GetRecordsCommand, ListShardsCommand } = await import(
      '@aws-sdk/client-kinesis'
    );
    const shards = await clients.kinesis.send(new ListShardsCommand({ StreamName: resources.streamName }));
    const iterator = await clients.kinesis.send(
      new GetShardIteratorCommand({
        StreamName: resources.streamName,
        ShardId: shards.Shards?.[0]?.ShardId,
        ShardIteratorType: 'TRIM_HORIZON',
      }),
    );
    const records = await clients.kinesis.send(
      new GetRecordsCommand({ ShardIterator: iterator.ShardIterator }),
    );
    expect(records.Records).toHaveLength(1);
    expect(Buffer.from(records.Records?.[0]?.Data ?? []).toString('utf8')).toContain('evt-http-1');
  });
});

/** The bundle of the function whose logical id starts with `prefix`. */
function bundleOf(prefix: string): LambdaFunction {
  const f = functions.find((fn) => fn.id.startsWith(prefix));
  if (f === undefined) throw new Error(`no bundled function ${prefix} in the template`);
  return f;
}

/** A recorded event from test/fixtures/lambda/. */
function recorded<T>(name: string): T {
  return JSON.parse(readFileSync(join(ROOT, 'test/fixtures/lambda', name), 'utf8')) as T;
}

/**
 * The recorded Kinesis batch with its events moved to `tenant` and to now (inbox rows of events
 * older than the retention are never read); the undecodable record is kept as it is.
 */
function forTenant(batch: KinesisStreamEvent, tenant: string): KinesisStreamEvent {
  const shift = Date.now() - FIXTURE_NOW;
  return {
    Records: batch.Records.map((r) => {
      const text = Buffer.from(r.kinesis.data, 'base64').toString('utf8');
      let moved = text;
      try {
        const event = JSON.parse(text) as { occurredAt: number; acceptedAt: number };
        moved = JSON.stringify({
          ...event,
          tenantId: tenant,
          occurredAt: event.occurredAt + shift,
          acceptedAt: event.acceptedAt + shift,
        });
      } catch {
        // The poison record: its bytes as recorded.
      }
      return {
        ...r,
        kinesis: {
          ...r.kinesis,
          partitionKey: r.kinesis.partitionKey.replace(/^acme#/, `${tenant}#`),
          data: Buffer.from(moved, 'utf8').toString('base64'),
        },
      };
    }),
  };
}

/** The recorded API Gateway request, as `method path` with `body` and a bearer credential. */
function apiRequest(method: string, path: string, bearer: string, body?: unknown): APIGatewayProxyEventV2 {
  const base = recorded<APIGatewayProxyEventV2>('apigw-v2-post-event.json');
  const text = body === undefined ? undefined : JSON.stringify(body);
  const { body: _recorded, ...envelope } = base;
  return {
    ...envelope,
    rawPath: path,
    headers: {
      ...base.headers,
      authorization: `Bearer ${bearer}`,
      'content-length': String(text === undefined ? 0 : Buffer.byteLength(text)),
    },
    requestContext: { ...base.requestContext, http: { ...base.requestContext.http, method, path } },
    ...(text === undefined ? {} : { body: text }),
  };
}

/**
 * Each remaining bundle invoked as Lambda would invoke it, in the order an event travels: the
 * fan-out function on the recorded Kinesis batch, the consumers on the jobs it queued, the inbox API
 * on what it wrote; then the preference invalidation and the dead-letter audit. One deployment's
 * resources (tables, stream, queues) under a prefix of this block; SNS and Firehose on moto_server.
 */
describe('each bundled handler against the emulators', { timeout: 600_000 }, () => {
  const clients = emulatorClients();
  const prefix = uniqueName('bundles');
  // A tenant of this block alone: the Redis keys (preference cache, dedup) are shared by every
  // deployment on the same Redis and named by tenant and user.
  const tenant = uniqueName('bundles');
  const apiKey = newApiKey(tenant);
  const tokenSecret = 'bundle-test-token-secret-0123456789';
  const auditBucket = uniqueName('audit');
  const auditStream = uniqueName('fanout-audit');
  let resources: Awaited<ReturnType<typeof provisionLocal>>;
  let env: Record<string, string>;
  let sns: SNSClient;
  let s3: S3Client;
  let apnsApp: string;

  beforeAll(async () => {
    resources = await provisionLocal(clients, { prefix, shards: 1 });
    await new DynamoTenants({ documents: clients.documents, tableName: resources.tables.tenants }).create(
      tenant,
      hashApiKey(apiKey),
      Date.now(),
    );
    const moto = motoEndpoint();
    sns = new SNSClient({ ...EMULATOR_CLIENT, endpoint: moto });
    s3 = new S3Client({ ...EMULATOR_CLIENT, endpoint: moto, forcePathStyle: true });
    const firehose = new FirehoseClient({ ...EMULATOR_CLIENT, endpoint: moto });
    await s3.send(new CreateBucketCommand({ Bucket: auditBucket }));
    await firehose.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: auditStream,
        DeliveryStreamType: 'DirectPut',
        ExtendedS3DestinationConfiguration: {
          BucketARN: `arn:aws:s3:::${auditBucket}`,
          RoleARN: 'arn:aws:iam::123456789012:role/fanout-audit-delivery',
          Prefix: 'audit/',
        },
      }),
    );
    firehose.destroy();
    apnsApp = (
      await sns.send(
        new CreatePlatformApplicationCommand({
          Name: uniqueName('fanout'),
          Platform: 'APNS',
          Attributes: {
            PlatformCredential: 'not-a-real-credential',
            PlatformPrincipal: 'not-a-real-principal',
          },
        }),
      )
    ).PlatformApplicationArn as string;
    // What the stack's CloudFormation references resolve to in this deployment; the rest of each
    // function's environment is the template's.
    env = {
      FANOUT_TABLE_PREFIX: prefix,
      FANOUT_EVENT_STREAM: resources.streamName,
      FANOUT_PUSH_QUEUE_URL: resources.queues.push.url,
      FANOUT_PUSH_DLQ_URL: resources.queues.push.deadLetterUrl,
      FANOUT_EMAIL_QUEUE_URL: resources.queues.email.url,
      FANOUT_EMAIL_DLQ_URL: resources.queues.email.deadLetterUrl,
      FANOUT_AUDIT_STREAM: auditStream,
      FANOUT_TOKEN_SECRET: tokenSecret,
      FANOUT_CURSOR_SECRET: 'bundle-test-cursor-secret-0123456789',
      FANOUT_UNSUBSCRIBE_SECRET: 'bundle-test-unsubscribe-secret-0123456',
    };
  });

  afterAll(() => {
    sns.destroy();
    s3.destroy();
    clients.destroy();
  });

  /** The audit records Firehose delivered to the bucket so far. */
  async function audited(): Promise<Record<string, unknown>[]> {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: auditBucket, Prefix: 'audit/' }));
    const records: Record<string, unknown>[] = [];
    for (const object of listed.Contents ?? []) {
      const got = await s3.send(new GetObjectCommand({ Bucket: auditBucket, Key: object.Key as string }));
      for (const line of (await got.Body?.transformToString('utf8'))?.split('\n') ?? []) {
        if (line.trim() !== '') records.push(JSON.parse(line) as Record<string, unknown>);
      }
    }
    return records;
  }

  /** What the SQS event-source mapping hands a consumer: the queue's messages, received once. */
  async function sqsEvent(queueUrl: string): Promise<SQSEvent> {
    const base = recorded<SQSEvent>('sqs-push-jobs.json').Records[0] as SQSRecord;
    const records: SQSRecord[] = [];
    for (let round = 0; round < 5; round++) {
      const out = await clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      if ((out.Messages ?? []).length === 0) break;
      for (const m of out.Messages ?? []) {
        records.push({
          ...base,
          messageId: m.MessageId as string,
          receiptHandle: m.ReceiptHandle as string,
          body: m.Body as string,
          attributes: { ...base.attributes, ApproximateReceiveCount: '1' },
          messageAttributes: Object.fromEntries(
            Object.entries(m.MessageAttributes ?? {}).map(([name, value]) => [
              name,
              {
                dataType: value.DataType as string,
                ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
                stringListValues: [],
                binaryListValues: [],
              },
            ]),
          ),
        });
      }
    }
    return { Records: records };
  }

  it('the fan-out bundle takes the recorded Kinesis batch and writes inbox rows in DynamoDB Local', async () => {
    // Prepare: bob follows alice, consents to push and has an iPhone; alice consents to email
    // (through the event API bundle, as a tenant's server sets them up)
    const setUp = invokeBundle(
      bundleOf('IngestEventApiFunction'),
      [
        apiRequest('PUT', '/v1/users/alice/followers/bob', apiKey, {}),
        apiRequest('PUT', '/v1/users/bob/preferences', apiKey, { timezone: 'UTC', consent: { push: true } }),
        apiRequest('PUT', '/v1/users/alice/preferences', apiKey, {
          timezone: 'UTC',
          email: 'alice@example.com',
          consent: { email: true },
        }),
        apiRequest('PUT', '/v1/users/bob/devices/bundle-apns-token-1', apiKey, { platform: 'apns' }),
      ],
      env,
    );
    expect(
      (setUp.results as { statusCode: number }[] | null)?.map((r) => r.statusCode),
      setUp.stderr,
    ).toEqual([204, 200, 200, 204]);
    // Act: alice's post, a poison record, bob's comment to alice (the recorded batch)
    const { results, stderr } = invokeBundle(
      bundleOf('WorkerFanoutFunction'),
      [forTenant(recorded('kinesis-author-events.json'), tenant)],
      env,
    );
    // Assess
    expect(results, stderr).toEqual([{ batchItemFailures: [] }]);
    const rows = await clients.documents.send(new ScanCommand({ TableName: resources.tables.inbox }));
    // One row per recipient: bob (alice's follower) gets her post, alice the comment addressed to her.
    const delivered = (rows.Items ?? [])
      .filter((row) => typeof row.e === 'string')
      .map((row) => ({ user: row.pk, eventId: row.e, actor: row.a }))
      .sort((x, y) => String(x.user).localeCompare(String(y.user)));
    expect(delivered).toEqual([
      { user: `${tenant}#alice`, eventId: 'evt-comment-1', actor: 'bob' },
      { user: `${tenant}#bob`, eventId: 'evt-post-1', actor: 'alice' },
    ]);
  });

  it('the push consumer bundle sends the queued push job through SNS on moto_server and audits it', async () => {
    // Prepare: the jobs the fan-out bundle queued (bob's push for alice's post)
    const event = await sqsEvent(resources.queues.push.url);
    expect(event.Records.flatMap((r) => jobUsers(r.body))).toContain('bob');
    // Act: with the APNs platform application a `-c apns…` deployment gives the function
    const { results, stderr } = invokeBundle(bundleOf('DeliveryPushConsumerFunction'), [event], {
      ...env,
      FANOUT_SNS_APNS_ARN: apnsApp,
    });
    // Assess: no retries; the device's endpoint made in the platform application; the send audited
    expect(results, stderr).toEqual([{ batchItemFailures: [] }]);
    const endpoints = await sns.send(
      new ListEndpointsByPlatformApplicationCommand({ PlatformApplicationArn: apnsApp }),
    );
    expect(endpoints.Endpoints?.map((e) => e.Attributes?.Token)).toEqual(['bundle-apns-token-1']);
    expect(await audited()).toContainEqual(
      expect.objectContaining({ tenantId: tenant, userId: 'bob', channel: 'push', outcome: 'sent' }),
    );
  });

  it('the email consumer bundle sends the queued email job through the SES emulator', async () => {
    // Prepare: alice's email about bob's comment, as the fan-out bundle queued it
    const event = await sqsEvent(resources.queues.email.url);
    expect(event.Records.flatMap((r) => jobUsers(r.body))).toEqual(['alice']);
    // Act: with the sender a `-c sesFrom=…` deployment gives the function
    const { results, stderr } = invokeBundle(bundleOf('DeliveryEmailConsumerFunction'), [event], {
      ...env,
      FANOUT_SES_FROM: 'notifications@fanout.example',
      FANOUT_SES_CONFIGURATION_SET: 'fanout',
    });
    // Assess
    expect(results, stderr).toEqual([{ batchItemFailures: [] }]);
    const store = (await (await fetch(`${emulatorEndpoints().ses}/store`)).json()) as {
      emails: { from: string; destination: { to: string[] } }[];
    };
    expect(
      store.emails.filter(
        (m) => m.destination.to.includes('alice@example.com') && m.from === 'notifications@fanout.example',
      ),
    ).toHaveLength(1);
    expect(await audited()).toContainEqual(
      expect.objectContaining({ tenantId: tenant, userId: 'alice', channel: 'email', outcome: 'sent' }),
    );
  });

  it('the inbox API bundle serves bob his inbox to a user token minted with the secret it is given', async () => {
    // Prepare: the recorded inbox request, with a token of this tenant's bob signed now (the
    // recorded one has expired)
    const { token } = createUserTokens(tokenSecret, 3_600_000).issue(
      { tenantId: tenant, userId: 'bob' },
      Date.now(),
    );
    const base = recorded<APIGatewayProxyEventV2>('apigw-v2-get-inbox.json');
    const event = { ...base, headers: { ...base.headers, authorization: `Bearer ${token}` } };
    const forged = { ...base, headers: { ...base.headers, authorization: `Bearer ${token}x` } };
    // Act
    const { results, stderr } = invokeBundle(bundleOf('IngestInboxApiFunction'), [event, forged], env);
    // Assess
    expect(results, stderr).not.toBeNull();
    const [inbox, refused] = results as { statusCode: number; body: string }[];
    expect(inbox?.statusCode, stderr).toBe(200);
    const items = (JSON.parse(inbox?.body ?? '{}') as { items: { eventId: string; actorId: string }[] })
      .items;
    expect(items.map((i) => [i.eventId, i.actorId])).toEqual([['evt-post-1', 'alice']]);
    expect(refused?.statusCode).toBe(401);
  });

  it('the preference invalidation bundle drops the cached preferences of every user in the recorded stream batch', async () => {
    // Prepare: the four users of the recorded batch have cached preferences
    const redis = await readyRedis();
    const cache = new RedisPreferenceCache({ redis });
    const users = ['alice', 'bob', 'carol', 'dave'].map((userId) => ({ tenantId: tenant, userId }));
    for (const user of users) {
      await cache.set(user, {
        ...user,
        timezone: 'UTC',
        consent: {},
        channels: {},
        categories: {},
        updatedAt: 1,
      });
    }
    const batch = JSON.parse(
      readFileSync(join(ROOT, 'test/fixtures/lambda/pipe-dynamodb-preferences.json'), 'utf8').replaceAll(
        'acme#',
        `${tenant}#`,
      ),
    ) as unknown;
    try {
      // Act
      const { results, stderr } = invokeBundle(bundleOf('InvalidationFunction'), [batch], env);
      // Assess
      expect(results, stderr).toEqual([{ batchItemFailures: [] }]);
      for (const user of users) expect(await redis.exists(cache.keyOf(user)), user.userId).toBe(0);
    } finally {
      await closeRedis(redis);
    }
  });

  it('the dead-letter audit bundle audits a job dead-lettered without a record, once', async () => {
    // Prepare: a push job in the dead-letter queue that no consumer audited (its invocation timed out)
    const job = {
      tenantId: tenant,
      userId: 'carol',
      notificationId: '01KF0MZVW0YZENGG698FESPJB0',
      channel: 'push',
      eventId: 'evt-post-2',
      type: 'post',
      category: 'content',
      actorId: 'alice',
      createdAt: Date.now(),
    };
    await clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: resources.queues.push.deadLetterUrl,
        MessageBody: JSON.stringify(job),
        MessageAttributes: { tenant_id: { DataType: 'String', StringValue: tenant } },
      }),
    );
    const scheduled = {
      version: '0',
      id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:123456789012:rule/fanout-dead-letter-audit'],
      detail: {},
    };
    // Act: two runs, as two minutes of the schedule
    const { results, stderr } = invokeBundle(
      bundleOf('DeadLetterAuditFunction'),
      [scheduled, scheduled],
      env,
    );
    // Assess: audited on the first run only; the message stays in the DLQ for the operator
    expect(results, stderr).toEqual([
      {
        push: expect.objectContaining({ seen: 1, audited: 1, alreadyAudited: 0, poison: 0 }),
        email: expect.objectContaining({ seen: 0, audited: 0 }),
      },
      {
        push: expect.objectContaining({ seen: 1, audited: 0, alreadyAudited: 1 }),
        email: expect.objectContaining({ seen: 0, audited: 0 }),
      },
    ]);
    expect((await audited()).filter((r) => r.userId === 'carol')).toEqual([
      expect.objectContaining({ tenantId: tenant, channel: 'push', outcome: 'dead_lettered' }),
    ]);
  });

  it('the email digest bundle sends a due digest through the SES emulator, once', async () => {
    // Prepare: dora gets social email hourly; her digest of the hour before last is due, with two
    // unread comments in it.
    const period = digestPeriod('hourly', Date.now() - 2 * 3_600_000, 'UTC');
    const dora = { tenantId: tenant, userId: 'dora' };
    await new DynamoPreferenceStore({
      documents: clients.documents,
      tableName: resources.tables.preferences,
      streams: clients.dynamodbStreams,
      dynamodb: clients.dynamodb,
    }).put({
      ...dora,
      timezone: 'UTC',
      email: 'dora@example.com',
      consent: { email: true },
      channels: {},
      categories: {},
      emailCadence: { social: 'hourly' },
      updatedAt: Date.now(),
    });
    await new DynamoInbox({
      documents: clients.documents,
      tableName: resources.tables.inbox,
      unread: 'counter',
    }).putMany(
      ['bob', 'carol'].map((actorId, i) => ({
        ...dora,
        id: notificationId(`digest-${actorId}`, 'dora', period.start + 1000 + i),
        eventId: `digest-${actorId}`,
        type: 'comment',
        category: 'social' as const,
        actorId,
        createdAt: period.start + 1000 + i,
        read: false,
      })),
    );
    await new DynamoDigestSchedule({
      documents: clients.documents,
      tableName: resources.tables.digestSchedule,
    }).add([digestEntry(tenant, 'dora', period)]);
    const scheduled = {
      version: '0',
      id: '7bf73129-1428-4cd3-a780-95db273d1602',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:123456789012:rule/fanout-email-digest'],
      detail: {},
    };
    // Act: two runs, as two minutes of the schedule
    const { results, stderr } = invokeBundle(bundleOf('EmailDigestFunction'), [scheduled, scheduled], {
      ...env,
      FANOUT_SES_FROM: 'notifications@fanout.example',
      FANOUT_SES_CONFIGURATION_SET: 'fanout',
    });
    // Assess
    expect(results, stderr).toEqual([
      expect.objectContaining({ due: 1, sent: 1 }),
      expect.objectContaining({ due: 0, sent: 0 }),
    ]);
    const store = (await (await fetch(`${emulatorEndpoints().ses}/store`)).json()) as {
      emails: { subject: string; destination: { to: string[] } }[];
    };
    expect(
      store.emails.filter((m) => m.destination.to.includes('dora@example.com')).map((m) => m.subject),
    ).toEqual(['2 new notifications']);
    expect(await audited()).toContainEqual(
      expect.objectContaining({
        tenantId: tenant,
        userId: 'dora',
        channel: 'email',
        outcome: 'sent',
        items: 2,
      }),
    );
  });
});

/** The users of a delivery message's jobs: one job, or a packed array of them (jobsPerMessage). */
function jobUsers(body: string): string[] {
  const parsed = JSON.parse(body) as { userId: string } | { userId: string }[];
  return (Array.isArray(parsed) ? parsed : [parsed]).map((job) => job.userId);
}

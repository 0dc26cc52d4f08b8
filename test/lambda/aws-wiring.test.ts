import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  KinesisStreamEvent,
  SQSEvent,
} from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { interceptLocalhostDns } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoTenants } from '../../src/adapters/aws/tenants.ts';
import { createTenant } from '../../src/cli/commands/tenant.ts';
import { provisionLocal } from '../../src/runtime/local-aws/provision.ts';
import { emulatorClients, emulatorEndpoints, uniqueName } from '../support/aws.ts';
import { fixture, lambdaContext } from './support.ts';

/**
 * The entry points as AWS runs them: the default wiring (environment → openAwsPorts → AWS
 * adapters), pointed at the emulators through the SDK's own endpoint variables. Firehose has no
 * emulator: its client is mocked, and the test checks what the audit would have carried.
 */
const clients = emulatorClients();
const firehose = mockClient(FirehoseClient);
const audited: unknown[] = [];
let resources: Awaited<ReturnType<typeof provisionLocal>>;
let apiKey: string;
let restoreDns = () => {};

beforeAll(async () => {
  const prefix = uniqueName('lambda');
  resources = await provisionLocal(clients, { prefix, shards: 1 });
  ({ apiKey } = await createTenant(
    new DynamoTenants({ documents: clients.documents, tableName: resources.tables.tenants }),
    'acme',
    Date.now(),
  ));
  firehose.on(PutRecordBatchCommand).callsFake((input: { Records: { Data: Uint8Array }[] }) => {
    // A record is a run of JSON lines (a delivery batch's decisions), as Firehose concatenates them.
    for (const r of input.Records) {
      for (const line of Buffer.from(r.Data).toString('utf8').split('\n')) {
        if (line !== '') audited.push(JSON.parse(line));
      }
    }
    return { FailedPutCount: 0, RequestResponses: input.Records.map((_, i) => ({ RecordId: `r${i}` })) };
  });
  const e = emulatorEndpoints();
  // Without an explicit endpoint the SQS client sends each call to its QueueUrl's host (on AWS,
  // sqs.<region>.amazonaws.com); the emulator's queue URLs name sqs.<region>.localhost, which
  // fauxqs's own helper resolves to this machine for the test's lifetime.
  restoreDns = interceptLocalhostDns();
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: e.dynamodb,
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: e.dynamodb,
    AWS_ENDPOINT_URL_KINESIS: e.kinesis,
    AWS_ENDPOINT_URL_SQS: e.sqs,
    AWS_ENDPOINT_URL_SESV2: e.ses,
    FANOUT_TABLE_PREFIX: prefix,
    FANOUT_EVENT_STREAM: resources.streamName,
    FANOUT_PUSH_QUEUE_URL: resources.queues.push.url,
    FANOUT_PUSH_DLQ_URL: resources.queues.push.deadLetterUrl,
    FANOUT_EMAIL_QUEUE_URL: resources.queues.email.url,
    FANOUT_EMAIL_DLQ_URL: resources.queues.email.deadLetterUrl,
    FANOUT_SES_FROM: 'notifications@fanout.example',
    FANOUT_AUDIT_STREAM: 'fanout-audit',
    FANOUT_CACHE_REDIS_URL: e.redis,
    FANOUT_DEDUP_REDIS_URL: e.redis,
    FANOUT_TOKEN_SECRET: 'wiring-test-token-secret-0123456789',
    FANOUT_CURSOR_SECRET: 'wiring-test-cursor-secret-0123456789',
    FANOUT_PUBLIC_BASE_URL: 'https://api.fanout.example',
    FANOUT_UNSUBSCRIBE_SECRET: 'wiring-test-unsubscribe-secret-0123456',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: process.env.WIRING_DEBUG ? 'DEBUG' : 'SILENT',
  });
});

afterAll(() => {
  restoreDns();
  firehose.restore();
  clients.destroy();
});

/** An API Gateway HTTP API request, from the recorded fixture's envelope. */
function request(method: string, path: string, bearer: string, body?: unknown): APIGatewayProxyEventV2 {
  const base = fixture<APIGatewayProxyEventV2>('apigw-v2-post-event.json');
  const text = body === undefined ? undefined : JSON.stringify(body);
  return {
    ...base,
    rawPath: path,
    headers: {
      ...base.headers,
      authorization: `Bearer ${bearer}`,
      'content-length': String(text === undefined ? 0 : Buffer.byteLength(text)),
    },
    requestContext: { ...base.requestContext, http: { ...base.requestContext.http, method, path } },
    ...(text === undefined ? { body: undefined } : { body: text }),
  } as APIGatewayProxyEventV2;
}

async function call(
  handler: (event: APIGatewayProxyEventV2, context: never) => Promise<unknown>,
  event: APIGatewayProxyEventV2,
) {
  const result = (await handler(
    event,
    lambdaContext('fanout-api') as never,
  )) as APIGatewayProxyStructuredResultV2;
  return { status: result.statusCode, body: result.body ? JSON.parse(result.body) : undefined };
}

/** What the Kinesis event-source mapping would hand the fan-out function. */
async function kinesisEvent(): Promise<KinesisStreamEvent> {
  const shards = await clients.kinesis.send(new ListShardsCommand({ StreamName: resources.streamName }));
  const shardId = shards.Shards![0]!.ShardId!;
  const { ShardIterator } = await clients.kinesis.send(
    new GetShardIteratorCommand({
      StreamName: resources.streamName,
      ShardId: shardId,
      ShardIteratorType: 'TRIM_HORIZON',
    }),
  );
  const out = await clients.kinesis.send(new GetRecordsCommand({ ShardIterator }));
  const base = fixture<KinesisStreamEvent>('kinesis-author-events.json').Records[0]!;
  return {
    Records: (out.Records ?? []).map((r) => ({
      ...base,
      eventID: `${shardId}:${r.SequenceNumber}`,
      kinesis: {
        ...base.kinesis,
        partitionKey: r.PartitionKey!,
        sequenceNumber: r.SequenceNumber!,
        data: Buffer.from(r.Data!).toString('base64'),
      },
    })),
  };
}

/** What the SQS event-source mapping would hand the email consumer. */
async function sqsEvent(queueUrl: string): Promise<SQSEvent> {
  const out = await clients.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  const base = fixture<SQSEvent>('sqs-email-jobs.json').Records[0]!;
  return {
    Records: (out.Messages ?? []).map((m) => ({
      ...base,
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body!,
      attributes: { ...base.attributes, ApproximateReceiveCount: '1' },
      messageAttributes: {
        tenant_id: { dataType: 'String', stringValue: 'acme', stringListValues: [], binaryListValues: [] },
      },
    })),
  };
}

describe('Lambda entry points on the AWS adapters (emulators)', () => {
  it('takes an event through the event API, fan-out, the email consumer and the inbox API', async () => {
    // Prepare
    const { handler: eventApi } = await import('../../src/lambda/event-api.ts');
    const { handler: inboxApi } = await import('../../src/lambda/inbox-api.ts');
    const { handler: fanout } = await import('../../src/lambda/fanout.ts');
    const { handler: emailConsumer } = await import('../../src/lambda/email-consumer.ts');
    const followed = await call(eventApi, request('PUT', '/v1/users/alice/followers/bob', apiKey, {}));
    const prefs = await call(
      eventApi,
      request('PUT', '/v1/users/bob/preferences', apiKey, {
        timezone: 'UTC',
        email: 'bob@example.com',
        consent: { email: true },
      }),
    );
    // Act
    const posted = await call(
      eventApi,
      request('POST', '/v1/events', apiKey, { id: 'e-wiring-1', type: 'comment', actorId: 'alice' }),
    );
    const fanned = await fanout(await kinesisEvent(), lambdaContext('fanout-fanout') as never);
    const emailed = await emailConsumer(
      await sqsEvent(resources.queues.email.url),
      lambdaContext('fanout-email-consumer') as never,
    );
    const token = await call(eventApi, request('POST', '/v1/users/bob/tokens', apiKey, {}));
    const inbox = await call(inboxApi, request('GET', '/v1/me/inbox', token.body.token));
    // Assess
    expect([followed.status, prefs.status, posted.status]).toEqual([204, 200, 202]);
    expect(fanned).toEqual({ batchItemFailures: [] });
    expect(emailed).toEqual({ batchItemFailures: [] });
    expect(inbox.body.items.map((i: { eventId: string }) => i.eventId)).toEqual(['e-wiring-1']);
    const store = (await (await fetch(`${emulatorEndpoints().ses}/store`)).json()) as {
      emails: { destination: { to: string[] }; headers?: { name: string; value: string }[] }[];
    };
    const sent = store.emails.filter((m) => m.destination.to.includes('bob@example.com'));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers?.find((h) => h.name === 'List-Unsubscribe-Post')?.value).toBe(
      'List-Unsubscribe=One-Click',
    );
    expect(audited).toContainEqual(
      expect.objectContaining({ tenantId: 'acme', userId: 'bob', outcome: 'sent' }),
    );

    // The mailbox provider's one-click POST to the link (no API key: the signed token is the
    // credential), through the inbox API function, turns that category's email off.
    const link = new URL(sent[0]!.headers!.find((h) => h.name === 'List-Unsubscribe')!.value.slice(1, -1));
    const oneClick = 'List-Unsubscribe=One-Click';
    const { authorization: _none, ...headers } = request('POST', link.pathname, '').headers;
    const unsubscribed = await call(inboxApi, {
      ...request('POST', link.pathname, ''),
      rawQueryString: link.search.slice(1),
      queryStringParameters: Object.fromEntries(link.searchParams),
      headers: {
        ...headers,
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(oneClick.length),
      },
      body: oneClick,
    });
    expect(unsubscribed.status).toBe(204);
    const after = await call(eventApi, request('GET', '/v1/users/bob/preferences', apiKey));
    expect(after.body).toMatchObject({ consent: { email: true }, categories: { social: { email: false } } });
  });

  it('retracts an event through the event API: 202, 202 again, 404 unknown; fan-out and the consumer act on it', async () => {
    // Prepare: bob follows alice and takes email; alice's event is fanned out, its email queued
    const { handler: eventApi } = await import('../../src/lambda/event-api.ts');
    const { handler: inboxApi } = await import('../../src/lambda/inbox-api.ts');
    const { handler: fanout } = await import('../../src/lambda/fanout.ts');
    const { handler: emailConsumer } = await import('../../src/lambda/email-consumer.ts');
    await call(eventApi, request('PUT', '/v1/users/alice/followers/bob', apiKey, {}));
    await call(
      eventApi,
      request('PUT', '/v1/users/bob/preferences', apiKey, {
        timezone: 'UTC',
        email: 'bob@example.com',
        consent: { email: true },
      }),
    );
    const body = { id: 'e-wiring-del', type: 'mention', actorId: 'alice', recipients: ['bob'] };
    expect((await call(eventApi, request('POST', '/v1/events', apiKey, body))).status).toBe(202);
    await fanout(await kinesisEvent(), lambdaContext('fanout-fanout') as never);
    const token = (await call(eventApi, request('POST', '/v1/users/bob/tokens', apiKey, {}))).body.token;
    const inboxEvents = async () =>
      (await call(inboxApi, request('GET', '/v1/me/inbox', token))).body.items.map(
        (i: { eventId: string }) => i.eventId,
      );
    expect(await inboxEvents()).toContain('e-wiring-del');
    // Act
    const first = await call(eventApi, request('DELETE', '/v1/events/e-wiring-del', apiKey));
    const again = await call(eventApi, request('DELETE', '/v1/events/e-wiring-del', apiKey));
    const unknown = await call(eventApi, request('DELETE', '/v1/events/never-sent', apiKey));
    const fanned = await fanout(await kinesisEvent(), lambdaContext('fanout-fanout') as never);
    const emailed = await emailConsumer(
      await sqsEvent(resources.queues.email.url),
      lambdaContext('fanout-email-consumer') as never,
    );
    // Assess
    expect([first.status, first.body]).toEqual([202, { eventId: 'e-wiring-del', retracted: true }]);
    expect([again.status, again.body]).toEqual([202, { eventId: 'e-wiring-del', retracted: false }]);
    expect(unknown.status).toBe(404);
    expect(fanned).toEqual({ batchItemFailures: [] });
    expect(emailed).toEqual({ batchItemFailures: [] });
    expect(await inboxEvents()).not.toContain('e-wiring-del');
    expect(audited).toContainEqual(
      expect.objectContaining({
        eventId: 'e-wiring-del',
        userId: 'bob',
        outcome: 'retracted',
        reason: 'retracted',
      }),
    );
    expect(audited).not.toContainEqual(expect.objectContaining({ eventId: 'e-wiring-del', outcome: 'sent' }));
  });
});

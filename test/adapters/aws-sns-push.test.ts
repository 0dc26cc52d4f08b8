import {
  CreatePlatformApplicationCommand,
  CreatePlatformEndpointCommand,
  EndpointDisabledException,
  GetEndpointAttributesCommand as GetAttributes,
  GetEndpointAttributesCommand,
  InternalErrorException,
  InvalidParameterException,
  ListEndpointsByPlatformApplicationCommand,
  NotFoundException,
  PublishCommand,
  type PublishCommandInput,
  SetEndpointAttributesCommand,
  SNSClient,
  ThrottledException,
} from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryEndpointCache, SnsPushTransport } from '../../src/adapters/aws/sns-push.ts';
import { TransportRetryableError, ValidationError } from '../../src/domain/errors.ts';
import type { PushMessage } from '../../src/ports/transports.ts';
import { EMULATOR_CLIENT, motoEndpoint, uniqueName } from '../support/aws.ts';

/*
 * Against moto_server first: real platform applications and endpoints (CreatePlatformEndpoint,
 * Get/SetEndpointAttributes, Publish to an endpoint, a disabled endpoint's EndpointDisabled).
 * moto keeps what was published to an endpoint to itself and does not model throttling, timeouts
 * or the payload rules of APNs and FCM, so the mocked tests below check the requests against SNS's
 * documented API
 * (CreatePlatformEndpoint, Get/SetEndpointAttributes, Publish with MessageStructure json and the
 * reserved AWS.SNS.MOBILE.APNS.* attributes, the FCM v1 `fcmV1Message` payload) and the mapping of
 * its answers.
 */

const APNS_ARN = 'arn:aws:sns:us-east-1:123456789012:app/APNS/fanout';
const SANDBOX_ARN = 'arn:aws:sns:us-east-1:123456789012:app/APNS_SANDBOX/fanout';
const FCM_ARN = 'arn:aws:sns:us-east-1:123456789012:app/GCM/fanout';
const ENDPOINT =
  'arn:aws:sns:us-east-1:123456789012:endpoint/APNS/fanout/0f1e2d3c-aaaa-bbbb-cccc-123456789abc';

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode }, $fault: 'client' as const });

function push(extra: Partial<PushMessage> = {}): PushMessage {
  return {
    tenantId: 'acme',
    userId: 'alice',
    token: 'a1b2c3d4e5f6',
    platform: 'apns',
    title: 'New like',
    body: 'bob liked your post',
    category: 'social',
    collapseId: 'c-01HF7YAT0062QBZN3ZRXDW0001',
    messageId: 'm-01HF7YAT0062QBZN3ZRXDW0001',
    data: { notificationId: '01HF7YAT0062QBZN3ZRXDW0001', type: 'like' },
    ...extra,
  };
}

describe('SnsPushTransport on moto_server', () => {
  let sns: SNSClient;
  let apps: { apns: string; fcm: string };
  beforeEach(async () => {
    sns = new SNSClient({ ...EMULATOR_CLIENT, endpoint: motoEndpoint(), maxAttempts: 1 });
    const create = async (platform: 'APNS' | 'GCM') =>
      (
        await sns.send(
          new CreatePlatformApplicationCommand({
            Name: uniqueName('fanout'),
            Platform: platform,
            Attributes: {
              PlatformCredential: 'not-a-real-credential',
              PlatformPrincipal: 'not-a-real-principal',
            },
          }),
        )
      ).PlatformApplicationArn!;
    apps = { apns: await create('APNS'), fcm: await create('GCM') };
  });
  afterEach(() => {
    sns.destroy();
  });

  const tokensOf = async (app: string) =>
    (
      await sns.send(new ListEndpointsByPlatformApplicationCommand({ PlatformApplicationArn: app }))
    ).Endpoints!.map((e) => e.Attributes!.Token);

  it('creates one endpoint per token in the platform application and publishes to it', async () => {
    // Prepare
    const endpoints = new InMemoryEndpointCache();
    const transport = new SnsPushTransport({ sns, applicationArns: apps, endpoints });
    // Act
    const first = await transport.send(push({ token: 'apns-token-1' }));
    const again = await transport.send(push({ token: 'apns-token-1' }));
    const android = await transport.send(push({ token: 'fcm-token-1', platform: 'fcm' }));
    // Assess
    for (const result of [first, again, android]) {
      expect(result).toEqual({ status: 'sent', providerMessageId: expect.any(String) });
    }
    expect(await tokensOf(apps.apns)).toEqual(['apns-token-1']);
    expect(await tokensOf(apps.fcm)).toEqual(['fcm-token-1']);
    const arn = await endpoints.get('acme', 'apns-token-1');
    expect(arn).toMatch(/:endpoint\/APNS\//);
    const attributes = await sns.send(new GetAttributes({ EndpointArn: arn! }));
    expect(attributes.Attributes).toMatchObject({ Token: 'apns-token-1', Enabled: 'true' });
  });

  it('rejects and deactivates the device when the endpoint is disabled at SNS', async () => {
    // Prepare: SNS disables an endpoint when the provider reports the token dead.
    const endpoints = new InMemoryEndpointCache();
    const transport = new SnsPushTransport({ sns, applicationArns: apps, endpoints });
    await transport.send(push({ token: 'apns-token-2' }));
    const arn = (await endpoints.get('acme', 'apns-token-2'))!;
    await sns.send(new SetEndpointAttributesCommand({ EndpointArn: arn, Attributes: { Enabled: 'false' } }));
    // Act
    const result = await transport.send(push({ token: 'apns-token-2' }));
    // Assess
    expect(result).toEqual({ status: 'rejected', reason: 'endpoint_disabled', deactivateDevice: true });
  });

  it('registers a token again when its cached endpoint is gone', async () => {
    // Prepare: a cached ARN of an application that has no such endpoint.
    const endpoints = new InMemoryEndpointCache();
    await endpoints.set(
      'acme',
      'apns-token-3',
      `${apps.apns.replace(':app/', ':endpoint/')}/0f1e2d3c-aaaa-bbbb-cccc-123456789abc`,
    );
    const transport = new SnsPushTransport({ sns, applicationArns: apps, endpoints });
    // Act
    const result = await transport.send(push({ token: 'apns-token-3' }));
    // Assess
    expect(result).toEqual({ status: 'sent', providerMessageId: expect.any(String) });
    expect(await tokensOf(apps.apns)).toEqual(['apns-token-3']);
  });
});

describe('SnsPushTransport', () => {
  let sns: SNSClient;
  let mock: ReturnType<typeof mockClient>;
  let endpoints: InMemoryEndpointCache;
  beforeEach(() => {
    sns = new SNSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    mock = mockClient(sns);
    endpoints = new InMemoryEndpointCache();
    mock.on(CreatePlatformEndpointCommand).resolves({ EndpointArn: ENDPOINT });
    mock
      .on(GetEndpointAttributesCommand)
      .resolves({ Attributes: { Enabled: 'true', Token: 'a1b2c3d4e5f6' } });
    mock.on(PublishCommand).resolves({ MessageId: 'sns-1' });
  });
  afterEach(() => {
    mock.restore();
    sns.destroy();
  });

  function transport(apns = APNS_ARN): SnsPushTransport {
    return new SnsPushTransport({ sns, applicationArns: { apns, fcm: FCM_ARN }, endpoints });
  }
  const published = (): PublishCommandInput =>
    mock.commandCalls(PublishCommand).at(-1)!.args[0].input as PublishCommandInput;
  const messageOf = (input: PublishCommandInput) => JSON.parse(input.Message!) as Record<string, string>;

  it('registers a new APNs token, checks the endpoint, and publishes the APNS payload with its headers', async () => {
    // Act
    const result = await transport().send(push({ category: 'mention' }));
    // Assess
    expect(result).toEqual({ status: 'sent', providerMessageId: 'sns-1' });
    expect(mock.commandCalls(CreatePlatformEndpointCommand)[0]!.args[0].input).toEqual({
      PlatformApplicationArn: APNS_ARN,
      Token: 'a1b2c3d4e5f6',
    });
    expect(mock.commandCalls(GetEndpointAttributesCommand)[0]!.args[0].input).toEqual({
      EndpointArn: ENDPOINT,
    });
    expect(mock.commandCalls(SetEndpointAttributesCommand)).toHaveLength(0);
    const input = published();
    expect(input.TargetArn).toBe(ENDPOINT);
    expect(input.MessageStructure).toBe('json');
    const message = messageOf(input);
    expect(Object.keys(message).sort()).toEqual(['APNS', 'default']);
    expect(message.default).toBe('bob liked your post');
    expect(JSON.parse(message.APNS!)).toEqual({
      aps: {
        alert: { title: 'New like', body: 'bob liked your post' },
        'thread-id': 'mention',
        category: 'mention',
      },
      notificationId: '01HF7YAT0062QBZN3ZRXDW0001',
      type: 'like',
    });
    expect(input.MessageAttributes).toEqual({
      'AWS.SNS.MOBILE.APNS.COLLAPSE_ID': { DataType: 'String', StringValue: 'c-01HF7YAT0062QBZN3ZRXDW0001' },
      'AWS.SNS.MOBILE.APNS.PUSH_TYPE': { DataType: 'String', StringValue: 'alert' },
      'AWS.SNS.MOBILE.APNS.PRIORITY': { DataType: 'String', StringValue: '10' },
    });
    expect(await endpoints.get('acme', 'a1b2c3d4e5f6')).toBe(ENDPOINT);
  });

  it('publishes under APNS_SANDBOX for a sandbox application, with priority 5 for a social push', async () => {
    // Act
    await transport(SANDBOX_ARN).send(push());
    // Assess
    expect(mock.commandCalls(CreatePlatformEndpointCommand)[0]!.args[0].input.PlatformApplicationArn).toBe(
      SANDBOX_ARN,
    );
    const input = published();
    expect(Object.keys(messageOf(input)).sort()).toEqual(['APNS_SANDBOX', 'default']);
    expect(input.MessageAttributes!['AWS.SNS.MOBILE.APNS.PRIORITY']!.StringValue).toBe('5');
  });

  it('publishes an FCM token as an FCM v1 message under GCM, with the collapse key', async () => {
    // Prepare
    mock.on(GetEndpointAttributesCommand).resolves({ Attributes: { Enabled: 'true', Token: 'fcm-token-1' } });
    // Act
    await transport().send(push({ platform: 'fcm', token: 'fcm-token-1', category: 'critical' }));
    // Assess
    expect(mock.commandCalls(CreatePlatformEndpointCommand)[0]!.args[0].input.PlatformApplicationArn).toBe(
      FCM_ARN,
    );
    const input = published();
    expect(input.MessageAttributes).toBeUndefined();
    const message = messageOf(input);
    expect(Object.keys(message).sort()).toEqual(['GCM', 'default']);
    expect(JSON.parse(message.GCM!)).toEqual({
      fcmV1Message: {
        message: {
          notification: { title: 'New like', body: 'bob liked your post' },
          data: {
            notificationId: '01HF7YAT0062QBZN3ZRXDW0001',
            type: 'like',
            messageId: 'm-01HF7YAT0062QBZN3ZRXDW0001',
          },
          android: {
            collapse_key: 'c-01HF7YAT0062QBZN3ZRXDW0001',
            priority: 'high',
            notification: { tag: 'c-01HF7YAT0062QBZN3ZRXDW0001' },
          },
          // The same rendering as the direct FCM client: an iOS app on FCM collapses the same way.
          apns: {
            headers: {
              'apns-collapse-id': 'c-01HF7YAT0062QBZN3ZRXDW0001',
              'apns-priority': '10',
              'apns-push-type': 'alert',
            },
            payload: {
              aps: expect.objectContaining({ alert: { title: 'New like', body: 'bob liked your post' } }),
            },
          },
        },
      },
    });
  });

  it('publishes a withdrawal: an APNs background push, an FCM data-only message, same collapse ids', async () => {
    // Prepare
    const apns = transport();
    // Act
    await apns.send(push({ title: '', body: '', withdraw: true }));
    const apnsInput = published();
    mock.on(GetEndpointAttributesCommand).resolves({ Attributes: { Enabled: 'true', Token: 'fcm-token-1' } });
    await apns.send(push({ platform: 'fcm', token: 'fcm-token-1', title: '', body: '', withdraw: true }));
    const fcmInput = published();
    // Assess
    expect(messageOf(apnsInput).default).toBe('retract');
    expect(JSON.parse(messageOf(apnsInput).APNS!)).toMatchObject({
      aps: { 'content-available': 1 },
      fanout: { retract: 'c-01HF7YAT0062QBZN3ZRXDW0001' },
    });
    expect(apnsInput.MessageAttributes).toEqual({
      'AWS.SNS.MOBILE.APNS.COLLAPSE_ID': { DataType: 'String', StringValue: 'c-01HF7YAT0062QBZN3ZRXDW0001' },
      'AWS.SNS.MOBILE.APNS.PUSH_TYPE': { DataType: 'String', StringValue: 'background' },
      'AWS.SNS.MOBILE.APNS.PRIORITY': { DataType: 'String', StringValue: '5' },
    });
    const fcm = JSON.parse(messageOf(fcmInput).GCM!).fcmV1Message.message;
    expect(fcm.notification).toBeUndefined();
    expect(fcm.data.retract).toBe('c-01HF7YAT0062QBZN3ZRXDW0001');
    expect(fcm.android.collapse_key).toBe('c-01HF7YAT0062QBZN3ZRXDW0001');
    expect(fcm.apns.headers['apns-push-type']).toBe('background');
  });

  it('publishes straight to a cached endpoint', async () => {
    // Prepare
    await endpoints.set('acme', 'a1b2c3d4e5f6', ENDPOINT);
    // Act
    await transport().send(push());
    // Assess
    expect(mock.commandCalls(CreatePlatformEndpointCommand)).toHaveLength(0);
    expect(mock.commandCalls(GetEndpointAttributesCommand)).toHaveLength(0);
    expect(published().TargetArn).toBe(ENDPOINT);
  });

  it('uses the ARN SNS names when the endpoint exists with other attributes, and re-enables it', async () => {
    // Prepare
    mock.on(CreatePlatformEndpointCommand).rejects(
      new InvalidParameterException({
        ...meta(400),
        message: `Invalid parameter: Token Reason: Endpoint ${ENDPOINT} already exists with the same Token, but different attributes.`,
      }),
    );
    mock
      .on(GetEndpointAttributesCommand)
      .resolves({ Attributes: { Enabled: 'false', Token: 'a1b2c3d4e5f6' } });
    // Act
    const result = await transport().send(push());
    // Assess
    expect(result.status).toBe('sent');
    expect(mock.commandCalls(SetEndpointAttributesCommand)[0]!.args[0].input).toEqual({
      EndpointArn: ENDPOINT,
      Attributes: { Token: 'a1b2c3d4e5f6', Enabled: 'true' },
    });
    expect(published().TargetArn).toBe(ENDPOINT);
  });

  it('sets the fresh token on an endpoint that holds another one', async () => {
    // Prepare
    mock.on(GetEndpointAttributesCommand).resolves({ Attributes: { Enabled: 'true', Token: 'old-token' } });
    // Act
    await transport().send(push());
    // Assess
    expect(mock.commandCalls(SetEndpointAttributesCommand)[0]!.args[0].input.Attributes).toEqual({
      Token: 'a1b2c3d4e5f6',
      Enabled: 'true',
    });
  });

  it('registers the token again when a cached endpoint was deleted', async () => {
    // Prepare
    await endpoints.set(
      'acme',
      'a1b2c3d4e5f6',
      'arn:aws:sns:us-east-1:123456789012:endpoint/APNS/fanout/gone',
    );
    mock
      .on(PublishCommand)
      .rejectsOnce(new NotFoundException({ ...meta(404), message: 'Endpoint does not exist' }))
      .resolves({ MessageId: 'sns-2' });
    // Act
    const result = await transport().send(push());
    // Assess
    expect(result).toEqual({ status: 'sent', providerMessageId: 'sns-2' });
    expect(mock.commandCalls(CreatePlatformEndpointCommand)).toHaveLength(1);
    expect(published().TargetArn).toBe(ENDPOINT);
  });

  it('rejects and deactivates the device when SNS says the endpoint is disabled', async () => {
    // Prepare
    mock
      .on(PublishCommand)
      .rejects(new EndpointDisabledException({ ...meta(400), message: 'Endpoint is disabled' }));
    // Act
    const result = await transport().send(push());
    // Assess
    expect(result).toEqual({ status: 'rejected', reason: 'endpoint_disabled', deactivateDevice: true });
  });

  it('rejects an invalid parameter without deactivating the device', async () => {
    // Prepare
    mock
      .on(PublishCommand)
      .rejects(new InvalidParameterException({ ...meta(400), message: 'Invalid parameter' }));
    // Act
    const result = await transport().send(push());
    // Assess
    expect(result).toEqual({ status: 'rejected', reason: 'invalid_parameter', deactivateDevice: false });
  });

  it('asks for a retry, not ambiguous, when SNS throttles or fails with a 5xx', async () => {
    // Prepare
    const answers = [
      new ThrottledException({ ...meta(429), message: 'Rate exceeded' }),
      new InternalErrorException({ ...meta(500), message: 'Internal error' }),
    ];
    for (const answer of answers) {
      mock.on(PublishCommand).rejects(answer);
      // Act
      const result = transport().send(push());
      // Assess
      await expect(result).rejects.toBeInstanceOf(TransportRetryableError);
      await expect(result).rejects.toMatchObject({ ambiguous: false });
    }
  });

  it('asks for an ambiguous retry when a Publish timed out after the request left', async () => {
    // Prepare
    const timeout = Object.assign(
      new Error('a request has exceeded the configured 10000 ms requestTimeout.'),
      {
        name: 'TimeoutError',
        code: 'ETIMEDOUT',
      },
    );
    mock.on(PublishCommand).rejects(timeout);
    // Act
    const result = transport().send(push());
    // Assess
    await expect(result).rejects.toBeInstanceOf(TransportRetryableError);
    await expect(result).rejects.toMatchObject({ ambiguous: true });
  });

  it('asks for a plain retry when the connection never opened, or the endpoint set-up timed out', async () => {
    // Prepare
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const setupTimeout = Object.assign(new Error('socket timed out'), { name: 'TimeoutError' });
    mock.on(PublishCommand).rejects(refused);
    mock.on(CreatePlatformEndpointCommand).rejectsOnce(setupTimeout).resolves({ EndpointArn: ENDPOINT });
    // Act
    const setup: unknown = await transport()
      .send(push())
      .catch((err: unknown) => err);
    const publish: unknown = await transport()
      .send(push())
      .catch((err: unknown) => err);
    // Assess
    expect(setup).toBeInstanceOf(TransportRetryableError);
    expect(setup).toMatchObject({ ambiguous: false });
    expect(publish).toBeInstanceOf(TransportRetryableError);
    expect(publish).toMatchObject({ ambiguous: false });
    expect(mock.commandCalls(PublishCommand)).toHaveLength(1);
  });

  it('pushes to the one platform a deployment configured and rejects the other without a request', async () => {
    // Prepare
    const fcmOnly = new SnsPushTransport({ sns, applicationArns: { fcm: FCM_ARN }, endpoints });
    // Act
    const apns = await fcmOnly.send(push({ platform: 'apns' }));
    const requestsAfterApns = mock.calls().length;
    const fcm = await fcmOnly.send(push({ platform: 'fcm', token: 'fcm-token-1' }));
    // Assess
    expect(apns).toEqual({ status: 'rejected', reason: 'platform_not_configured', deactivateDevice: false });
    expect(requestsAfterApns).toBe(0);
    expect(fcm.status).toBe('sent');
  });

  it('refuses to be built without any platform application', () => {
    // Act / Assess
    expect(() => new SnsPushTransport({ sns, applicationArns: {}, endpoints })).toThrow(ValidationError);
  });
});

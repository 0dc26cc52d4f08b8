import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { afterEach, describe, expect, it } from 'vitest';
import { generateApnsKey } from '../../fakes/fake-apns.ts';
import { generateServiceAccount } from '../../fakes/fake-fcm-account.ts';
import { InMemoryEndpointCache, SnsPushTransport } from '../../src/adapters/aws/sns-push.ts';
import { ApnsTransport } from '../../src/adapters/push/apns/apns-transport.ts';
import { FcmTransport } from '../../src/adapters/push/fcm/fcm-transport.ts';
import { ErrorCode, FanoutError, ValidationError } from '../../src/domain/errors.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import {
  lambdaPushTransport,
  loadPushProviders,
  type SecretReader,
  secretsManagerReader,
} from '../../src/runtime/push/lambda.ts';
import type { RoutingPushTransport } from '../../src/runtime/push/routing-transport.ts';
import { EMULATOR_CLIENT, motoEndpoint, uniqueName } from '../support/aws.ts';
import { DIRECT_APNS, env, SNS_APNS, SNS_FCM } from './push-support.ts';

const SIGNING_KEY = generateApnsKey().privateKeyPem;
const SERVICE_ACCOUNT = generateServiceAccount('https://127.0.0.1:9').json;

/** A SecretReader over fixed secrets; records the ids read. */
function secrets(values: Record<string, string>): SecretReader & { read: string[] } {
  const read: string[] = [];
  const reader = async (id: string) => {
    read.push(id);
    const value = values[id];
    if (value === undefined)
      throw new FanoutError(ErrorCode.StoreUnavailable, `secret ${id} could not be read`);
    return value;
  };
  return Object.assign(reader, { read });
}

/** What `promise` rejects with; fails when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('loadPushProviders', () => {
  it('makes SNS providers of the platform application ARNs, reading no secret', async () => {
    // Prepare
    const reader = secrets({});
    // Act
    const providers = await loadPushProviders(
      env({ FANOUT_SNS_APNS_ARN: SNS_APNS, FANOUT_SNS_FCM_ARN: SNS_FCM }),
      reader,
    );
    // Assess
    expect(reader.read).toEqual([]);
    expect(providers).toEqual({
      default: {
        apns: { provider: 'sns', applicationArn: SNS_APNS },
        fcm: { provider: 'sns', applicationArn: SNS_FCM },
      },
      tenants: {},
    });
  });

  it('makes direct APNs and FCM providers with the credentials inline from their secrets', async () => {
    // Prepare
    const reader = secrets({ 'fanout/apns-key': SIGNING_KEY, 'fanout/fcm-account': SERVICE_ACCOUNT });
    const e = env({
      ...DIRECT_APNS,
      FANOUT_APNS_ENVIRONMENT: 'sandbox',
      FANOUT_FCM_SECRET_ID: 'fanout/fcm-account',
    });
    // Act
    const providers = await loadPushProviders(e, reader);
    // Assess
    expect(reader.read.sort()).toEqual(['fanout/apns-key', 'fanout/fcm-account']);
    expect(providers.default).toEqual({
      apns: {
        provider: 'apns',
        keyId: 'ABC123DEFG',
        teamId: 'DEF123GHIJ',
        topic: 'com.example.app',
        environment: 'sandbox',
        signingKey: SIGNING_KEY,
      },
      fcm: { provider: 'fcm', serviceAccount: SERVICE_ACCOUNT },
    });
  });

  it("merges the providers secret's document with the variables' providers as its default", async () => {
    // Prepare
    const doc = {
      default: { fcm: { provider: 'fcm', serviceAccount: JSON.parse(SERVICE_ACCOUNT) } },
      tenants: {
        acme: {
          apns: { provider: 'sns', applicationArn: 'arn:aws:sns:us-east-2:123456789012:app/APNS/acme' },
        },
      },
    };
    const reader = secrets({ 'fanout/providers': JSON.stringify(doc) });
    const e = env({ FANOUT_SNS_APNS_ARN: SNS_APNS, FANOUT_PUSH_PROVIDERS_SECRET_ID: 'fanout/providers' });
    // Act
    const providers = await loadPushProviders(e, reader);
    // Assess
    expect(providers.default.apns).toEqual({ provider: 'sns', applicationArn: SNS_APNS });
    expect(providers.default.fcm?.provider).toBe('fcm');
    expect(providers.tenants.acme?.apns).toMatchObject({ provider: 'sns' });
  });

  it('refuses a platform set both by the variables and by the document default, as the embedded mode does', async () => {
    // Prepare
    const doc = {
      default: {
        apns: { provider: 'sns', applicationArn: 'arn:aws:sns:us-east-2:123456789012:app/APNS/other' },
      },
    };
    const e = env({ FANOUT_SNS_APNS_ARN: SNS_APNS, FANOUT_PUSH_PROVIDERS_SECRET_ID: 'fanout/providers' });
    // Act
    const err = await rejection(loadPushProviders(e, secrets({ 'fanout/providers': JSON.stringify(doc) })));
    // Assess
    expect((err as FanoutError).code).toBe(ErrorCode.Validation);
    expect(err.message).toMatch(/default\.apns.*keep one/);
  });

  it('refuses a providers secret that is no JSON object, naming the secret but never its content', async () => {
    // Prepare
    const cases = [
      '{"default": {"apns": "SENTINEL-SECRET',
      'null',
      '["SENTINEL-SECRET"]',
      '"SENTINEL-SECRET"',
    ];
    const e = env({ FANOUT_PUSH_PROVIDERS_SECRET_ID: 'fanout/providers' });
    for (const text of cases) {
      // Act
      const err = await rejection(loadPushProviders(e, secrets({ 'fanout/providers': text })));
      // Assess
      expect(err, text).toBeInstanceOf(FanoutError);
      expect((err as FanoutError).code).toBe(ErrorCode.Validation);
      expect(err.message).toContain('fanout/providers');
      expect(err.message).not.toContain('SENTINEL');
    }
  });

  it('reports a bad document by its paths, without the credentials it holds', async () => {
    // Prepare
    const doc = {
      default: 'SENTINEL-SECRET',
      tenants: {
        acme: {
          apns: {
            provider: 'apns',
            keyId: 'bad',
            teamId: 'DEF123GHIJ',
            topic: 'com.acme',
            signingKeyFile: 'k.p8',
          },
          fcm: { provider: 'record' },
        },
      },
    };
    const e = env({ FANOUT_PUSH_PROVIDERS_SECRET_ID: 'fanout/providers' });
    // Act
    const err = await rejection(loadPushProviders(e, secrets({ 'fanout/providers': JSON.stringify(doc) })));
    // Assess
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.path)).toEqual([
      'default',
      'tenants.acme.apns.keyId',
      'tenants.acme.apns.signingKeyFile',
      'tenants.acme.fcm.provider',
    ]);
    expect(err.message).not.toContain('SENTINEL');
  });

  it('fails when a secret cannot be read', async () => {
    // Prepare
    const e = env({ FANOUT_FCM_SECRET_ID: 'fanout/fcm-account' });
    // Act
    const err = await rejection(loadPushProviders(e, secrets({})));
    // Assess
    expect(err).toBeInstanceOf(FanoutError);
    expect(err.message).toContain('fanout/fcm-account');
  });
});

describe('secretsManagerReader', () => {
  /** A Secrets Manager client answering every GetSecretValue with `answer`. */
  function client(answer: () => Promise<unknown>): SecretsManagerClient & { ids: unknown[] } {
    const ids: unknown[] = [];
    const send = async (command: GetSecretValueCommand) => {
      expect(command).toBeInstanceOf(GetSecretValueCommand);
      ids.push(command.input.SecretId);
      return answer();
    };
    return { send, ids } as unknown as SecretsManagerClient & { ids: unknown[] };
  }

  it('returns the secret string', async () => {
    // Prepare
    const c = client(async () => ({ SecretString: SIGNING_KEY }));
    // Act
    const text = await secretsManagerReader(c)('fanout/apns-key');
    // Assess
    expect(text).toBe(SIGNING_KEY);
    expect(c.ids).toEqual(['fanout/apns-key']);
  });

  it('names the secret, keeps the cause, and never repeats what the SDK said', async () => {
    // Prepare
    const cause = Object.assign(new Error('AccessDenied SENTINEL-SECRET'), { name: 'AccessDeniedException' });
    const failing = client(async () => {
      throw cause;
    });
    const empty = client(async () => ({ SecretBinary: new Uint8Array([1]) }));
    // Act
    const denied = await rejection(secretsManagerReader(failing)('fanout/apns-key'));
    const binary = await rejection(secretsManagerReader(empty)('fanout/fcm-account'));
    // Assess
    expect(denied).toBeInstanceOf(FanoutError);
    expect(denied.message).toBe('secret fanout/apns-key could not be read');
    expect(denied.cause).toBe(cause);
    expect(binary.message).toBe('secret fanout/fcm-account holds no text');
  });
});

describe('push secrets from Secrets Manager (moto_server)', () => {
  let client: SecretsManagerClient;
  afterEach(() => {
    client?.destroy();
  });

  async function secret(name: string, value: { SecretString?: string; SecretBinary?: Uint8Array }) {
    await client.send(new CreateSecretCommand({ Name: name, ...value }));
    return name;
  }

  it('reads the APNs key, the FCM account and the providers document the push consumer loads at cold start', async () => {
    // Prepare
    client = new SecretsManagerClient({ ...EMULATOR_CLIENT, endpoint: motoEndpoint() });
    const apnsId = await secret(uniqueName('fanout/apns-key'), { SecretString: SIGNING_KEY });
    const fcmId = await secret(uniqueName('fanout/fcm-account'), { SecretString: SERVICE_ACCOUNT });
    const doc = {
      tenants: {
        acme: {
          apns: { provider: 'sns', applicationArn: 'arn:aws:sns:us-east-2:123456789012:app/APNS/acme' },
        },
      },
    };
    const docId = await secret(uniqueName('fanout/providers'), { SecretString: JSON.stringify(doc) });
    const e = env({
      ...DIRECT_APNS,
      FANOUT_APNS_SECRET_ID: apnsId,
      FANOUT_FCM_SECRET_ID: fcmId,
      FANOUT_PUSH_PROVIDERS_SECRET_ID: docId,
    });
    // Act
    const providers = await loadPushProviders(e, secretsManagerReader(client));
    // Assess
    expect(providers.default.apns).toMatchObject({ provider: 'apns', signingKey: SIGNING_KEY });
    expect(providers.default.fcm).toEqual({ provider: 'fcm', serviceAccount: SERVICE_ACCOUNT });
    expect(providers.tenants.acme?.apns).toMatchObject({ provider: 'sns' });
  });

  it('names a missing secret and a binary one, and fails the load', async () => {
    // Prepare
    client = new SecretsManagerClient({ ...EMULATOR_CLIENT, endpoint: motoEndpoint(), maxAttempts: 1 });
    const binaryId = await secret(uniqueName('fanout/binary'), { SecretBinary: new Uint8Array([1, 2, 3]) });
    const missingId = uniqueName('fanout/missing');
    const read = secretsManagerReader(client);
    // Act
    const missing = await rejection(read(missingId));
    const binary = await rejection(read(binaryId));
    const load = await rejection(
      loadPushProviders(env({ ...DIRECT_APNS, FANOUT_APNS_SECRET_ID: missingId }), read),
    );
    // Assess
    expect(missing).toBeInstanceOf(FanoutError);
    expect(missing.message).toBe(`secret ${missingId} could not be read`);
    expect((missing.cause as Error).name).toBe('ResourceNotFoundException');
    expect(binary.message).toBe(`secret ${binaryId} holds no text`);
    expect(load.message).toBe(`secret ${missingId} could not be read`);
  });
});

describe('lambdaPushTransport', () => {
  const built: RoutingPushTransport[] = [];
  const sns = new SNSClient({ region: 'us-east-2' });
  afterEach(async () => {
    await Promise.all(built.splice(0).map((t) => t.close()));
  });

  function transport(providers: Awaited<ReturnType<typeof loadPushProviders>>): RoutingPushTransport {
    const t = lambdaPushTransport({
      providers,
      sns,
      endpoints: new InMemoryEndpointCache(),
      logger: silentLogger,
    });
    built.push(t);
    return t;
  }

  it('builds SNS, direct APNs and direct FCM transports per platform and tenant', async () => {
    // Prepare
    const doc = {
      tenants: {
        acme: {
          apns: {
            provider: 'apns',
            keyId: 'ACME123456',
            teamId: 'ACME654321',
            topic: 'com.acme.app',
            signingKey: SIGNING_KEY,
            origin: 'https://127.0.0.1:4431',
          },
        },
      },
    };
    const reader = secrets({ 'fanout/fcm': SERVICE_ACCOUNT, 'fanout/providers': JSON.stringify(doc) });
    const e = env({
      FANOUT_SNS_APNS_ARN: SNS_APNS,
      FANOUT_FCM_SECRET_ID: 'fanout/fcm',
      FANOUT_PUSH_PROVIDERS_SECRET_ID: 'fanout/providers',
    });
    // Act
    const t = transport(await loadPushProviders(e, reader));
    // Assess
    expect(t.route('globex', 'apns')).toBeInstanceOf(SnsPushTransport);
    expect(t.route('globex', 'fcm')).toBeInstanceOf(FcmTransport);
    const own = t.route('acme', 'apns');
    expect(own).toBeInstanceOf(ApnsTransport);
    expect((own as ApnsTransport).origin).toBe('https://127.0.0.1:4431');
    expect(t.route('acme', 'fcm')).toBe(t.route('globex', 'fcm'));
  });

  it('rejects pushes of a platform without a provider, keeping the device', async () => {
    // Prepare
    const t = transport(await loadPushProviders(env({ FANOUT_SNS_FCM_ARN: SNS_FCM }), secrets({})));
    // Act
    const result = await t.send({
      tenantId: 'acme',
      userId: 'u1',
      token: 'ab'.repeat(32),
      platform: 'apns',
      title: 't',
      body: 'b',
      category: 'social',
      collapseId: 'c1',
      messageId: 'm1',
    });
    // Assess
    expect(t.route('acme', 'apns')).toBeUndefined();
    expect(t.route('acme', 'fcm')).toBeInstanceOf(SnsPushTransport);
    expect(result).toEqual({
      status: 'rejected',
      reason: 'platform_not_configured',
      deactivateDevice: false,
    });
  });
});

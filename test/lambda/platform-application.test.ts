import { generateKeyPairSync } from 'node:crypto';
import {
  CreatePlatformApplicationCommand,
  DeletePlatformApplicationCommand,
  SetPlatformApplicationAttributesCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createPlatformApplicationHandler,
  handlePlatformApplication,
  type PlatformApplicationDeps,
  PlatformApplicationError,
  type PlatformApplicationRequest,
} from '../../src/lambda/platform-application.ts';
import type { Logger } from '../../src/ports/logger.ts';

/** A fresh P-256 key as Apple issues it: PKCS#8 PEM, the content of an AuthKey_<id>.p8 file. */
const P8 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
/** A Firebase service account key file (made up; the key is a fresh RSA key). */
const SERVICE_ACCOUNT = JSON.stringify({
  type: 'service_account',
  project_id: 'fanout-test',
  private_key_id: '0123456789abcdef0123456789abcdef01234567',
  private_key: generateKeyPairSync('rsa', { modulusLength: 2048 })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString(),
  client_email: 'fanout@fanout-test.iam.gserviceaccount.com',
  client_id: '123456789012345678901',
  token_uri: 'https://oauth2.googleapis.com/token',
});

const APNS_SECRET = 'arn:aws:secretsmanager:us-east-2:123456789012:secret:fanout/apns-AbCdEf';
const FCM_SECRET = 'fanout/fcm';
const APNS_ARN = 'arn:aws:sns:us-east-2:123456789012:app/APNS/fanout-ios';
const FCM_ARN = 'arn:aws:sns:us-east-2:123456789012:app/GCM/fanout-android';

const APNS_PROPS = {
  ServiceToken: 'arn:aws:lambda:us-east-2:123456789012:function:provider',
  Name: 'fanout-ios',
  Platform: 'APNS',
  CredentialSecretId: APNS_SECRET,
  KeyId: 'ABC123DEFG',
  TeamId: 'TEAM123456',
  BundleId: 'com.example.fanout',
};
const FCM_PROPS = {
  ServiceToken: 'arn:aws:lambda:us-east-2:123456789012:function:provider',
  Name: 'fanout-android',
  Platform: 'GCM',
  CredentialSecretId: FCM_SECRET,
};

const sns = mockClient(SNSClient);

interface Harness {
  readonly deps: PlatformApplicationDeps;
  /** Every log line, as JSON. */
  readonly lines: string[];
  /** Secret ids read. */
  readonly reads: string[];
}

function harness(
  secrets: Record<string, string> = { [APNS_SECRET]: P8, [FCM_SECRET]: SERVICE_ACCOUNT },
): Harness {
  const lines: string[] = [];
  const reads: string[] = [];
  const record =
    (level: string) =>
    (message: string, attributes?: Readonly<Record<string, unknown>>): void => {
      lines.push(JSON.stringify({ level, message, ...attributes }));
    };
  const logger: Logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  };
  const getSecret = async (id: string): Promise<string> => {
    reads.push(id);
    const value = secrets[id];
    if (value === undefined) {
      const err = new Error("Secrets Manager can't find the specified secret.");
      err.name = 'ResourceNotFoundException';
      throw err;
    }
    return value;
  };
  return { deps: { sns: new SNSClient({ region: 'us-east-2' }), getSecret, logger }, lines, reads };
}

function request(
  RequestType: PlatformApplicationRequest['RequestType'],
  ResourceProperties: Record<string, unknown>,
  extra: Partial<PlatformApplicationRequest> = {},
): PlatformApplicationRequest {
  return {
    RequestType,
    LogicalResourceId: 'ApnsApplication',
    RequestId: 'f1e2d3c4-0000-4000-8000-000000000001',
    ResourceProperties,
    ...extra,
  };
}

/** The error the handler threw (CloudFormation's reason), or a failure when it did not throw. */
async function failure(promise: Promise<unknown>): Promise<PlatformApplicationError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PlatformApplicationError);
  return err as PlatformApplicationError;
}

/** No credential, nor any line of one, in the text. */
function expectNoSecretIn(text: string): void {
  for (const credential of [P8, SERVICE_ACCOUNT, JSON.parse(SERVICE_ACCOUNT).private_key as string]) {
    expect(text).not.toContain(credential.trim());
    for (const line of credential.split('\n')) {
      if (line.length >= 16 && !line.startsWith('-----')) expect(text).not.toContain(line);
    }
  }
  expect(text).not.toContain(JSON.stringify(P8).slice(1, -1));
}

beforeEach(() => {
  sns.reset();
});

describe('platform application custom resource: Create', () => {
  it('creates an APNs application with token authentication read from the secret', async () => {
    // Prepare
    const h = harness();
    sns.on(CreatePlatformApplicationCommand).resolves({ PlatformApplicationArn: APNS_ARN });
    // Act
    const response = await handlePlatformApplication(request('Create', APNS_PROPS), h.deps);
    // Assess
    expect(response).toEqual({ PhysicalResourceId: APNS_ARN, Data: { PlatformApplicationArn: APNS_ARN } });
    expect(h.reads).toEqual([APNS_SECRET]);
    const calls = sns.commandCalls(CreatePlatformApplicationCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      Name: 'fanout-ios',
      Platform: 'APNS',
      Attributes: {
        PlatformCredential: P8.trim(),
        PlatformPrincipal: 'ABC123DEFG',
        ApplePlatformTeamID: 'TEAM123456',
        ApplePlatformBundleID: 'com.example.fanout',
      },
    });
    expectNoSecretIn(h.lines.join('\n'));
    expect(h.lines.some((l) => l.includes(APNS_ARN))).toBe(true);
  });

  it('creates an APNs sandbox application when the platform is APNS_SANDBOX', async () => {
    // Prepare
    const h = harness();
    const sandboxArn = 'arn:aws:sns:us-east-2:123456789012:app/APNS_SANDBOX/fanout-ios-dev';
    sns.on(CreatePlatformApplicationCommand).resolves({ PlatformApplicationArn: sandboxArn });
    // Act
    const response = await handlePlatformApplication(
      request('Create', { ...APNS_PROPS, Name: 'fanout-ios-dev', Platform: 'APNS_SANDBOX' }),
      h.deps,
    );
    // Assess
    expect(response.PhysicalResourceId).toBe(sandboxArn);
    expect(sns.commandCalls(CreatePlatformApplicationCommand)[0]!.args[0].input).toMatchObject({
      Name: 'fanout-ios-dev',
      Platform: 'APNS_SANDBOX',
    });
  });

  it('creates an FCM application whose credential is the service account JSON', async () => {
    // Prepare
    const h = harness();
    sns.on(CreatePlatformApplicationCommand).resolves({ PlatformApplicationArn: FCM_ARN });
    // Act
    const response = await handlePlatformApplication(request('Create', FCM_PROPS), h.deps);
    // Assess
    expect(response).toEqual({ PhysicalResourceId: FCM_ARN, Data: { PlatformApplicationArn: FCM_ARN } });
    expect(h.reads).toEqual([FCM_SECRET]);
    expect(sns.commandCalls(CreatePlatformApplicationCommand)[0]!.args[0].input).toEqual({
      Name: 'fanout-android',
      Platform: 'GCM',
      Attributes: { PlatformCredential: SERVICE_ACCOUNT },
    });
    expectNoSecretIn(h.lines.join('\n'));
  });

  it('fails with every missing property named, before reading any secret', async () => {
    // Prepare
    const h = harness();
    // Act
    const err = await failure(
      handlePlatformApplication(request('Create', { Name: 'fanout-ios', Platform: 'APNS' }), h.deps),
    );
    // Assess
    expect(err.message).toBe(
      'bad platform application properties: CredentialSecretId is required; KeyId is required; TeamId is required; BundleId is required',
    );
    expect(h.reads).toEqual([]);
    expect(sns.calls()).toHaveLength(0);
  });

  it('fails on a platform SNS has but Fanout does not push to', async () => {
    const err = await failure(
      handlePlatformApplication(request('Create', { ...FCM_PROPS, Platform: 'ADM' }), harness().deps),
    );
    expect(err.message).toContain('Platform must be one of APNS, APNS_SANDBOX, GCM');
  });

  it('fails with the secret named when it cannot be read', async () => {
    // Prepare
    const h = harness({});
    // Act
    const err = await failure(handlePlatformApplication(request('Create', APNS_PROPS), h.deps));
    // Assess
    expect(err.message).toBe(
      `could not read the secret ${APNS_SECRET} for the APNS platform application fanout-ios: ResourceNotFoundException: Secrets Manager can't find the specified secret.`,
    );
    expect(sns.calls()).toHaveLength(0);
  });

  it('fails without quoting the secret when it holds no .p8 key', async () => {
    // Prepare
    const h = harness({ [APNS_SECRET]: SERVICE_ACCOUNT });
    // Act
    const err = await failure(handlePlatformApplication(request('Create', APNS_PROPS), h.deps));
    // Assess
    expect(err.message).toBe(
      `the secret ${APNS_SECRET} does not hold an APNs .p8 signing key (a PEM "BEGIN PRIVATE KEY" block)`,
    );
    expectNoSecretIn(err.message);
    expect(sns.calls()).toHaveLength(0);
  });

  it('fails without quoting the secret when it holds no service account', async () => {
    // Prepare
    const h = harness({ [FCM_SECRET]: JSON.stringify({ type: 'authorized_user', private_key: P8 }) });
    // Act
    const err = await failure(handlePlatformApplication(request('Create', FCM_PROPS), h.deps));
    // Assess
    expect(err.message).toBe(
      `the secret ${FCM_SECRET} does not hold a Firebase service account key (JSON with type "service_account"; missing project_id, client_email)`,
    );
    expectNoSecretIn(err.message);
  });

  it('fails with a clear reason when SNS refuses, the credential scrubbed from its message', async () => {
    // Prepare
    const h = harness();
    const refusal = new Error(
      `Invalid parameter: Attributes Reason: Platform credentials are invalid: ${P8} ${JSON.stringify(P8)}`,
    );
    refusal.name = 'InvalidParameterException';
    sns.on(CreatePlatformApplicationCommand).rejects(refusal);
    // Act
    const err = await failure(handlePlatformApplication(request('Create', APNS_PROPS), h.deps));
    // Assess
    expect(err.message).toMatch(
      /^could not create the APNS platform application fanout-ios: InvalidParameterException: Invalid parameter: Attributes Reason: Platform credentials are invalid: \[redacted\]/,
    );
    expect(err.cause).toBeUndefined();
    expectNoSecretIn(err.message);
    expectNoSecretIn(err.stack ?? '');
    expectNoSecretIn(h.lines.join('\n'));
  });
});

describe('platform application custom resource: Update', () => {
  it('sets the attributes of the same application when only credentials or ids change', async () => {
    // Prepare
    const h = harness();
    sns.on(SetPlatformApplicationAttributesCommand).resolves({});
    // Act
    const response = await handlePlatformApplication(
      request(
        'Update',
        { ...APNS_PROPS, KeyId: 'NEWKEY1234', CredentialsRevision: '2' },
        { PhysicalResourceId: APNS_ARN, OldResourceProperties: APNS_PROPS },
      ),
      h.deps,
    );
    // Assess
    expect(response).toEqual({ PhysicalResourceId: APNS_ARN, Data: { PlatformApplicationArn: APNS_ARN } });
    expect(sns.commandCalls(CreatePlatformApplicationCommand)).toHaveLength(0);
    expect(sns.commandCalls(SetPlatformApplicationAttributesCommand)[0]!.args[0].input).toEqual({
      PlatformApplicationArn: APNS_ARN,
      Attributes: {
        PlatformCredential: P8.trim(),
        PlatformPrincipal: 'NEWKEY1234',
        ApplePlatformTeamID: 'TEAM123456',
        ApplePlatformBundleID: 'com.example.fanout',
      },
    });
    expectNoSecretIn(h.lines.join('\n'));
  });

  it('re-reads the FCM service account and sets it as the credential', async () => {
    // Prepare
    const h = harness();
    sns.on(SetPlatformApplicationAttributesCommand).resolves({});
    // Act
    await handlePlatformApplication(
      request(
        'Update',
        { ...FCM_PROPS, CredentialsRevision: '2' },
        { PhysicalResourceId: FCM_ARN, OldResourceProperties: FCM_PROPS },
      ),
      h.deps,
    );
    // Assess
    expect(h.reads).toEqual([FCM_SECRET]);
    expect(sns.commandCalls(SetPlatformApplicationAttributesCommand)[0]!.args[0].input).toEqual({
      PlatformApplicationArn: FCM_ARN,
      Attributes: { PlatformCredential: SERVICE_ACCOUNT },
    });
  });

  it('creates a new application when the name or platform changes, and answers its ARN', async () => {
    // Prepare
    const h = harness();
    const sandboxArn = 'arn:aws:sns:us-east-2:123456789012:app/APNS_SANDBOX/fanout-ios';
    sns.on(CreatePlatformApplicationCommand).resolves({ PlatformApplicationArn: sandboxArn });
    // Act
    const response = await handlePlatformApplication(
      request(
        'Update',
        { ...APNS_PROPS, Platform: 'APNS_SANDBOX' },
        { PhysicalResourceId: APNS_ARN, OldResourceProperties: APNS_PROPS },
      ),
      h.deps,
    );
    // Assess: CloudFormation deletes (or retains) the old ARN itself after this answer
    expect(response.PhysicalResourceId).toBe(sandboxArn);
    expect(sns.commandCalls(CreatePlatformApplicationCommand)[0]!.args[0].input).toMatchObject({
      Name: 'fanout-ios',
      Platform: 'APNS_SANDBOX',
    });
    expect(sns.commandCalls(SetPlatformApplicationAttributesCommand)).toHaveLength(0);
    expect(sns.commandCalls(DeletePlatformApplicationCommand)).toHaveLength(0);
  });

  it('fails with the ARN named and the credential scrubbed when SNS refuses the new attributes', async () => {
    // Prepare
    const h = harness();
    const refusal = new Error(`Invalid parameter: PlatformCredential ${SERVICE_ACCOUNT}`);
    refusal.name = 'InvalidParameterException';
    sns.on(SetPlatformApplicationAttributesCommand).rejects(refusal);
    // Act
    const err = await failure(
      handlePlatformApplication(
        request('Update', FCM_PROPS, { PhysicalResourceId: FCM_ARN, OldResourceProperties: FCM_PROPS }),
        h.deps,
      ),
    );
    // Assess
    expect(err.message).toBe(
      `could not update the GCM platform application ${FCM_ARN}: InvalidParameterException: Invalid parameter: PlatformCredential [redacted]`,
    );
    expectNoSecretIn(h.lines.join('\n'));
  });
});

describe('platform application custom resource: Delete', () => {
  it('deletes the application named by the physical id', async () => {
    // Prepare
    const h = harness();
    sns.on(DeletePlatformApplicationCommand).resolves({});
    // Act
    const response = await handlePlatformApplication(
      request('Delete', APNS_PROPS, { PhysicalResourceId: APNS_ARN }),
      h.deps,
    );
    // Assess
    expect(response).toEqual({ PhysicalResourceId: APNS_ARN });
    expect(sns.commandCalls(DeletePlatformApplicationCommand)[0]!.args[0].input).toEqual({
      PlatformApplicationArn: APNS_ARN,
    });
    expect(h.reads).toEqual([]);
  });

  it('succeeds when the application is already gone', async () => {
    // Prepare
    const gone = new Error('PlatformApplication does not exist');
    gone.name = 'NotFoundException';
    sns.on(DeletePlatformApplicationCommand).rejects(gone);
    // Act
    const response = await handlePlatformApplication(
      request('Delete', FCM_PROPS, { PhysicalResourceId: FCM_ARN }),
      harness().deps,
    );
    // Assess
    expect(response).toEqual({ PhysicalResourceId: FCM_ARN });
  });

  it('calls nothing for a resource whose Create failed (its physical id is no ARN)', async () => {
    // Prepare
    const h = harness();
    // Act
    const response = await handlePlatformApplication(
      request('Delete', APNS_PROPS, {
        PhysicalResourceId: 'AWSCDK::CustomResourceProviderFramework::CREATE_FAILED',
      }),
      h.deps,
    );
    // Assess
    expect(response.PhysicalResourceId).toBe('AWSCDK::CustomResourceProviderFramework::CREATE_FAILED');
    expect(sns.calls()).toHaveLength(0);
  });

  it('fails with a clear reason when SNS refuses the deletion', async () => {
    // Prepare
    const denied = new Error('User is not authorized to perform: SNS:DeletePlatformApplication');
    denied.name = 'AuthorizationErrorException';
    sns.on(DeletePlatformApplicationCommand).rejects(denied);
    // Act
    const err = await failure(
      handlePlatformApplication(
        request('Delete', APNS_PROPS, { PhysicalResourceId: APNS_ARN }),
        harness().deps,
      ),
    );
    // Assess
    expect(err.message).toBe(
      `could not delete the platform application ${APNS_ARN}: AuthorizationErrorException: User is not authorized to perform: SNS:DeletePlatformApplication`,
    );
  });
});

describe('platform application custom resource: handler', () => {
  it('builds its clients once, on the first request', async () => {
    // Prepare
    const h = harness();
    sns.on(CreatePlatformApplicationCommand).resolves({ PlatformApplicationArn: FCM_ARN });
    sns.on(DeletePlatformApplicationCommand).resolves({});
    let built = 0;
    const handler = createPlatformApplicationHandler(() => {
      built++;
      return h.deps;
    });
    // Act
    await handler(request('Create', FCM_PROPS));
    await handler(request('Delete', FCM_PROPS, { PhysicalResourceId: FCM_ARN }));
    // Assess
    expect(built).toBe(1);
    expect(sns.calls()).toHaveLength(2);
  });

  it('rejects an unknown request type', async () => {
    const err = await failure(
      handlePlatformApplication(
        { ...request('Create', FCM_PROPS), RequestType: 'Rollback' as 'Create' },
        harness().deps,
      ),
    );
    expect(err.message).toBe('unknown request type "Rollback"');
  });
});

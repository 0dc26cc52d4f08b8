import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  CreatePlatformApplicationCommand,
  DeletePlatformApplicationCommand,
  SetPlatformApplicationAttributesCommand,
  SNSClient,
} from '@aws-sdk/client-sns';
import { awsErrorName } from '../adapters/aws/errors.ts';
import { ErrorCode, FanoutError } from '../domain/errors.ts';
import { errorName } from '../lib/error-name.ts';
import type { Logger } from '../ports/logger.ts';

/**
 * The custom resource behind `FanoutTransport`'s SNS platform applications (APNs, FCM), which
 * CloudFormation has no resource type for. The CDK `Provider` framework invokes `handler` with the
 * CloudFormation request and turns what it returns into the response (a throw becomes FAILED, its
 * message the reason CloudFormation shows).
 *
 * The template carries only the name of the Secrets Manager secret holding the credentials; they
 * are read here, at deployment, and handed to SNS. Nothing logged or thrown by this file carries
 * a credential: log lines hold the request type, the platform, names and ARNs; an error message
 * from SNS or Secrets Manager is scrubbed of the credentials before it is thrown.
 */

/** SNS's names of the platforms Fanout pushes to (`GCM` is FCM, HTTP v1 with a service account). */
export const Platform = { Apns: 'APNS', ApnsSandbox: 'APNS_SANDBOX', Fcm: 'GCM' } as const;
export type Platform = (typeof Platform)[keyof typeof Platform];

/**
 * The custom resource's properties, as the template carries them (CloudFormation passes every
 * value as a string; `ServiceToken` is CloudFormation's own).
 */
export interface PlatformApplicationProperties {
  /** Application name: letters, digits, `_`, `-`, `.`, up to 256 characters. */
  readonly Name: string;
  readonly Platform: Platform;
  /**
   * Name or ARN of the secret with the credential: for APNs the `.p8` signing key as text (PEM),
   * for FCM the Firebase service account's JSON key file.
   */
  readonly CredentialSecretId: string;
  /** APNs: the signing key's id (10 characters, shown with the key in the Apple developer account). */
  readonly KeyId?: string;
  /** APNs: the Apple developer team id. */
  readonly TeamId?: string;
  /** APNs: the app's bundle id (the `apns-topic`). */
  readonly BundleId?: string;
  /**
   * Not read: a value the stack changes to make CloudFormation send an Update, which re-reads the
   * secret (a rotated credential is otherwise not seen: the template did not change).
   */
  readonly CredentialsRevision?: string;
}

/** The Provider framework's request (a CloudFormation custom resource request, minus the response URL). */
export interface PlatformApplicationRequest {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly LogicalResourceId?: string;
  readonly RequestId?: string;
  /** Set on Update and Delete: the application ARN returned by Create. */
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Readonly<Record<string, unknown>>;
  readonly OldResourceProperties?: Readonly<Record<string, unknown>>;
}

/** What the Provider framework sends back to CloudFormation. */
export interface PlatformApplicationResponse {
  /** The application ARN (on Delete, the ARN that was deleted). */
  readonly PhysicalResourceId: string;
  /** `Fn::GetAtt` of the custom resource: `PlatformApplicationArn`. */
  readonly Data?: { readonly PlatformApplicationArn: string };
}

/** The part of the SNS client this handler uses (an `SNSClient`, or a mock of one). */
export interface SnsSender {
  send: SNSClient['send'];
}

export interface PlatformApplicationDeps {
  readonly sns: SnsSender;
  /** The `SecretString` of a secret (Secrets Manager GetSecretValue), by name or ARN. */
  readonly getSecret: (secretId: string) => Promise<string>;
  readonly logger: Logger;
}

/** The resource could not be created, updated or deleted; the message is CloudFormation's reason. */
export class PlatformApplicationError extends FanoutError {}

/** Stands in for a credential wherever a message might have quoted it. */
const REDACTED = '[redacted]';

/** Builds the handler; `deps` is called once, on the first request. */
export function createPlatformApplicationHandler(
  deps: () => PlatformApplicationDeps,
): (request: PlatformApplicationRequest) => Promise<PlatformApplicationResponse> {
  let built: PlatformApplicationDeps | undefined;
  return async (request) => {
    built ??= deps();
    return handlePlatformApplication(request, built);
  };
}

/** One Create, Update or Delete. */
export async function handlePlatformApplication(
  request: PlatformApplicationRequest,
  deps: PlatformApplicationDeps,
): Promise<PlatformApplicationResponse> {
  const { logger } = deps;
  const context = { requestType: request.RequestType, logicalResourceId: request.LogicalResourceId };
  switch (request.RequestType) {
    case 'Create': {
      const props = readProperties(request.ResourceProperties);
      const arn = await create(props, deps);
      logger.info('platform application created', { ...context, platform: props.Platform, arn });
      return answer(arn);
    }
    case 'Update': {
      const props = readProperties(request.ResourceProperties);
      const arn = request.PhysicalResourceId;
      const old = request.OldResourceProperties;
      // Name and platform are part of the ARN: a change is a new application. CloudFormation then
      // sends a Delete for the old ARN (unless the resource's UpdateReplacePolicy retains it).
      if (
        !isApplicationArn(arn) ||
        old === undefined ||
        old.Name !== props.Name ||
        old.Platform !== props.Platform
      ) {
        const created = await create(props, deps);
        logger.info('platform application replaced', {
          ...context,
          platform: props.Platform,
          arn: created,
          replaced: arn,
        });
        return answer(created);
      }
      const { attributes, secrets } = await credentialAttributes(props, deps);
      await call(`could not update the ${props.Platform} platform application ${arn}`, secrets, () =>
        deps.sns.send(
          new SetPlatformApplicationAttributesCommand({
            PlatformApplicationArn: arn,
            Attributes: attributes,
          }),
        ),
      );
      logger.info('platform application updated', { ...context, platform: props.Platform, arn });
      return answer(arn);
    }
    case 'Delete': {
      const arn = request.PhysicalResourceId ?? '';
      // A Create that failed leaves no application; its physical id is no ARN of ours.
      if (!isApplicationArn(arn)) {
        logger.info('nothing to delete', context);
        return { PhysicalResourceId: arn === '' ? (request.LogicalResourceId ?? 'none') : arn };
      }
      await call(`could not delete the platform application ${arn}`, [], async () => {
        try {
          // Deleting an application that is already gone succeeds.
          return await deps.sns.send(new DeletePlatformApplicationCommand({ PlatformApplicationArn: arn }));
        } catch (err) {
          if (awsErrorName(err) === 'NotFoundException' || awsErrorName(err) === 'NotFound') return undefined;
          throw err;
        }
      });
      logger.info('platform application deleted', { ...context, arn });
      return { PhysicalResourceId: arn };
    }
    default:
      throw new PlatformApplicationError(
        ErrorCode.Validation,
        `unknown request type ${JSON.stringify((request as { RequestType?: unknown }).RequestType)}`,
      );
  }
}

async function create(props: PlatformApplicationProperties, deps: PlatformApplicationDeps): Promise<string> {
  const { attributes, secrets } = await credentialAttributes(props, deps);
  const out = await call(
    `could not create the ${props.Platform} platform application ${props.Name}`,
    secrets,
    () =>
      deps.sns.send(
        new CreatePlatformApplicationCommand({
          Name: props.Name,
          Platform: props.Platform,
          Attributes: attributes,
        }),
      ),
  );
  const arn = out?.PlatformApplicationArn;
  if (arn === undefined || arn === '') {
    throw new PlatformApplicationError(
      ErrorCode.StoreUnavailable,
      `SNS created the ${props.Platform} platform application ${props.Name} but returned no ARN`,
    );
  }
  return arn;
}

/**
 * The credential attributes of a platform: APNs token authentication (the `.p8` key, its key id,
 * the team and bundle ids), or FCM HTTP v1 (the service account's JSON).
 */
async function credentialAttributes(
  props: PlatformApplicationProperties,
  deps: PlatformApplicationDeps,
): Promise<{ attributes: Record<string, string>; secrets: string[] }> {
  let secret: string;
  try {
    secret = await deps.getSecret(props.CredentialSecretId);
  } catch (err) {
    throw new PlatformApplicationError(
      ErrorCode.StoreUnavailable,
      `could not read the secret ${props.CredentialSecretId} for the ${props.Platform} platform application ${props.Name}: ${describeError(err, [])}`,
    );
  }
  const credential = secret.trim();
  if (credential === '') {
    throw new PlatformApplicationError(
      ErrorCode.Validation,
      `the secret ${props.CredentialSecretId} is empty (it must hold the ${what(props.Platform)})`,
    );
  }
  if (props.Platform === Platform.Fcm) {
    checkServiceAccount(credential, props.CredentialSecretId);
    return { attributes: { PlatformCredential: credential }, secrets: [secret, credential] };
  }
  if (!/^-----BEGIN PRIVATE KEY-----\r?\n[A-Za-z0-9+/=\s]+\r?\n-----END PRIVATE KEY-----$/.test(credential)) {
    throw new PlatformApplicationError(
      ErrorCode.Validation,
      `the secret ${props.CredentialSecretId} does not hold an APNs .p8 signing key (a PEM "BEGIN PRIVATE KEY" block)`,
    );
  }
  return {
    attributes: {
      PlatformCredential: credential,
      PlatformPrincipal: props.KeyId!,
      ApplePlatformTeamID: props.TeamId!,
      ApplePlatformBundleID: props.BundleId!,
    },
    secrets: [secret, credential],
  };
}

/** The FCM credential must be a service account key file; its content never reaches a message. */
function checkServiceAccount(credential: string, secretId: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(credential);
  } catch {
    parsed = undefined;
  }
  const account = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const missing = ['type', 'project_id', 'private_key', 'client_email'].filter(
    (k) => typeof account[k] !== 'string' || account[k] === '',
  );
  if (parsed === undefined || missing.length > 0 || account.type !== 'service_account') {
    throw new PlatformApplicationError(
      ErrorCode.Validation,
      `the secret ${secretId} does not hold a Firebase service account key (JSON with type "service_account"${
        missing.length > 0 ? `; missing ${missing.join(', ')}` : ''
      })`,
    );
  }
}

/** Validated properties; every problem is reported at once. */
function readProperties(raw: Readonly<Record<string, unknown>>): PlatformApplicationProperties {
  const problems: string[] = [];
  const text = (key: string, need: boolean): string | undefined => {
    const value = raw[key];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
    if (need) problems.push(`${key} is required`);
    return undefined;
  };
  const name = text('Name', true);
  if (name !== undefined && !/^[A-Za-z0-9_.-]{1,256}$/.test(name)) {
    problems.push('Name must be 1 to 256 letters, digits, "_", "-" or "."');
  }
  const platform = text('Platform', true);
  const platforms: readonly string[] = Object.values(Platform);
  if (platform !== undefined && !platforms.includes(platform)) {
    problems.push(`Platform must be one of ${platforms.join(', ')}`);
  }
  const apns = platform === Platform.Apns || platform === Platform.ApnsSandbox;
  const credentialSecretId = text('CredentialSecretId', true) ?? '';
  const [keyId, teamId, bundleId] = [text('KeyId', apns), text('TeamId', apns), text('BundleId', apns)];
  const props: PlatformApplicationProperties = {
    Name: name ?? '',
    Platform: (platform ?? '') as Platform,
    CredentialSecretId: credentialSecretId,
    ...(keyId === undefined ? {} : { KeyId: keyId }),
    ...(teamId === undefined ? {} : { TeamId: teamId }),
    ...(bundleId === undefined ? {} : { BundleId: bundleId }),
  };
  if (problems.length > 0) {
    throw new PlatformApplicationError(
      ErrorCode.Validation,
      `bad platform application properties: ${problems.join('; ')}`,
    );
  }
  return props;
}

/** Runs one AWS call; a failure becomes a PlatformApplicationError naming what failed and why. */
async function call<T>(what: string, secrets: readonly string[], send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    // The SDK error is not kept as `cause`: its message may quote the request, credentials
    // included, and whatever logs this error would print it. Its name and scrubbed message are.
    throw new PlatformApplicationError(ErrorCode.StoreUnavailable, `${what}: ${describeError(err, secrets)}`);
  }
}

function answer(arn: string): PlatformApplicationResponse {
  return { PhysicalResourceId: arn, Data: { PlatformApplicationArn: arn } };
}

/** `arn:<partition>:sns:<region>:<account>:app/<platform>/<name>` */
function isApplicationArn(value: string | undefined): value is string {
  return value !== undefined && /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:app\/[A-Z_]+\/[^/]+$/.test(value);
}

function what(platform: Platform): string {
  return platform === Platform.Fcm ? 'Firebase service account JSON' : 'APNs .p8 signing key';
}

/**
 * `<error name>: <message>` with every credential, and every line of a credential, replaced: a
 * service might echo a parameter back, and a PEM or JSON key would then leak line by line.
 */
export function describeError(err: unknown, secrets: readonly string[]): string {
  const message = err instanceof Error ? err.message : String(err);
  return `${errorName(err)}: ${scrub(message, secrets)}`;
}

function scrub(message: string, secrets: readonly string[]): string {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (secret.trim() === '') continue;
    needles.add(secret);
    needles.add(JSON.stringify(secret).slice(1, -1));
    for (const line of secret.split(/\r?\n/)) {
      const part = line.trim();
      // Short lines ("{", "}") are no secret and would mangle the message.
      if (part.length >= 8 && !/^-----(BEGIN|END) [A-Z ]+-----$/.test(part)) needles.add(part);
    }
  }
  let scrubbed = message;
  // Longest first, so a whole credential is replaced before its lines.
  for (const needle of [...needles].sort((a, b) => b.length - a.length)) {
    scrubbed = scrubbed.split(needle).join(REDACTED);
  }
  return scrubbed;
}

/** GetSecretValue through Secrets Manager, one client per container. */
function secretsManagerGetSecret(): (secretId: string) => Promise<string> {
  const client = new SecretsManagerClient({});
  return async (secretId) => {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (typeof out.SecretString !== 'string') {
      throw new Error('the secret has no SecretString (a binary secret is not supported)');
    }
    return out.SecretString;
  };
}

/** What the deployed function runs: the SNS client, Secrets Manager, Powertools Logger. */
function defaultDeps(): PlatformApplicationDeps {
  const logger = new PowertoolsLogger({ serviceName: 'fanout-platform-application' });
  return {
    sns: new SNSClient({}),
    getSecret: secretsManagerGetSecret(),
    logger: {
      debug: (message, attributes) => logger.debug(message, { ...attributes }),
      info: (message, attributes) => logger.info(message, { ...attributes }),
      warn: (message, attributes) => logger.warn(message, { ...attributes }),
      error: (message, attributes) => logger.error(message, { ...attributes }),
    },
  };
}

export const handler = createPlatformApplicationHandler(defaultDeps);

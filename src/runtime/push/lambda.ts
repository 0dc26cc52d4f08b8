import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { EndpointCache } from '../../adapters/aws/sns-push.ts';
import { SnsPushTransport } from '../../adapters/aws/sns-push.ts';
import { ErrorCode, FanoutError } from '../../domain/errors.ts';
import { isPlainObject } from '../../domain/validate.ts';
import type { Logger } from '../../ports/logger.ts';
import { directPushFactories } from './direct.ts';
import { type ParseOptions, type PushProvidersConfig, parsePushProviders } from './providers.ts';
import { buildPushRouting } from './routing.ts';
import type { RoutingPushTransport } from './routing-transport.ts';

/**
 * Push in Lambda: SNS mobile push, direct APNs / FCM, or both per platform and per tenant, by
 * configuration alone (docs/push.md). Credentials of direct providers are read from Secrets Manager
 * once per container, at cold start; the template and the environment carry only secret ids.
 */

/** The push variables of a Lambda function's environment, as `readLambdaEnv` reads them. */
export interface LambdaPushEnv {
  /** FANOUT_SNS_APNS_ARN / FANOUT_SNS_FCM_ARN: SNS platform applications. */
  readonly push: { readonly apnsApplicationArn?: string; readonly fcmApplicationArn?: string };
  readonly directPush: DirectPushEnv;
}

/** The direct push providers' variables (set on the push consumer only). */
export interface DirectPushEnv {
  /**
   * FANOUT_APNS_SECRET_ID (the secret holding the `.p8` key's PEM), FANOUT_APNS_KEY_ID,
   * FANOUT_APNS_TEAM_ID, FANOUT_APNS_TOPIC, FANOUT_APNS_ENVIRONMENT ('production' | 'sandbox'):
   * all four ids or none. Exclusive with FANOUT_SNS_APNS_ARN.
   */
  readonly apns?: {
    readonly secretId: string;
    readonly keyId: string;
    readonly teamId: string;
    readonly topic: string;
    readonly environment: 'production' | 'sandbox';
  };
  /** FANOUT_FCM_SECRET_ID: the secret holding the service-account JSON. Exclusive with FANOUT_SNS_FCM_ARN. */
  readonly fcmSecretId?: string;
  /** FANOUT_PUSH_PROVIDERS_SECRET_ID: a push providers document (per-tenant providers, inline credentials). */
  readonly providersSecretId?: string;
  /**
   * FANOUT_VAPID_SECRET_ID: the secret holding the default Web Push provider's VAPID keys, as JSON
   * `{"publicKey": "…", "privateKey": "…", "subject": "mailto:…"}`.
   */
  readonly vapidSecretId?: string;
}

/** Reads one secret's text. */
export type SecretReader = (secretId: string) => Promise<string>;

/** A reader over Secrets Manager that never puts the secret in an error. */
export function secretsManagerReader(client: SecretsManagerClient): SecretReader {
  return async (secretId) => {
    let text: string | undefined;
    try {
      text = (await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
    } catch (err) {
      throw new FanoutError(ErrorCode.StoreUnavailable, `secret ${secretId} could not be read`, {
        cause: err,
      });
    }
    if (text === undefined || text === '') {
      throw new FanoutError(ErrorCode.StoreUnavailable, `secret ${secretId} holds no text`);
    }
    return text;
  };
}

/** Whether this function's environment names any push provider (only the push consumer's does). */
export function configuresPush(env: LambdaPushEnv): boolean {
  const { apnsApplicationArn, fcmApplicationArn } = env.push;
  const { apns, fcmSecretId, providersSecretId, vapidSecretId } = env.directPush;
  return [apnsApplicationArn, fcmApplicationArn, apns, fcmSecretId, providersSecretId, vapidSecretId].some(
    (v) => v !== undefined,
  );
}

/**
 * The providers document of this function: the providers secret's document, with the variables'
 * providers (SNS ARNs, direct APNs / FCM secrets) as its default.
 */
export async function loadPushProviders(
  env: LambdaPushEnv,
  readSecret: SecretReader,
): Promise<PushProvidersConfig> {
  const { apnsApplicationArn, fcmApplicationArn } = env.push;
  const { apns, fcmSecretId, providersSecretId, vapidSecretId } = env.directPush;
  const [document, signingKey, serviceAccount, vapid] = await Promise.all([
    providersSecretId === undefined ? undefined : readSecret(providersSecretId),
    apns === undefined ? undefined : readSecret(apns.secretId),
    fcmSecretId === undefined ? undefined : readSecret(fcmSecretId),
    vapidSecretId === undefined ? undefined : readSecret(vapidSecretId),
  ]);
  let doc: Record<string, unknown> = {};
  if (document !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(document);
    } catch {
      throw new FanoutError(ErrorCode.Validation, `secret ${providersSecretId} is not a JSON document`);
    }
    if (!isPlainObject(parsed)) {
      throw new FanoutError(ErrorCode.Validation, `secret ${providersSecretId} does not hold a JSON object`);
    }
    doc = parsed;
  }
  const options: ParseOptions = {
    allowed: ['apns', 'fcm', 'webpush', 'sns'],
    readText: () => {
      // A Lambda package holds no key files: credentials come inline from the secret.
      throw Object.assign(new Error('no files in Lambda'), { code: 'ENOFILES' });
    },
  };
  const fileDefault = doc.default ?? {};
  // A `default` that is no object is left for parsePushProviders to report by its path.
  if (!isPlainObject(fileDefault)) return parsePushProviders(doc, options);
  const defaults: Record<string, unknown> = { ...fileDefault };
  if (apnsApplicationArn !== undefined)
    defaults.apns = { provider: 'sns', applicationArn: apnsApplicationArn };
  if (fcmApplicationArn !== undefined) defaults.fcm = { provider: 'sns', applicationArn: fcmApplicationArn };
  if (apns !== undefined && signingKey !== undefined) {
    const { keyId, teamId, topic, environment } = apns;
    defaults.apns = { provider: 'apns', keyId, teamId, topic, environment, signingKey };
  }
  if (serviceAccount !== undefined) defaults.fcm = { provider: 'fcm', serviceAccount };
  if (vapid !== undefined) defaults.webpush = vapidProvider(vapidSecretId!, vapid);
  // As in the embedded mode: a platform the variables and the document both set is refused, since
  // either choice would silently ignore the other.
  const both = (['apns', 'fcm', 'webpush'] as const).filter(
    (p) => fileDefault[p] !== undefined && defaults[p] !== fileDefault[p],
  );
  if (both.length > 0) {
    throw new FanoutError(
      ErrorCode.Validation,
      `secret ${providersSecretId} sets default.${both.join(' and default.')}, as the FANOUT_SNS_* / FANOUT_APNS_* / FANOUT_FCM_* / FANOUT_VAPID_* variables do: keep one`,
    );
  }
  return parsePushProviders({ ...doc, default: defaults }, options);
}

/** The VAPID secret's JSON as a `webpush` provider; its keys are checked where the transport is built. */
function vapidProvider(secretId: string, text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!isPlainObject(parsed)) {
    throw new FanoutError(
      ErrorCode.Validation,
      `secret ${secretId} must hold JSON {"publicKey", "privateKey", "subject"}`,
    );
  }
  const { publicKey, privateKey, subject } = parsed;
  return { provider: 'webpush', publicKey, privateKey, subject };
}

export interface LambdaPushOptions {
  readonly providers: PushProvidersConfig;
  readonly sns: SNSClient;
  readonly endpoints: EndpointCache;
  readonly logger: Logger;
  /** Where Web Push subscriptions may point (FANOUT_WEBPUSH_ENDPOINT_HOSTS). @default the known services */
  readonly webPushEndpointHosts?: readonly string[];
}

/** The routing transport of the push consumer; a platform with no provider is rejected per push. */
export function lambdaPushTransport(opts: LambdaPushOptions): RoutingPushTransport {
  const { sns, endpoints, logger } = opts;
  return buildPushRouting(opts.providers, {
    ...directPushFactories({
      logger,
      ...(opts.webPushEndpointHosts ? { webPushEndpointHosts: opts.webPushEndpointHosts } : {}),
    }),
    sns: (c, platform) =>
      new SnsPushTransport({ sns, applicationArns: { [platform]: c.applicationArn }, endpoints }),
  });
}

import type { TableNames } from '../adapters/aws/tables.ts';
import type { CapDefaults } from '../domain/frequency-cap.ts';
import type { Channel } from '../domain/types.ts';
import {
  type Environment,
  flag,
  group,
  integer,
  oneOf,
  readSettings,
  required,
  type Setting,
  text,
  url,
} from '../lib/settings.ts';
import { MAX_JOBS_PER_MESSAGE } from '../ports/delivery-queue.ts';
import type { RequestRates } from '../ports/request-buckets.ts';
import { DEFAULT_JOBS_PER_MESSAGE, type FrequencyCapStore } from '../runtime/aws-ports.ts';
import type { DirectPushEnv } from '../runtime/push/lambda.ts';
import {
  apnsVariables,
  bodyLimit,
  celebrityThreshold,
  corsOrigins,
  frequencyCaps,
  hmacSecret,
  publicBaseUrl,
  requestRates,
  tableSettings,
  tierHysteresis,
  tokenTtlSeconds,
  webPushEndpointHosts,
} from '../runtime/settings.ts';

/**
 * The Lambda functions' settings, read from their environment in this one place (the only file in
 * `src/lambda` that sees `process.env`) through the one settings reader (`src/lib/settings.ts`),
 * with the rules the embedded mode shares from `src/runtime/settings.ts`. `docs/lambda.md` lists every variable; the CDK app sets
 * them. Names of infrastructure (tables, stream, queues, Redis) are required by every function,
 * because every function builds the same `Ports`; secrets are required only by the functions that
 * use them, so the CDK app can give them to those functions alone.
 */

/** The Lambda functions of Fanout, by the name the CDK app gives their handlers. */
export const FunctionKind = {
  EventApi: 'event-api',
  InboxApi: 'inbox-api',
  Fanout: 'fanout',
  PushConsumer: 'push-consumer',
  EmailConsumer: 'email-consumer',
  PreferenceInvalidation: 'preference-invalidation',
  DeadLetterAudit: 'dead-letter-audit',
  EmailDigest: 'email-digest',
} as const;
export type FunctionKind = (typeof FunctionKind)[keyof typeof FunctionKind];

/** One channel's SQS queue and its dead-letter queue. */
export interface QueueUrls {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
}

/** Everything a Fanout Lambda function reads from its environment, validated. */
export interface LambdaEnv {
  /** AWS_REGION, set by the Lambda runtime. */
  readonly region: string;
  /** Physical table names: FANOUT_TABLE_PREFIX, each overridable by FANOUT_TABLE_<NAME>. */
  readonly tables: TableNames;
  /** FANOUT_EVENT_STREAM: the Kinesis stream of the event log. */
  readonly eventStream: string;
  /** FANOUT_{PUSH,EMAIL}_QUEUE_URL and FANOUT_{PUSH,EMAIL}_DLQ_URL. */
  readonly queues: Readonly<Record<Channel, QueueUrls>>;
  /** FANOUT_SNS_APNS_ARN / FANOUT_SNS_FCM_ARN: SNS platform applications; a platform without one gets no push. */
  readonly push: { readonly apnsApplicationArn?: string; readonly fcmApplicationArn?: string };
  /**
   * Direct push (APNs HTTP/2, FCM HTTP v1) instead of, or beside, SNS; credentials stay in Secrets
   * Manager and are read at cold start. See {@link DirectPushEnv}.
   */
  readonly directPush: DirectPushEnv;
  /**
   * FANOUT_SES_FROM and FANOUT_SES_CONFIGURATION_SET. Without a sender the email consumer still
   * starts, and answers every email job `failed` with reason `email_not_configured`, once, as push
   * answers a platform with no provider: a cold start that failed on it would send every job
   * through its retries to the dead-letter queue instead.
   */
  readonly email: { readonly from?: string; readonly configurationSet?: string };
  /** FANOUT_AUDIT_STREAM: the Firehose stream of the audit trail (→ S3 Object Lock). */
  readonly auditStream: string;
  /** FANOUT_CACHE_REDIS_URL (ElastiCache), FANOUT_DEDUP_REDIS_URL (MemoryDB), FANOUT_REDIS_CLUSTER. */
  readonly redis: { readonly cacheUrl: string; readonly dedupUrl: string; readonly cluster: boolean };
  /** FANOUT_CELEBRITY_THRESHOLD. @default 10000 */
  readonly celebrityThreshold: number;
  /** FANOUT_TIER_HYSTERESIS. @default 0.1 */
  readonly tierHysteresis: number;
  /**
   * FANOUT_UNREAD_MODE: `counter` (a per-user counter, 1 write unit per inbox row) or `gsi` (the
   * sparse `unread` index, 2). Every function of a deployment must agree. @default 'counter'
   */
  readonly unreadMode: 'gsi' | 'counter';
  /** FANOUT_FREQUENCY_CAPS: the tenants' default push frequency caps (the push consumer's). @default none */
  readonly frequencyCaps: CapDefaults;
  /** FANOUT_FREQUENCY_CAPS_STORE: `memorydb` or `dynamodb` (the `frequencyCaps` table). @default 'memorydb' */
  readonly frequencyCapStore: FrequencyCapStore;
  /** FANOUT_MAX_RECEIVE_COUNT: receives before the DLQ; must match the queues' redrive policy. @default 4 */
  readonly maxReceiveCount: number;
  /**
   * FANOUT_JOBS_PER_MESSAGE: delivery jobs packed into one SQS message by the functions that send
   * them (1–100; every consumer reads any count). @default 10
   */
  readonly jobsPerMessage: number;
  /**
   * FANOUT_RATE_LIMIT, FANOUT_USER_RATE_LIMIT, FANOUT_AUTH_FAILURE_RATE and their bursts: the HTTP
   * functions' request limits, kept in the cache Redis so every container takes from one bucket.
   */
  readonly requestRates: RequestRates;
  /** FANOUT_WEBPUSH_ENDPOINT_HOSTS and the known push services: where subscriptions may point. */
  readonly webPushEndpointHosts?: readonly string[];
  /**
   * FANOUT_VAPID_PUBLIC_KEY: the key browsers subscribe with, served by the inbox API's
   * `GET /v1/me/webpush/vapid-public-key` (the CDK app sets it from the VAPID secret). @default unset: 404
   */
  readonly vapidPublicKey?: string;
  /** FANOUT_TOKEN_SECRET: HMAC key of user tokens (required by the HTTP functions). */
  readonly tokenSecret?: string;
  /** FANOUT_TOKEN_TTL: user-token lifetime, seconds. @default 3600 */
  readonly tokenTtlSeconds: number;
  /** FANOUT_CURSOR_SECRET: HMAC key of inbox cursors (required by the HTTP functions). */
  readonly cursorSecret?: string;
  /** FANOUT_BODY_LIMIT: largest request body, bytes, up to 10 MiB (API Gateway's own limit). @default 262144 */
  readonly bodyLimit: number;
  /** FANOUT_CORS_ORIGINS: origins whose pages may call `/v1/me/*`, or `*`. @default ['*'] */
  readonly corsOrigins: readonly string[];
  /**
   * FANOUT_UNSUBSCRIBE_SECRET: HMAC key of unsubscribe links, signed by the email consumer and
   * checked by the HTTP functions (the email consumer requires it with FANOUT_PUBLIC_BASE_URL).
   */
  readonly unsubscribeSecret?: string;
  /** FANOUT_PUBLIC_BASE_URL: the API's public URL, for List-Unsubscribe links in email. */
  readonly publicBaseUrl?: string;
}

/** How a function's SettingsError opens: "the fanout function's environment is incomplete: …". */
export function envSubject(kind: FunctionKind): string {
  return `the ${kind} function's environment`;
}

const HTTP_KINDS: ReadonlySet<FunctionKind> = new Set([FunctionKind.EventApi, FunctionKind.InboxApi]);

const httpUrl = (variable: string) => url(variable, ['https:', 'http:'], { required: true });
const redisUrl = (variable: string) => url(variable, ['redis:', 'rediss:'], { required: true });

/**
 * Reads and validates the environment of one function; every problem is reported at once, as one
 * SettingsError naming each variable. Called on the first invocation (not at import), so a bad
 * deployment fails that invocation with a message naming the variables, and tests can import the
 * entry points without an environment.
 */
export function readLambdaEnv(source: Environment, kind: FunctionKind): LambdaEnv {
  const http = HTTP_KINDS.has(kind);
  // Both sign unsubscribe links: the email consumer, and the digest sender.
  const email = kind === FunctionKind.EmailConsumer || kind === FunctionKind.EmailDigest;
  return readSettings(
    source,
    {
      region: required('AWS_REGION'),
      tables: tableSettings(),
      eventStream: required('FANOUT_EVENT_STREAM'),
      queues: group({
        push: group({
          queueUrl: httpUrl('FANOUT_PUSH_QUEUE_URL'),
          deadLetterQueueUrl: httpUrl('FANOUT_PUSH_DLQ_URL'),
        }),
        email: group({
          queueUrl: httpUrl('FANOUT_EMAIL_QUEUE_URL'),
          deadLetterQueueUrl: httpUrl('FANOUT_EMAIL_DLQ_URL'),
        }),
      }),
      push: group({
        apnsApplicationArn: text('FANOUT_SNS_APNS_ARN'),
        fcmApplicationArn: text('FANOUT_SNS_FCM_ARN'),
      }),
      directPush,
      email: group({
        from: text('FANOUT_SES_FROM'),
        configurationSet: text('FANOUT_SES_CONFIGURATION_SET'),
      }),
      auditStream: required('FANOUT_AUDIT_STREAM'),
      redis: group({
        cacheUrl: redisUrl('FANOUT_CACHE_REDIS_URL'),
        dedupUrl: redisUrl('FANOUT_DEDUP_REDIS_URL'),
        cluster: flag('FANOUT_REDIS_CLUSTER'),
      }),
      celebrityThreshold,
      tierHysteresis,
      unreadMode: oneOf('FANOUT_UNREAD_MODE', ['gsi', 'counter'], { default: 'counter' }),
      frequencyCaps,
      frequencyCapStore: oneOf('FANOUT_FREQUENCY_CAPS_STORE', ['memorydb', 'dynamodb'], {
        default: 'memorydb',
      }),
      maxReceiveCount: integer('FANOUT_MAX_RECEIVE_COUNT', { default: 4, min: 1, max: 1000 }),
      jobsPerMessage: integer('FANOUT_JOBS_PER_MESSAGE', {
        default: DEFAULT_JOBS_PER_MESSAGE,
        min: 1,
        max: MAX_JOBS_PER_MESSAGE,
      }),
      tokenTtlSeconds,
      bodyLimit,
      corsOrigins,
      requestRates,
      webPushEndpointHosts,
      // Checked where it is served (http-adapter.ts): a bad key must cost the key route, not the API.
      vapidPublicKey: text('FANOUT_VAPID_PUBLIC_KEY'),
      tokenSecret: hmacSecret('FANOUT_TOKEN_SECRET', http),
      cursorSecret: hmacSecret('FANOUT_CURSOR_SECRET', http),
      publicBaseUrl,
      // The email consumer signs links only with a public URL, and then never without a key.
      unsubscribeSecret: (reader) =>
        hmacSecret(
          'FANOUT_UNSUBSCRIBE_SECRET',
          email && reader.text('FANOUT_PUBLIC_BASE_URL') !== undefined,
        )(reader),
    },
    envSubject(kind),
  );
}

const apns = apnsVariables('FANOUT_APNS_SECRET_ID');

/** Direct APNs / FCM and the providers document; one provider per platform by default. */
const directPush: Setting<DirectPushEnv> = group({
  apns: (reader) => {
    const ids = apns(reader);
    // Two providers would leave it to chance which one a push takes.
    if (ids !== undefined && reader.text('FANOUT_SNS_APNS_ARN') !== undefined) {
      reader.report('FANOUT_APNS_SECRET_ID', 'and FANOUT_SNS_APNS_ARN exclude each other');
    }
    if (ids === undefined) return undefined;
    const { key: secretId, ...rest } = ids;
    return { secretId, ...rest };
  },
  fcmSecretId: (reader) => {
    const secretId = reader.text('FANOUT_FCM_SECRET_ID');
    if (secretId !== undefined && reader.text('FANOUT_SNS_FCM_ARN') !== undefined) {
      reader.report('FANOUT_FCM_SECRET_ID', 'and FANOUT_SNS_FCM_ARN exclude each other');
    }
    return secretId;
  },
  providersSecretId: text('FANOUT_PUSH_PROVIDERS_SECRET_ID'),
  vapidSecretId: text('FANOUT_VAPID_SECRET_ID'),
});

/** The process environment, read once per container (the one `process.env` access of src/lambda). */
export function processEnv(kind: FunctionKind): () => LambdaEnv {
  let env: LambdaEnv | undefined;
  return () => {
    env ??= readLambdaEnv(process.env, kind);
    return env;
  };
}

import { TABLES, type TableName, type TableNames, tableNames } from '../adapters/aws/tables.ts';
import type { Channel } from '../domain/types.ts';

/**
 * The Lambda functions' settings, read from their environment in this one place (the only file in
 * `src/lambda` that sees `process.env`). `docs/lambda.md` lists every variable; the CDK app sets
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
  /** FANOUT_SES_FROM (required by the email consumer) and FANOUT_SES_CONFIGURATION_SET. */
  readonly email: { readonly from?: string; readonly configurationSet?: string };
  /** FANOUT_AUDIT_STREAM: the Firehose stream of the audit trail (→ S3 Object Lock). */
  readonly auditStream: string;
  /** FANOUT_CACHE_REDIS_URL (ElastiCache), FANOUT_DEDUP_REDIS_URL (MemoryDB), FANOUT_REDIS_CLUSTER. */
  readonly redis: { readonly cacheUrl: string; readonly dedupUrl: string; readonly cluster: boolean };
  /** FANOUT_CELEBRITY_THRESHOLD. @default 10000 */
  readonly celebrityThreshold: number;
  /** FANOUT_TIER_HYSTERESIS. @default 0.1 */
  readonly tierHysteresis: number;
  /** FANOUT_MAX_RECEIVE_COUNT: receives before the DLQ; must match the queues' redrive policy. @default 4 */
  readonly maxReceiveCount: number;
  /** FANOUT_TOKEN_SECRET: HMAC key of user tokens (required by the HTTP functions). */
  readonly tokenSecret?: string;
  /** FANOUT_TOKEN_TTL: user-token lifetime, seconds. @default 3600 */
  readonly tokenTtlSeconds: number;
  /** FANOUT_CURSOR_SECRET: HMAC key of inbox cursors (required by the HTTP functions). */
  readonly cursorSecret?: string;
  /** FANOUT_BODY_LIMIT: largest request body, bytes. @default 262144 (API Gateway allows up to 10 MB) */
  readonly bodyLimit: number;
  /**
   * FANOUT_UNSUBSCRIBE_SECRET: HMAC key of unsubscribe links, signed by the email consumer and
   * checked by the HTTP functions (the email consumer requires it with FANOUT_PUBLIC_BASE_URL).
   */
  readonly unsubscribeSecret?: string;
  /** FANOUT_PUBLIC_BASE_URL: the API's public URL, for List-Unsubscribe links in email. */
  readonly publicBaseUrl?: string;
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
    readonly environment: string;
  };
  /** FANOUT_FCM_SECRET_ID: the secret holding the service-account JSON. Exclusive with FANOUT_SNS_FCM_ARN. */
  readonly fcmSecretId?: string;
  /** FANOUT_PUSH_PROVIDERS_SECRET_ID: a push providers document (per-tenant providers, inline credentials). */
  readonly providersSecretId?: string;
}

/** One problem with one variable. */
export interface EnvIssue {
  readonly variable: string;
  readonly message: string;
}

/** The environment is missing or has bad values; `issues` names each variable. */
export class LambdaEnvError extends Error {
  readonly issues: readonly EnvIssue[];
  constructor(kind: FunctionKind, issues: readonly EnvIssue[]) {
    super(
      `the ${kind} function's environment is incomplete: ${issues.map((i) => `${i.variable} ${i.message}`).join('; ')}`,
    );
    this.name = 'LambdaEnvError';
    this.issues = issues;
  }
}

/** Secrets below 128 bits are guessable offline from one token or cursor. */
const MIN_SECRET_BYTES = 16;

const HTTP_KINDS: ReadonlySet<FunctionKind> = new Set([FunctionKind.EventApi, FunctionKind.InboxApi]);

/** `celebrityFeed` → `CELEBRITY_FEED`: the suffix of a per-table variable. */
function tableVariable(name: TableName): string {
  return `FANOUT_TABLE_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/**
 * Reads and validates the environment of one function; every problem is reported at once.
 * Called on the first invocation (not at import), so a bad deployment fails that invocation with
 * a message naming the variables, and tests can import the entry points without an environment.
 */
export function readLambdaEnv(
  source: Readonly<Record<string, string | undefined>>,
  kind: FunctionKind,
): LambdaEnv {
  const issues: EnvIssue[] = [];
  const text = (name: string): string | undefined => {
    const value = source[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const required = (name: string): string => {
    const value = text(name);
    if (value === undefined) issues.push({ variable: name, message: 'is not set' });
    return value ?? '';
  };
  const url = (name: string, protocols: readonly string[], need: boolean): string | undefined => {
    const value = need ? required(name) : text(name);
    if (value === undefined || value === '') return undefined;
    let protocol: string | undefined;
    try {
      protocol = new URL(value).protocol;
    } catch {
      protocol = undefined;
    }
    if (protocol === undefined || !protocols.includes(protocol)) {
      issues.push({ variable: name, message: `must be a ${protocols.join(' or ')} URL` });
    }
    return value;
  };
  const number = (name: string, fallback: number, ok: (n: number) => boolean, rule: string): number => {
    const raw = text(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!ok(n)) {
      issues.push({ variable: name, message: rule });
      return fallback;
    }
    return n;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number =>
    number(
      name,
      fallback,
      (n) => Number.isInteger(n) && n >= min && n <= max,
      `must be an integer from ${min} to ${max}`,
    );
  const secret = (name: string, need: boolean): string | undefined => {
    const value = need ? required(name) : text(name);
    if (value === undefined || value === '') return undefined;
    if (Buffer.byteLength(value, 'utf8') < MIN_SECRET_BYTES) {
      issues.push({ variable: name, message: `must be at least ${MIN_SECRET_BYTES} bytes` });
    }
    return value;
  };
  const flag = (name: string): boolean => {
    const raw = text(name)?.toLowerCase();
    if (raw === undefined || raw === 'false' || raw === '0') return false;
    if (raw === 'true' || raw === '1') return true;
    issues.push({ variable: name, message: "must be 'true' or 'false'" });
    return false;
  };

  const http = HTTP_KINDS.has(kind);
  const env: LambdaEnv = {
    region: required('AWS_REGION'),
    tables: readTables(text, issues),
    eventStream: required('FANOUT_EVENT_STREAM'),
    queues: {
      push: {
        queueUrl: url('FANOUT_PUSH_QUEUE_URL', ['https:', 'http:'], true) ?? '',
        deadLetterQueueUrl: url('FANOUT_PUSH_DLQ_URL', ['https:', 'http:'], true) ?? '',
      },
      email: {
        queueUrl: url('FANOUT_EMAIL_QUEUE_URL', ['https:', 'http:'], true) ?? '',
        deadLetterQueueUrl: url('FANOUT_EMAIL_DLQ_URL', ['https:', 'http:'], true) ?? '',
      },
    },
    push: optionalFields({
      apnsApplicationArn: text('FANOUT_SNS_APNS_ARN'),
      fcmApplicationArn: text('FANOUT_SNS_FCM_ARN'),
    }),
    directPush: readDirectPush(text, issues),
    email: optionalFields({
      from: kind === FunctionKind.EmailConsumer ? required('FANOUT_SES_FROM') : text('FANOUT_SES_FROM'),
      configurationSet: text('FANOUT_SES_CONFIGURATION_SET'),
    }),
    auditStream: required('FANOUT_AUDIT_STREAM'),
    redis: {
      cacheUrl: url('FANOUT_CACHE_REDIS_URL', ['redis:', 'rediss:'], true) ?? '',
      dedupUrl: url('FANOUT_DEDUP_REDIS_URL', ['redis:', 'rediss:'], true) ?? '',
      cluster: flag('FANOUT_REDIS_CLUSTER'),
    },
    celebrityThreshold: integer('FANOUT_CELEBRITY_THRESHOLD', 10_000, 1, 1_000_000_000),
    tierHysteresis: number(
      'FANOUT_TIER_HYSTERESIS',
      0.1,
      (n) => n >= 0 && n < 1,
      'must be a number in [0, 1)',
    ),
    maxReceiveCount: integer('FANOUT_MAX_RECEIVE_COUNT', 4, 1, 1000),
    tokenTtlSeconds: integer('FANOUT_TOKEN_TTL', 3600, 1, 7 * 24 * 3600),
    bodyLimit: integer('FANOUT_BODY_LIMIT', 256 * 1024, 1024, 10 * 1024 * 1024),
    ...optionalFields({
      tokenSecret: secret('FANOUT_TOKEN_SECRET', http),
      cursorSecret: secret('FANOUT_CURSOR_SECRET', http),
      publicBaseUrl: url('FANOUT_PUBLIC_BASE_URL', ['https:', 'http:'], false),
      unsubscribeSecret: secret(
        'FANOUT_UNSUBSCRIBE_SECRET',
        kind === FunctionKind.EmailConsumer && text('FANOUT_PUBLIC_BASE_URL') !== undefined,
      ),
    }),
  };
  if (issues.length > 0) throw new LambdaEnvError(kind, issues);
  return env;
}

const APNS_VARIABLES = [
  'FANOUT_APNS_SECRET_ID',
  'FANOUT_APNS_KEY_ID',
  'FANOUT_APNS_TEAM_ID',
  'FANOUT_APNS_TOPIC',
];

function readDirectPush(text: (name: string) => string | undefined, issues: EnvIssue[]): DirectPushEnv {
  const given = APNS_VARIABLES.filter((name) => text(name) !== undefined);
  let apns: DirectPushEnv['apns'];
  if (given.length === APNS_VARIABLES.length) {
    const environment = text('FANOUT_APNS_ENVIRONMENT') ?? 'production';
    if (environment !== 'production' && environment !== 'sandbox') {
      issues.push({ variable: 'FANOUT_APNS_ENVIRONMENT', message: "must be 'production' or 'sandbox'" });
    }
    apns = {
      secretId: text('FANOUT_APNS_SECRET_ID')!,
      keyId: text('FANOUT_APNS_KEY_ID')!,
      teamId: text('FANOUT_APNS_TEAM_ID')!,
      topic: text('FANOUT_APNS_TOPIC')!,
      environment,
    };
  } else if (given.length > 0 || text('FANOUT_APNS_ENVIRONMENT') !== undefined) {
    for (const name of APNS_VARIABLES.filter((n) => text(n) === undefined)) {
      issues.push({ variable: name, message: 'must be set with the other FANOUT_APNS_* variables' });
    }
  }
  // One provider per platform by default: two would leave it to chance which one a push takes.
  if (apns !== undefined && text('FANOUT_SNS_APNS_ARN') !== undefined) {
    issues.push({ variable: 'FANOUT_APNS_SECRET_ID', message: 'and FANOUT_SNS_APNS_ARN exclude each other' });
  }
  const fcmSecretId = text('FANOUT_FCM_SECRET_ID');
  if (fcmSecretId !== undefined && text('FANOUT_SNS_FCM_ARN') !== undefined) {
    issues.push({ variable: 'FANOUT_FCM_SECRET_ID', message: 'and FANOUT_SNS_FCM_ARN exclude each other' });
  }
  const providersSecretId = text('FANOUT_PUSH_PROVIDERS_SECRET_ID');
  return {
    ...(apns === undefined ? {} : { apns }),
    ...(fcmSecretId === undefined ? {} : { fcmSecretId }),
    ...(providersSecretId === undefined ? {} : { providersSecretId }),
  };
}

/** FANOUT_TABLE_PREFIX names every table; FANOUT_TABLE_<NAME> overrides one (or names all, without a prefix). */
function readTables(text: (name: string) => string | undefined, issues: EnvIssue[]): TableNames {
  const prefix = text('FANOUT_TABLE_PREFIX');
  const fromPrefix = prefix === undefined ? undefined : tableNames(prefix);
  const names = {} as Record<TableName, string>;
  const missing: string[] = [];
  for (const name of Object.keys(TABLES) as TableName[]) {
    const variable = tableVariable(name);
    const value = text(variable) ?? fromPrefix?.[name];
    if (value === undefined) missing.push(variable);
    names[name] = value ?? '';
  }
  if (missing.length > 0) {
    issues.push({ variable: 'FANOUT_TABLE_PREFIX', message: `is not set, nor are ${missing.join(', ')}` });
  }
  return names;
}

/** The fields whose value is defined: optional properties stay absent rather than `undefined`. */
function optionalFields<T extends Record<string, string | undefined>>(
  fields: T,
): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: string;
  };
}

/** The process environment, read once per container (the one `process.env` access of src/lambda). */
export function processEnv(kind: FunctionKind): () => LambdaEnv {
  let env: LambdaEnv | undefined;
  return () => {
    env ??= readLambdaEnv(process.env, kind);
    return env;
  };
}

import type { CapDefaults } from '../domain/frequency-cap.ts';
import { isLoopbackHost } from '../lib/loopback.ts';
import { DEFAULT_SERVER_LIMITS, type ServerLimits } from '../lib/server-limits.ts';
import {
  type Environment,
  group,
  integer,
  oneOf,
  pattern,
  readSettings,
  type Setting,
  text,
} from '../lib/settings.ts';
import { MAX_JOBS_PER_MESSAGE } from '../ports/delivery-queue.ts';
import type { RequestRates } from '../ports/request-buckets.ts';
import { type DeliverySettings, deliverySettings } from './delivery-config.ts';
import {
  bodyLimit,
  celebrityThreshold,
  corsOrigins,
  frequencyCaps,
  hmacSecret,
  requestRates,
  tierHysteresis,
  tokenTtlSeconds,
} from './settings.ts';

/**
 * Every setting of the local runtime, from environment variables, read through the one settings
 * reader (`src/lib/settings.ts`; the rules the Lambda functions share are in `./settings.ts`).
 * `docs/configuration.md` lists them for users. Flags on the command line override them (see
 * `src/cli`).
 */
export interface RuntimeConfig {
  /** FANOUT_DATA_DIR: where the SQLite file and the audit log live. @default './.fanout' */
  readonly dataDir: string;
  /** FANOUT_SHARDS: event-log shards (fan-out parallelism across authors). @default 4 */
  readonly shards: number;
  /** FANOUT_CELEBRITY_THRESHOLD: followers at which an author becomes a celebrity. @default 10000 */
  readonly celebrityThreshold: number;
  /** FANOUT_TIER_HYSTERESIS: fraction below the threshold before demotion. @default 0.1 */
  readonly tierHysteresis: number;
  /** FANOUT_DEDUP: 'sqlite' (survives restarts) or 'memory' (faster, lost on restart). @default 'sqlite' */
  readonly dedup: 'sqlite' | 'memory';
  /** FANOUT_FREQUENCY_CAPS: the tenants' default push frequency caps. @default none */
  readonly frequencyCaps: CapDefaults;
  /**
   * FANOUT_PIPELINE: 'on' runs fan-out and delivery inside `fanout serve`; 'off' leaves them to a
   * `fanout work` process on the same data dir, so the HTTP API and the pipeline each get a core.
   * @default 'on'
   */
  readonly pipeline: boolean;
  /** FANOUT_PUSH_RATE / FANOUT_EMAIL_RATE: sends per second per channel; 0 = unlimited. @default 0 */
  readonly pushRate: number;
  readonly emailRate: number;
  /**
   * FANOUT_DELIVERY_BATCH: messages per consumer invocation. @default 500: the embedded queue
   * receives up to 10,000 at once (as Lambda's batching window does), and a consumer pays its
   * SQLite commits (receive, dedup claim and confirm, recorded sends, delete) once per batch, so
   * 500 delivered ~1.5× what SQS's 10 did (docs/benchmarks.md); the price is a larger redelivery
   * unit after a crash, which dedup turns into Done answers, not double sends.
   */
  readonly deliveryBatch: number;
  /** FANOUT_DELIVERY_CONCURRENCY: consumer invocations in flight per channel. @default 2 */
  readonly deliveryConcurrency: number;
  /** FANOUT_CURSOR_SECRET: HMAC key for inbox cursors; generated into the data dir when unset. */
  readonly cursorSecret?: string;
  /** FANOUT_LOG_LEVEL: debug | info | warn | error | silent. @default 'warn' */
  readonly logLevel: LogLevel;
  /** PORT: TCP port of the HTTP API; 0 picks a free one. @default 8080 */
  readonly port: number;
  /** FANOUT_HOST: address the HTTP API listens on. @default '127.0.0.1' */
  readonly host: string;
  /** FANOUT_TOKEN_SECRET: HMAC key for user tokens; generated into the data dir when unset. */
  readonly tokenSecret?: string;
  /** FANOUT_TOKEN_TTL: lifetime of a user token, seconds. @default 3600 */
  readonly tokenTtlSeconds: number;
  /** FANOUT_RATE_LIMIT, FANOUT_USER_RATE_LIMIT, FANOUT_AUTH_FAILURE_RATE and their bursts (see `requestRates`). */
  readonly requestRates: RequestRates;
  /**
   * FANOUT_TRUST_PROXY: the proxies whose X-Forwarded-For names the client (whose address the
   * failure limit counts): a hop count, or addresses / CIDRs / `loopback`, comma-separated.
   * @default unset: no proxy is trusted, the socket's peer is the client
   */
  readonly trustProxy?: number | string;
  /** FANOUT_CORS_ORIGINS: origins whose pages may call `/v1/me/*` (see `./settings.ts`). @default ['*'] */
  readonly corsOrigins: readonly string[];
  /**
   * FANOUT_MAX_STREAMS, FANOUT_STREAMS_PER_TENANT, FANOUT_STREAMS_PER_USER: live inbox streams of
   * the process (503 past it), of one tenant and of one user (429 past them).
   * FANOUT_STREAM_POLL_MS: how often an open stream re-reads its inbox when no write woke it (a
   * `fanout work` process beside the API wakes none).
   * @default 10000, 1000, 8, 2000
   */
  readonly streams: {
    readonly max: number;
    readonly perTenant: number;
    readonly perUser: number;
    readonly pollMs: number;
  };
  /** FANOUT_BODY_LIMIT: largest HTTP request body, bytes, up to 10 MiB (see `./settings.ts`). @default 262144 */
  readonly bodyLimit: number;
  /**
   * FANOUT_DEV_SIGNIN: 'on' | 'off' | 'auto'. On, the notification center signs in to the `dev`
   * tenant by user id alone (anyone reaching the port can read any dev user's inbox). @default
   * 'auto': on only while the API listens on a loopback address, where only this machine reaches it.
   */
  readonly devSignIn: boolean;
  /**
   * FANOUT_ACCESS_LOG: 'on' writes one JSON line per HTTP request on stderr (id, tenant, method,
   * route pattern, status, duration; never a credential, query or body), whatever the log level.
   * @default 'on'
   */
  readonly accessLog: boolean;
  /** FANOUT_OPS_TENANT: the tenant whose API keys open the operations data (/ops). @default 'dev' */
  readonly opsTenant: string;
  /**
   * FANOUT_REQUEST_TIMEOUT_MS, FANOUT_HEADERS_TIMEOUT_MS, FANOUT_KEEP_ALIVE_TIMEOUT_MS,
   * FANOUT_IDLE_TIMEOUT_MS, FANOUT_MAX_CONNECTIONS: socket limits of the HTTP server (see
   * `ServerLimits` for their defaults).
   */
  readonly server: ServerLimits;
  /**
   * FANOUT_PROFILE: 'embedded' (one SQLite file) or 'local-aws' (the AWS adapters against local
   * emulators it starts; see docs/local-aws.md). @default 'embedded'
   */
  readonly profile: Profile;
  /**
   * FANOUT_UNREAD_MODE (local-aws): 'counter' keeps an exact per-user counter (one write unit per
   * notification, a count of 4 read units at any size); 'gsi' counts unread rows through a sparse
   * index (two write units per notification). @default 'counter', as a deployment's
   */
  readonly unreadMode: 'gsi' | 'counter';
  /**
   * FANOUT_JOBS_PER_MESSAGE (local-aws): delivery jobs packed into one SQS message, 1–100, as a
   * deployment's `jobsPerMessage`. @default 10
   */
  readonly jobsPerMessage: number;
  /**
   * FANOUT_LOCAL_AWS_PORT (local-aws serve): the first of four consecutive ports the emulators
   * listen on: DynamoDB Local, kinesalite, fauxqs, the SES emulator. @default 4700
   */
  readonly localAwsPort: number;
  /** Real push and email providers (FANOUT_APNS_*, FANOUT_FCM_*, FANOUT_SMTP_URL, …); see delivery-config.ts. */
  readonly delivery: DeliverySettings;
}

export const Profile = { Embedded: 'embedded', LocalAws: 'local-aws' } as const;
export type Profile = (typeof Profile)[keyof typeof Profile];

export const LogLevel = {
  Debug: 'debug',
  Info: 'info',
  Warn: 'warn',
  Error: 'error',
  Silent: 'silent',
} as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

const timeout = (variable: string, fallback: number) =>
  integer(variable, { default: fallback, min: 1, max: 3_600_000 });

/** The HTTP server's socket limits; a headers timeout above the request timeout is reported. */
const serverLimits: Setting<ServerLimits> = (reader) => {
  const d = DEFAULT_SERVER_LIMITS;
  const limits: ServerLimits = {
    requestTimeoutMs: timeout('FANOUT_REQUEST_TIMEOUT_MS', d.requestTimeoutMs)(reader),
    headersTimeoutMs: timeout('FANOUT_HEADERS_TIMEOUT_MS', d.headersTimeoutMs)(reader),
    keepAliveTimeoutMs: timeout('FANOUT_KEEP_ALIVE_TIMEOUT_MS', d.keepAliveTimeoutMs)(reader),
    idleTimeoutMs: timeout('FANOUT_IDLE_TIMEOUT_MS', d.idleTimeoutMs)(reader),
    maxConnections: integer('FANOUT_MAX_CONNECTIONS', { default: d.maxConnections, min: 1, max: 1_000_000 })(
      reader,
    ),
  };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    reader.report('FANOUT_HEADERS_TIMEOUT_MS', 'must not exceed FANOUT_REQUEST_TIMEOUT_MS');
    return { ...limits, headersTimeoutMs: limits.requestTimeoutMs };
  }
  return limits;
};

/**
 * Reads and validates the environment; every problem is reported at once, as one SettingsError
 * naming each variable.
 */
export function readRuntimeConfig(env: Environment): RuntimeConfig {
  const { pipeline, devSignIn, accessLog, trustProxy, ...settings } = readSettings(env, {
    profile: oneOf('FANOUT_PROFILE', Object.values(Profile), { default: Profile.Embedded }),
    unreadMode: oneOf('FANOUT_UNREAD_MODE', ['gsi', 'counter'], { default: 'counter' }),
    // The local-aws profile's, kept beside the Lambda default (runtime/aws-ports.ts); the embedded
    // queue stores one row per job whatever this says.
    jobsPerMessage: integer('FANOUT_JOBS_PER_MESSAGE', { default: 10, min: 1, max: MAX_JOBS_PER_MESSAGE }),
    localAwsPort: integer('FANOUT_LOCAL_AWS_PORT', { default: 4700, min: 1, max: 65_532 }),
    dataDir: text('FANOUT_DATA_DIR', { default: './.fanout' }),
    shards: integer('FANOUT_SHARDS', { default: 4, min: 1, max: 256 }),
    celebrityThreshold,
    tierHysteresis,
    dedup: oneOf('FANOUT_DEDUP', ['sqlite', 'memory'], { default: 'sqlite' }),
    frequencyCaps,
    pipeline: oneOf('FANOUT_PIPELINE', ['on', 'off'], { default: 'on' }),
    pushRate: integer('FANOUT_PUSH_RATE', { default: 0, min: 0, max: 10_000_000 }),
    emailRate: integer('FANOUT_EMAIL_RATE', { default: 0, min: 0, max: 10_000_000 }),
    deliveryBatch: integer('FANOUT_DELIVERY_BATCH', { default: 500, min: 1, max: 10_000 }),
    deliveryConcurrency: integer('FANOUT_DELIVERY_CONCURRENCY', { default: 2, min: 1, max: 64 }),
    cursorSecret: hmacSecret('FANOUT_CURSOR_SECRET'),
    logLevel: oneOf('FANOUT_LOG_LEVEL', Object.values(LogLevel), { default: LogLevel.Warn }),
    // The HTTP API's settings (see `src/http`).
    port: integer('PORT', { default: 8080, min: 0, max: 65_535 }),
    host: text('FANOUT_HOST', { default: '127.0.0.1' }),
    tokenSecret: hmacSecret('FANOUT_TOKEN_SECRET'),
    tokenTtlSeconds,
    requestRates,
    trustProxy: pattern(
      'FANOUT_TRUST_PROXY',
      /^(\d{1,2}|[0-9A-Za-z.:/]+(\s*,\s*[0-9A-Za-z.:/]+)*)$/,
      'must be a hop count, or addresses, CIDRs or loopback, comma-separated',
    ),
    bodyLimit,
    corsOrigins,
    devSignIn: oneOf('FANOUT_DEV_SIGNIN', ['on', 'off', 'auto'], { default: 'auto' }),
    opsTenant: text('FANOUT_OPS_TENANT', { default: 'dev' }),
    server: serverLimits,
    accessLog: oneOf('FANOUT_ACCESS_LOG', ['on', 'off'], { default: 'on' }),
    streams: group({
      max: integer('FANOUT_MAX_STREAMS', { default: 10_000, min: 1, max: 1_000_000 }),
      perTenant: integer('FANOUT_STREAMS_PER_TENANT', { default: 1_000, min: 1, max: 1_000_000 }),
      perUser: integer('FANOUT_STREAMS_PER_USER', { default: 8, min: 1, max: 1_000 }),
      pollMs: integer('FANOUT_STREAM_POLL_MS', { default: 2_000, min: 100, max: 3_600_000 }),
    }),
    delivery: deliverySettings,
  });
  return {
    ...settings,
    pipeline: pipeline === 'on',
    accessLog: accessLog === 'on',
    ...(trustProxy === undefined
      ? {}
      : { trustProxy: /^\d+$/.test(trustProxy) ? Number(trustProxy) : trustProxy }),
    // 'auto': on only while the API listens on a loopback address, where only this machine reaches it.
    devSignIn: devSignIn === 'auto' ? isLoopbackHost(settings.host) : devSignIn === 'on',
  };
}

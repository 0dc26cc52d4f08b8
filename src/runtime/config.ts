import { ValidationError } from '../domain/errors.ts';
import { type DeliverySettings, readDeliverySettings } from './delivery-config.ts';

/**
 * Every setting of the local runtime, from environment variables. This is the one place that
 * names them; `docs/configuration.md` lists them for users. Flags on the command line override
 * them (see `src/cli`).
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
  readonly cursorSecret: string | undefined;
  /** FANOUT_LOG_LEVEL: debug | info | warn | error | silent. @default 'warn' */
  readonly logLevel: LogLevel;
  /** PORT: TCP port of the HTTP API; 0 picks a free one. @default 8080 */
  readonly port: number;
  /** FANOUT_HOST: address the HTTP API listens on. @default '127.0.0.1' */
  readonly host: string;
  /** FANOUT_TOKEN_SECRET: HMAC key for user tokens; generated into the data dir when unset. */
  readonly tokenSecret: string | undefined;
  /** FANOUT_TOKEN_TTL: lifetime of a user token, seconds. @default 3600 */
  readonly tokenTtlSeconds: number;
  /** FANOUT_RATE_LIMIT: HTTP requests per second per tenant; 0 = unlimited. @default 50000 */
  readonly rateLimit: number;
  /** FANOUT_RATE_BURST: requests a tenant may send at once above its rate. @default FANOUT_RATE_LIMIT */
  readonly rateBurst: number;
  /** FANOUT_BODY_LIMIT: largest HTTP request body, bytes. @default 262144 */
  readonly bodyLimit: number;
  /**
   * FANOUT_DEV_SIGNIN: 'on' | 'off' | 'auto'. On, the notification center signs in to the `dev`
   * tenant by user id alone (anyone reaching the port can read any dev user's inbox). @default
   * 'auto': on only while the API listens on a loopback address, where only this machine reaches it.
   */
  readonly devSignIn: boolean;
  /** FANOUT_OPS_TENANT: the tenant whose API keys open the operations data (/ops). @default 'dev' */
  readonly opsTenant: string;
  /**
   * FANOUT_PROFILE: 'embedded' (one SQLite file) or 'local-aws' (the AWS adapters against local
   * emulators it starts; see docs/local-aws.md). @default 'embedded'
   */
  readonly profile: Profile;
  /**
   * FANOUT_UNREAD_MODE (local-aws): 'gsi' counts unread rows through a sparse index (two write
   * units per notification); 'counter' keeps a per-user counter instead (about one). @default 'gsi'
   */
  readonly unreadMode: 'gsi' | 'counter';
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

/** Reads and validates the environment; every problem is reported at once. */
export function readRuntimeConfig(env: Readonly<Record<string, string | undefined>>): RuntimeConfig {
  const issues: { path: string; message: string }[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      issues.push({ path: name, message: `must be an integer from ${min} to ${max}` });
      return fallback;
    }
    return n;
  };
  const hysteresisRaw = env.FANOUT_TIER_HYSTERESIS;
  let tierHysteresis = 0.1;
  if (hysteresisRaw !== undefined && hysteresisRaw !== '') {
    tierHysteresis = Number(hysteresisRaw);
    if (!(tierHysteresis >= 0 && tierHysteresis < 1)) {
      issues.push({ path: 'FANOUT_TIER_HYSTERESIS', message: 'must be a number in [0, 1)' });
    }
  }
  const dedup = env.FANOUT_DEDUP ?? 'sqlite';
  if (dedup !== 'sqlite' && dedup !== 'memory')
    issues.push({ path: 'FANOUT_DEDUP', message: "must be 'sqlite' or 'memory'" });
  const pipeline = env.FANOUT_PIPELINE || 'on';
  if (pipeline !== 'on' && pipeline !== 'off')
    issues.push({ path: 'FANOUT_PIPELINE', message: "must be 'on' or 'off'" });
  const logLevel = env.FANOUT_LOG_LEVEL ?? 'warn';
  if (!Object.values(LogLevel).includes(logLevel as LogLevel)) {
    issues.push({
      path: 'FANOUT_LOG_LEVEL',
      message: `must be one of ${Object.values(LogLevel).join(', ')}`,
    });
  }
  const profile = env.FANOUT_PROFILE || 'embedded';
  if (!Object.values(Profile).includes(profile as Profile))
    issues.push({ path: 'FANOUT_PROFILE', message: "must be 'embedded' or 'local-aws'" });
  const unreadMode = env.FANOUT_UNREAD_MODE || 'gsi';
  if (unreadMode !== 'gsi' && unreadMode !== 'counter')
    issues.push({ path: 'FANOUT_UNREAD_MODE', message: "must be 'gsi' or 'counter'" });
  const config: RuntimeConfig = {
    profile: profile as Profile,
    unreadMode: unreadMode as RuntimeConfig['unreadMode'],
    dataDir: env.FANOUT_DATA_DIR || './.fanout',
    shards: int('FANOUT_SHARDS', 4, 1, 256),
    celebrityThreshold: int('FANOUT_CELEBRITY_THRESHOLD', 10_000, 1, 1_000_000_000),
    tierHysteresis,
    dedup: dedup as RuntimeConfig['dedup'],
    pipeline: pipeline !== 'off',
    pushRate: int('FANOUT_PUSH_RATE', 0, 0, 10_000_000),
    emailRate: int('FANOUT_EMAIL_RATE', 0, 0, 10_000_000),
    deliveryBatch: int('FANOUT_DELIVERY_BATCH', 500, 1, 10_000),
    deliveryConcurrency: int('FANOUT_DELIVERY_CONCURRENCY', 2, 1, 64),
    cursorSecret: env.FANOUT_CURSOR_SECRET || undefined,
    logLevel: logLevel as LogLevel,
    ...httpSettings(env, int, issues),
    delivery: readDeliverySettings(env, issues),
  };
  if (issues.length > 0) throw new ValidationError(issues);
  return config;
}

type IntReader = (name: string, fallback: number, min: number, max: number) => number;

/** The HTTP API's settings (see `src/http`). */
function httpSettings(
  env: Readonly<Record<string, string | undefined>>,
  int: IntReader,
  issues: { path: string; message: string }[],
) {
  const host = env.FANOUT_HOST || '127.0.0.1';
  const tokenSecret = env.FANOUT_TOKEN_SECRET || undefined;
  // Below 128 bits a key is guessable offline from one token.
  if (tokenSecret !== undefined && Buffer.byteLength(tokenSecret, 'utf8') < 16)
    issues.push({ path: 'FANOUT_TOKEN_SECRET', message: 'must be at least 16 bytes' });
  const rateLimit = int('FANOUT_RATE_LIMIT', 50_000, 0, 100_000_000);
  return {
    port: int('PORT', 8080, 0, 65_535),
    host,
    tokenSecret,
    tokenTtlSeconds: int('FANOUT_TOKEN_TTL', 3600, 1, 7 * 24 * 3600),
    rateLimit,
    rateBurst: int('FANOUT_RATE_BURST', Math.max(1, rateLimit), 1, 100_000_000),
    bodyLimit: int('FANOUT_BODY_LIMIT', 256 * 1024, 1024, 64 * 1024 * 1024),
    devSignIn: devSignIn(env.FANOUT_DEV_SIGNIN, host, issues),
    opsTenant: env.FANOUT_OPS_TENANT || 'dev',
  };
}

function devSignIn(
  raw: string | undefined,
  host: string,
  issues: { path: string; message: string }[],
): boolean {
  const value = raw || 'auto';
  if (value === 'on') return true;
  if (value === 'off') return false;
  if (value !== 'auto') issues.push({ path: 'FANOUT_DEV_SIGNIN', message: "must be 'on', 'off' or 'auto'" });
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

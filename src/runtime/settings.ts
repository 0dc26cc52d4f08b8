import { TABLES, type TableName, tableNames } from '../adapters/aws/tables.ts';
import { ValidationError } from '../domain/errors.ts';
import { type CapDefaults, NO_CAP_DEFAULTS, parseCapDefaults } from '../domain/frequency-cap.ts';
import { DEFAULT_WEB_PUSH_HOSTS } from '../domain/web-push-endpoints.ts';
import {
  allOrNone,
  fraction,
  integer,
  oneOf,
  type Setting,
  type SettingsReader,
  secret,
  url,
} from '../lib/settings.ts';
import type { Rate, RequestRates } from '../ports/request-buckets.ts';

/**
 * The variables both ways of running read (the CLI's `readRuntimeConfig`, `src/runtime/config.ts`,
 * and the Lambda functions' `readLambdaEnv`, `src/lambda/env.ts`), each rule written once here so
 * the two modes cannot drift apart. Every rule is read through `src/lib/settings.ts`.
 */

/** FANOUT_CELEBRITY_THRESHOLD: followers at which an author becomes a celebrity. @default 10000 */
export const celebrityThreshold = integer('FANOUT_CELEBRITY_THRESHOLD', {
  default: 10_000,
  min: 1,
  max: 1_000_000_000,
});

/** FANOUT_TIER_HYSTERESIS: fraction below the threshold before demotion. @default 0.1 */
export const tierHysteresis = fraction('FANOUT_TIER_HYSTERESIS', { default: 0.1, min: 0, below: 1 });

/** FANOUT_TOKEN_TTL: lifetime of a user token, seconds (at most a week). @default 3600 */
export const tokenTtlSeconds = integer('FANOUT_TOKEN_TTL', { default: 3600, min: 1, max: 7 * 24 * 3600 });

/**
 * FANOUT_BODY_LIMIT: largest HTTP request body, bytes. @default 262144. One maximum in both modes,
 * 10 MiB: API Gateway refuses larger bodies before they reach the AWS mode, so a higher limit would
 * be a setting that works on one box and fails in the cloud; the largest request the API takes (a
 * follow batch of 1,000 edges) is far below it.
 */
export const bodyLimit = integer('FANOUT_BODY_LIMIT', {
  default: 256 * 1024,
  min: 1024,
  max: 10 * 1024 * 1024,
});

/**
 * FANOUT_FREQUENCY_CAPS: the tenants' default push frequency caps, a JSON document
 * `{"default": policy, "tenants": {"<tenant>": policy}}` (docs/configuration.md). @default no caps
 */
export const frequencyCaps: Setting<CapDefaults> = (reader: SettingsReader) => {
  const variable = 'FANOUT_FREQUENCY_CAPS';
  const value = reader.text(variable);
  if (value === undefined) return NO_CAP_DEFAULTS;
  try {
    return parseCapDefaults(value);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    for (const issue of err.issues) reader.report(variable, `${issue.path}: ${issue.message}`);
    return NO_CAP_DEFAULTS;
  }
};

/**
 * The request limits, the same in both modes (docs/configuration.md): 50,000 requests/s per
 * tenant (burst: one second's worth), 100/s per end user (burst 200), 1 wrong credential/s per
 * address (burst 20). A rate of 0 turns that limit off.
 */
export const requestRates: Setting<RequestRates> = (reader: SettingsReader) => {
  const rate = (perSecond: number, burst: number | undefined, defaultBurst: number): Rate | undefined =>
    perSecond > 0 ? { perSecond, burst: burst ?? Math.max(1, defaultBurst) } : undefined;
  // At most a million a second: the shared buckets keep times to the microsecond, and a faster rate
  // would move them by less than that (0 turns a limit off instead).
  const tenant = integer('FANOUT_RATE_LIMIT', { default: 50_000, min: 0, max: 1_000_000 })(reader);
  const user = integer('FANOUT_USER_RATE_LIMIT', { default: 100, min: 0, max: 1_000_000 })(reader);
  const failures = integer('FANOUT_AUTH_FAILURE_RATE', { default: 1, min: 0, max: 1_000_000 })(reader);
  const rates = {
    tenant: rate(tenant, integer('FANOUT_RATE_BURST', { min: 1, max: 100_000_000 })(reader), tenant),
    user: rate(user, integer('FANOUT_USER_RATE_BURST', { min: 1, max: 100_000_000 })(reader), user * 2),
    failures: rate(
      failures,
      integer('FANOUT_AUTH_FAILURE_BURST', { default: 20, min: 1, max: 1_000_000 })(reader),
      20,
    ),
  };
  return Object.fromEntries(Object.entries(rates).filter(([, r]) => r !== undefined)) as RequestRates;
};

/**
 * FANOUT_WEBPUSH_ENDPOINT_HOSTS: push services' host names (comma-separated) a Web Push
 * subscription may name besides the known ones (FCM, Mozilla, Apple, Windows); a subscription
 * anywhere else is never sent to. An IP address or a plain-http endpoint needs its host listed
 * as it is (a local push service under test). Undefined when unset: the known services only
 */
export const webPushEndpointHosts: Setting<readonly string[] | undefined> = (reader: SettingsReader) => {
  const variable = 'FANOUT_WEBPUSH_ENDPOINT_HOSTS';
  const value = reader.text(variable);
  if (value === undefined) return undefined;
  const hosts = value
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
  if (hosts.length === 0 || hosts.some((h) => !/^([a-z0-9-]+\.)*[a-z0-9-]+$|^\[[0-9a-f:.]+\]$/.test(h))) {
    reader.report(variable, 'must be host names or IP addresses, comma-separated');
  }
  return [...DEFAULT_WEB_PUSH_HOSTS, ...hosts];
};

/**
 * FANOUT_CORS_ORIGINS: the origins (`https://app.example.com`, comma-separated) whose pages may
 * call the end user's routes (`/v1/me/*`) and load the inbox element, or `*` for any. Those
 * routes take a bearer token only, never a cookie, so `*` is safe. @default ['*']
 */
export const corsOrigins: Setting<readonly string[]> = (reader: SettingsReader) => {
  const variable = 'FANOUT_CORS_ORIGINS';
  const value = reader.text(variable);
  if (value === undefined) return ['*'];
  const origins = value
    .split(',')
    .map((o) => o.trim().toLowerCase())
    .filter((o) => o !== '');
  const valid = (o: string) =>
    o === '*' ||
    /^https?:\/\/([a-z0-9-]+\.)*[a-z0-9-]+(:\d{1,5})?$|^https?:\/\/\[[0-9a-f:.]+\](:\d{1,5})?$/.test(o);
  if (origins.length === 0 || !origins.every(valid)) {
    reader.report(variable, 'must be * or origins like https://app.example.com, comma-separated');
  }
  return origins;
};

/** Shortest HMAC key: below 128 bits a key is guessable offline from one token, cursor or link. */
export const MIN_SECRET_BYTES = 16;

/** An HMAC key (FANOUT_TOKEN_SECRET, FANOUT_CURSOR_SECRET, FANOUT_UNSUBSCRIBE_SECRET). */
export function hmacSecret(variable: string, required: true): Setting<string>;
export function hmacSecret(variable: string, required?: boolean): Setting<string | undefined>;
export function hmacSecret(variable: string, required = false): Setting<string | undefined> {
  return secret(variable, { minBytes: MIN_SECRET_BYTES, required });
}

/**
 * FANOUT_PUBLIC_BASE_URL: the API's public URL; emails then carry one-click unsubscribe links
 * (`<url>/v1/unsubscribe?token=…`).
 */
export const publicBaseUrl = url('FANOUT_PUBLIC_BASE_URL', ['https:', 'http:'], {
  message: 'must be an http(s) URL',
});

/** The default APNs provider, as both modes name it: its key, ids, topic and environment. */
export interface ApnsVariables {
  /** Where the `.p8` key is: a file (embedded) or a Secrets Manager secret (Lambda). */
  readonly key: string;
  readonly keyId: string;
  readonly teamId: string;
  /** The app's bundle id. */
  readonly topic: string;
  /** FANOUT_APNS_ENVIRONMENT. @default 'production' */
  readonly environment: 'production' | 'sandbox';
}

const apnsEnvironment = oneOf('FANOUT_APNS_ENVIRONMENT', ['production', 'sandbox'], {
  default: 'production',
});

/**
 * The default APNs provider: `keyVariable` (FANOUT_APNS_KEY_FILE embedded, FANOUT_APNS_SECRET_ID
 * in Lambda), FANOUT_APNS_KEY_ID, FANOUT_APNS_TEAM_ID and FANOUT_APNS_TOPIC, all four or none;
 * FANOUT_APNS_ENVIRONMENT (and the `implies` variables) only with them.
 */
export function apnsVariables<const K extends string>(
  keyVariable: K,
  implies: readonly string[] = [],
): Setting<ApnsVariables | undefined> {
  const ids = allOrNone([keyVariable, 'FANOUT_APNS_KEY_ID', 'FANOUT_APNS_TEAM_ID', 'FANOUT_APNS_TOPIC'], {
    label: 'FANOUT_APNS_*',
    implies: ['FANOUT_APNS_ENVIRONMENT', ...implies],
  });
  return (reader) => {
    const set = ids(reader);
    if (set === undefined) return undefined;
    return {
      key: set[keyVariable],
      keyId: set.FANOUT_APNS_KEY_ID,
      teamId: set.FANOUT_APNS_TEAM_ID,
      topic: set.FANOUT_APNS_TOPIC,
      environment: apnsEnvironment(reader),
    };
  };
}

/** `celebrityFeed` → `FANOUT_TABLE_CELEBRITY_FEED`: the variable that names one table. */
export function tableVariable(name: TableName): string {
  return `FANOUT_TABLE_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/**
 * Physical names of `names` (every table by default): FANOUT_TABLE_PREFIX names them all
 * (`tableNames`), FANOUT_TABLE_<NAME> overrides one. When tables stay unnamed, one missing table
 * is reported by its own variable, several by the prefix, which would name them all.
 */
export function tableSettings<const N extends TableName>(
  names: readonly N[] = Object.keys(TABLES) as N[],
): Setting<Readonly<Record<N, string>>> {
  return (reader: SettingsReader) => {
    const prefix = reader.text('FANOUT_TABLE_PREFIX');
    const fromPrefix = prefix === undefined ? undefined : tableNames(prefix);
    const out = {} as Record<N, string>;
    const missing: string[] = [];
    for (const name of names) {
      const value = reader.text(tableVariable(name)) ?? fromPrefix?.[name];
      if (value === undefined) missing.push(tableVariable(name));
      out[name] = value ?? '';
    }
    if (missing.length === 1) reader.report(missing[0]!, 'is not set, nor is FANOUT_TABLE_PREFIX');
    if (missing.length > 1) reader.report('FANOUT_TABLE_PREFIX', `is not set, nor are ${missing.join(', ')}`);
    return out;
  };
}

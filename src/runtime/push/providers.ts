import { isAbsolute, join } from 'node:path';
import { isValidId } from '../../domain/event.ts';
import { Platform } from '../../domain/types.ts';
import { Issues, isPlainObject, joinPath, rejectUnknownKeys } from '../../domain/validate.ts';

/**
 * Which provider pushes each platform, for every tenant or for one: the push providers document.
 * Both modes read it (a file in the embedded mode, a Secrets Manager secret in Lambda) and the same
 * env-variable shortcuts fill its `default` (see `docs/push.md`):
 *
 * ```json
 * { "default": { "apns": { "provider": "apns", "keyId": "…", "teamId": "…", "topic": "com.example.app",
 *                          "environment": "sandbox", "signingKeyFile": "AuthKey_XXXXXXXXXX.p8" },
 *                "fcm":  { "provider": "fcm", "serviceAccountFile": "service-account.json" } },
 *                "webpush": { "provider": "webpush", "publicKey": "B…", "privateKey": "…", "subject": "mailto:ops@example.com" } },
 *   "tenants": { "acme": { "apns": { "provider": "sns", "applicationArn": "arn:aws:sns:…:app/APNS/acme" } } } }
 * ```
 */

/** The providers a platform can be pushed through. */
export const PushProvider = {
  Apns: 'apns',
  Fcm: 'fcm',
  WebPush: 'webpush',
  Sns: 'sns',
  Record: 'record',
} as const;
export type PushProvider = (typeof PushProvider)[keyof typeof PushProvider];

/** Direct APNs with token-based auth; the key is resolved to its PEM text. */
export interface ApnsProviderConfig {
  readonly provider: 'apns';
  readonly keyId: string;
  readonly teamId: string;
  readonly topic: string;
  readonly environment: 'production' | 'sandbox';
  /** The `.p8` signing key's PEM text. */
  readonly signingKey: string;
  /** Another https origin than Apple's (a gateway or a test server); overrides `environment`. */
  readonly origin?: string;
}

/** Direct FCM HTTP v1; the service account resolved to its JSON text. */
export interface FcmProviderConfig {
  readonly provider: 'fcm';
  readonly serviceAccount: string;
  /** Another https origin than fcm.googleapis.com (a gateway or a test server). */
  readonly origin?: string;
}

/** Web Push (RFC 8030) straight to each browser's push service, signed with these VAPID keys. */
export interface WebPushProviderConfig {
  readonly provider: 'webpush';
  /** Base64url, 65 bytes: what browsers subscribe with. */
  readonly publicKey: string;
  /** Base64url, 32 bytes. */
  readonly privateKey: string;
  /** `mailto:` or `https:` contact for push services (the VAPID JWT's `sub`). */
  readonly subject: string;
}

/** SNS mobile push through a platform application (AWS mode). */
export interface SnsProviderConfig {
  readonly provider: 'sns';
  readonly applicationArn: string;
}

/** The embedded recording sink: nothing leaves the process (the default without credentials). */
export interface RecordProviderConfig {
  readonly provider: 'record';
}

export type ProviderConfig =
  | ApnsProviderConfig
  | FcmProviderConfig
  | WebPushProviderConfig
  | SnsProviderConfig
  | RecordProviderConfig;
export type PlatformProviders = Readonly<Partial<Record<Platform, ProviderConfig>>>;

/** The whole document, validated, with every file read. */
export interface PushProvidersConfig {
  readonly default: PlatformProviders;
  readonly tenants: Readonly<Record<string, PlatformProviders>>;
}

/** Reads a file named in the document (a key or a service account), as UTF-8 text. */
export type ReadText = (path: string) => string;

export interface ParseOptions {
  /** Where relative file names are resolved from (the document's own directory). */
  readonly baseDir?: string;
  readonly readText: ReadText;
  /** Providers this mode can build; another one is a configuration error. */
  readonly allowed: readonly PushProvider[];
}

/** Which providers may push each platform. */
const PLATFORM_PROVIDERS: Readonly<Record<Platform, readonly PushProvider[]>> = {
  [Platform.Apns]: [PushProvider.Apns, PushProvider.Sns, PushProvider.Record],
  [Platform.Fcm]: [PushProvider.Fcm, PushProvider.Sns, PushProvider.Record],
  // SNS mobile push has no Web Push platform.
  [Platform.WebPush]: [PushProvider.WebPush, PushProvider.Record],
};
const FIELDS: Readonly<Record<PushProvider, ReadonlySet<string>>> = {
  apns: new Set([
    'provider',
    'keyId',
    'teamId',
    'topic',
    'environment',
    'signingKey',
    'signingKeyFile',
    'origin',
  ]),
  fcm: new Set(['provider', 'serviceAccount', 'serviceAccountFile', 'origin']),
  webpush: new Set(['provider', 'publicKey', 'privateKey', 'subject']),
  sns: new Set(['provider', 'applicationArn']),
  record: new Set(['provider']),
};
/** Apple's key and team ids: 10 upper-case letters and digits. */
const APPLE_ID = /^[A-Z0-9]{10}$/;
/** A bundle id (reverse DNS), optionally with APNs' `.voip`-style suffixes. */
const TOPIC = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const SNS_APP_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:app\/(APNS|APNS_SANDBOX|GCM)\/[A-Za-z0-9._-]+$/;

/**
 * Validates a push providers document and reads the files it names; throws ValidationError listing
 * every problem by its path (never the credentials themselves).
 */
export function parsePushProviders(doc: unknown, opts: ParseOptions): PushProvidersConfig {
  // Annotated so that `issues.fail` (never) narrows `doc` below.
  const issues: Issues = new Issues();
  if (!isPlainObject(doc)) issues.fail('', 'must be a JSON object {default?, tenants?}');
  rejectUnknownKeys(issues, doc, new Set(['default', 'tenants']));
  const defaults = doc.default === undefined ? {} : platforms(issues, 'default', doc.default, opts);
  const tenants: Record<string, PlatformProviders> = {};
  if (doc.tenants !== undefined) {
    if (!isPlainObject(doc.tenants)) issues.add('tenants', 'must map tenant ids to platform providers');
    else
      for (const [tenantId, value] of Object.entries(doc.tenants)) {
        const path = joinPath('tenants', tenantId);
        if (!isValidId(tenantId)) issues.add(path, 'is not a valid tenant id');
        else tenants[tenantId] = platforms(issues, path, value, opts);
      }
  }
  issues.throwIfAny();
  return { default: defaults, tenants };
}

function platforms(issues: Issues, path: string, value: unknown, opts: ParseOptions): PlatformProviders {
  if (!isPlainObject(value)) {
    issues.add(path, 'must be an object {apns?, fcm?, webpush?}');
    return {};
  }
  rejectUnknownKeys(issues, value, new Set(Object.values(Platform)), path);
  const out: Partial<Record<Platform, ProviderConfig>> = {};
  for (const platform of Object.values(Platform)) {
    if (value[platform] === undefined) continue;
    const config = provider(issues, joinPath(path, platform), platform, value[platform], opts);
    if (config !== undefined) out[platform] = config;
  }
  return out;
}

function provider(
  issues: Issues,
  path: string,
  platform: Platform,
  value: unknown,
  opts: ParseOptions,
): ProviderConfig | undefined {
  if (!isPlainObject(value) || typeof value.provider !== 'string') {
    issues.add(path, `must be an object with "provider": one of ${PLATFORM_PROVIDERS[platform].join(', ')}`);
    return undefined;
  }
  const name = value.provider as PushProvider;
  if (!PLATFORM_PROVIDERS[platform].includes(name)) {
    issues.add(joinPath(path, 'provider'), `must be one of ${PLATFORM_PROVIDERS[platform].join(', ')}`);
    return undefined;
  }
  if (!opts.allowed.includes(name)) {
    issues.add(joinPath(path, 'provider'), `"${name}" is not available in this mode`);
    return undefined;
  }
  rejectUnknownKeys(issues, value, FIELDS[name], path);
  const text = (key: string, pattern?: RegExp): string => {
    const v = value[key];
    if (typeof v === 'string' && v !== '' && (pattern === undefined || pattern.test(v))) return v;
    issues.add(joinPath(path, key), pattern ? `must match ${pattern}` : 'must be a non-empty string');
    return '';
  };
  switch (name) {
    case PushProvider.Apns: {
      const environment = value.environment ?? 'production';
      if (environment !== 'production' && environment !== 'sandbox') {
        issues.add(joinPath(path, 'environment'), "must be 'production' or 'sandbox'");
      }
      return {
        provider: name,
        keyId: text('keyId', APPLE_ID),
        teamId: text('teamId', APPLE_ID),
        topic: text('topic', TOPIC),
        environment: environment === 'sandbox' ? 'sandbox' : 'production',
        signingKey: inlineOrFile(issues, path, value, 'signingKey', opts),
        ...origin(issues, path, value),
      };
    }
    case PushProvider.Fcm:
      return {
        provider: name,
        serviceAccount: inlineOrFile(issues, path, value, 'serviceAccount', opts),
        ...origin(issues, path, value),
      };
    case PushProvider.WebPush:
      // Lengths, the pair's match and the subject's form are the transport's to check, by these names.
      return {
        provider: name,
        publicKey: text('publicKey', BASE64URL),
        privateKey: text('privateKey', BASE64URL),
        subject: text('subject'),
      };
    case PushProvider.Sns:
      return { provider: name, applicationArn: text('applicationArn', SNS_APP_ARN) };
    default:
      return { provider: PushProvider.Record };
  }
}

/** The optional `origin`: https only, since credentials travel to it. */
function origin(issues: Issues, path: string, value: Record<string, unknown>): { origin?: string } {
  if (value.origin === undefined) return {};
  if (typeof value.origin === 'string' && /^https:\/\/[^/?#]+$/.test(value.origin))
    return { origin: value.origin };
  issues.add(joinPath(path, 'origin'), 'must be an https:// origin (no path)');
  return {};
}

/** `<key>` given inline (a string, or for a service account an object) or `<key>File` read from disk. */
function inlineOrFile(
  issues: Issues,
  path: string,
  value: Record<string, unknown>,
  key: 'signingKey' | 'serviceAccount',
  opts: ParseOptions,
): string {
  const inline = value[key];
  const file = value[`${key}File`];
  if ((inline === undefined) === (file === undefined)) {
    issues.add(joinPath(path, key), `give exactly one of "${key}" and "${key}File"`);
    return '';
  }
  if (inline !== undefined) {
    if (typeof inline === 'string' && inline !== '') return inline;
    if (key === 'serviceAccount' && isPlainObject(inline)) return JSON.stringify(inline);
    issues.add(joinPath(path, key), 'must be the credential text');
    return '';
  }
  if (typeof file !== 'string' || file === '') {
    issues.add(joinPath(path, `${key}File`), 'must be a file name');
    return '';
  }
  const resolved = isAbsolute(file) || opts.baseDir === undefined ? file : join(opts.baseDir, file);
  try {
    return opts.readText(resolved);
  } catch (err) {
    // The file's name is configuration, not a secret; its content never reaches a message.
    issues.add(
      joinPath(path, `${key}File`),
      `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
    return '';
  }
}

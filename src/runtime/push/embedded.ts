import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { VapidKeys } from '../../adapters/push/webpush/vapid.ts';
import { SmtpEmailTransport } from '../../adapters/smtp/smtp-email.ts';
import { ValidationError } from '../../domain/errors.ts';
import { Platform } from '../../domain/types.ts';
import { isPlainObject } from '../../domain/validate.ts';
import { systemClock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import type { EmailTransport, PushTransport } from '../../ports/transports.ts';
import type { DeliverySettings } from '../delivery-config.ts';
import { directPushFactories } from './direct.ts';
import { type PushProvidersConfig, parsePushProviders, type ReadText } from './providers.ts';
import { buildPushRouting } from './routing.ts';
import type { RoutingPushTransport } from './routing-transport.ts';

export interface EmbeddedTransportsOptions {
  readonly settings: DeliverySettings;
  /** Where a platform without credentials goes. */
  readonly pushSink: PushTransport;
  /** Where email goes without an SMTP server. */
  readonly emailSink: EmailTransport;
  readonly logger: Logger;
  /** Reads key files. @default UTF-8 from disk */
  readonly readText?: ReadText;
  /**
   * The VAPID keys of the data dir: the default Web Push provider unless the variables
   * (FANOUT_VAPID_*) or the providers file name one. Absent: web push goes to `pushSink`.
   */
  readonly vapid?: VapidKeys;
}

/** The embedded mode's transports, and how to release their connections. */
export interface EmbeddedTransports {
  readonly push: RoutingPushTransport;
  readonly email: EmailTransport;
  /** Which provider each default platform and email use, for the start-up line (no credentials). */
  readonly summary: {
    readonly apns: string;
    readonly fcm: string;
    readonly webpush: string;
    readonly email: string;
    readonly tenants: number;
  };
  /**
   * The VAPID public key a browser of this tenant subscribes with: its own Web Push provider's, else
   * the default one's; undefined when web push of this tenant goes nowhere real.
   */
  webPushPublicKey(tenantId: string): string | undefined;
  close(): Promise<void>;
}

/**
 * Real providers where the settings name credentials, the recording sinks elsewhere: configuring
 * APNs alone sends iOS pushes to Apple and keeps recording FCM ones. Key files are read once, here.
 */
export function openEmbeddedTransports(opts: EmbeddedTransportsOptions): EmbeddedTransports {
  const { settings, logger } = opts;
  // The real providers run on real time, never the pipeline's clock: Apple and Google check
  // provider tokens, OAuth assertions and expiry times against it, while the demo's clock stands at
  // its `--at`, possibly months away (APNs would refuse every push with ExpiredProviderToken).
  const clock = systemClock;
  const readText = opts.readText ?? ((path: string) => readFileSync(path, 'utf8'));
  const pushRouting = (providers: PushProvidersConfig) =>
    buildPushRouting(
      providers,
      {
        ...directPushFactories({
          logger,
          clock,
          ...(settings.webPushEndpointHosts ? { webPushEndpointHosts: settings.webPushEndpointHosts } : {}),
        }),
        record: () => opts.pushSink,
      },
      { [Platform.Apns]: opts.pushSink, [Platform.Fcm]: opts.pushSink, [Platform.WebPush]: opts.pushSink },
    );
  const { providers, push } = withVariableNames(settings, () => {
    const providers = pushProviders(settings, readText, opts.vapid);
    return { providers, push: pushRouting(providers) };
  });
  let email = opts.emailSink;
  let smtp: SmtpEmailTransport | undefined;
  if (settings.smtpUrl !== undefined && settings.emailFrom !== undefined) {
    const { smtpUrl, emailFrom } = settings;
    try {
      smtp = new SmtpEmailTransport({ url: smtpUrl, from: emailFrom });
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const names: Readonly<Record<string, string>> = { url: 'FANOUT_SMTP_URL', from: 'FANOUT_EMAIL_FROM' };
      throw new ValidationError(
        err.issues.map((i) => ({ ...i, path: names[i.path] ?? `FANOUT_SMTP_URL ${i.path}` })),
        { cause: err },
      );
    }
    email = smtp;
  }
  const name = (platform: Platform) => providers.default[platform]?.provider ?? 'record';
  return {
    push,
    email,
    summary: {
      apns: name(Platform.Apns),
      fcm: name(Platform.Fcm),
      webpush: name(Platform.WebPush),
      email: smtp === undefined ? 'record' : 'smtp',
      tenants: Object.keys(providers.tenants).length,
    },
    webPushPublicKey(tenantId) {
      const own = Object.hasOwn(providers.tenants, tenantId)
        ? providers.tenants[tenantId]?.webpush
        : undefined;
      const provider = own ?? providers.default.webpush;
      return provider?.provider === 'webpush' ? provider.publicKey : undefined;
    },
    async close() {
      await Promise.all([push.close(), smtp?.close()]);
    },
  };
}

/**
 * The contact push services see when nobody named one. `.invalid` is reserved (RFC 2606): it reaches
 * nobody, which Mozilla's and Google's services accept; Apple's wants a real one (FANOUT_VAPID_SUBJECT).
 */
export const DEFAULT_VAPID_SUBJECT = 'mailto:webpush@fanout.invalid';

/** FANOUT_VAPID_SUBJECT, else the public https URL of the API, else {@link DEFAULT_VAPID_SUBJECT}. */
export function vapidSubjectOf(settings: DeliverySettings): string {
  if (settings.vapidSubject !== undefined) return settings.vapidSubject;
  const base = settings.publicBaseUrl;
  return base?.startsWith('https://') ? base : DEFAULT_VAPID_SUBJECT;
}

/** The variables of these settings that name a real provider (empty: everything is recorded). */
export function realProviderVariables(settings: DeliverySettings): string[] {
  const named: [string, unknown][] = [
    ['FANOUT_APNS_*', settings.apns],
    ['FANOUT_FCM_SERVICE_ACCOUNT_FILE', settings.fcmServiceAccountFile],
    ['FANOUT_PUSH_PROVIDERS_FILE', settings.pushProvidersFile],
    ['FANOUT_SMTP_URL', settings.smtpUrl],
  ];
  return named.filter(([, value]) => value !== undefined).map(([name]) => name);
}

/** Document paths the variables fill, by the variable's name: an error then names what the user set. */
const VARIABLE_PATHS: readonly [string, string][] = [
  ['default.apns.signingKeyFile', 'FANOUT_APNS_KEY_FILE'],
  ['default.apns.signingKey', 'FANOUT_APNS_KEY_FILE'],
  ['default.apns.keyId', 'FANOUT_APNS_KEY_ID'],
  ['default.apns.teamId', 'FANOUT_APNS_TEAM_ID'],
  ['default.apns.topic', 'FANOUT_APNS_TOPIC'],
  ['default.apns.environment', 'FANOUT_APNS_ENVIRONMENT'],
  ['default.apns.origin', 'FANOUT_APNS_ORIGIN'],
  ['default.fcm.serviceAccountFile', 'FANOUT_FCM_SERVICE_ACCOUNT_FILE'],
  ['default.fcm.origin', 'FANOUT_FCM_ORIGIN'],
  ['default.fcm', 'FANOUT_FCM_SERVICE_ACCOUNT_FILE'],
  ['default.webpush.publicKey', 'FANOUT_VAPID_PUBLIC_KEY'],
  ['default.webpush.privateKey', 'FANOUT_VAPID_PRIVATE_KEY'],
  ['default.webpush.subject', 'FANOUT_VAPID_SUBJECT'],
];

/** Runs `build`, renaming the paths of its ValidationError that the variables filled. */
function withVariableNames<T>(settings: DeliverySettings, build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const fromVariables = (path: string) =>
      path.startsWith('default.apns')
        ? settings.apns !== undefined
        : path.startsWith('default.webpush')
          ? settings.vapid !== undefined || settings.vapidSubject !== undefined
          : settings.fcmServiceAccountFile !== undefined;
    const rename = (path: string): string => {
      const hit = VARIABLE_PATHS.find(([p]) => path === p || path.startsWith(`${p}.`));
      return hit !== undefined && fromVariables(path) ? `${hit[1]}${path.slice(hit[0].length)}` : path;
    };
    throw new ValidationError(
      err.issues.map((i) => ({ ...i, path: rename(i.path) })),
      { cause: err },
    );
  }
}

/** The providers document: the file's, with the env shortcuts as its default. */
function pushProviders(
  settings: DeliverySettings,
  readText: ReadText,
  dataDirVapid: VapidKeys | undefined,
): PushProvidersConfig {
  let doc: Record<string, unknown> = {};
  const file = settings.pushProvidersFile;
  if (file !== undefined) {
    let text: string;
    try {
      text = readText(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new ValidationError([
        { path: 'FANOUT_PUSH_PROVIDERS_FILE', message: `cannot be read (${code})` },
      ]);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ValidationError([{ path: 'FANOUT_PUSH_PROVIDERS_FILE', message: 'is not valid JSON' }]);
    }
    if (!isPlainObject(parsed)) {
      throw new ValidationError([
        { path: 'FANOUT_PUSH_PROVIDERS_FILE', message: 'must hold a JSON object {default?, tenants?}' },
      ]);
    }
    doc = parsed;
  }
  // The variables' file names are relative to the working directory, like any path in the
  // environment, not to the document's directory that the document's own names are relative to.
  const shortcuts: Record<string, unknown> = {};
  if (settings.apns !== undefined) {
    const { keyFile, ...rest } = settings.apns;
    shortcuts.apns = { provider: 'apns', ...rest, signingKeyFile: resolve(keyFile) };
  }
  if (settings.fcmServiceAccountFile !== undefined) {
    shortcuts.fcm = {
      provider: 'fcm',
      serviceAccountFile: resolve(settings.fcmServiceAccountFile),
      origin: settings.fcmOrigin,
    };
  }
  if (settings.vapid !== undefined) {
    shortcuts.webpush = {
      provider: 'webpush',
      ...settings.vapid,
      subject: vapidSubjectOf(settings),
    };
  }
  const fileDefault = doc.default ?? {};
  // The data dir's generated keys give way silently to a document that names a Web Push provider:
  // they are a default nobody chose, not a setting to keep apart from the file's.
  if (settings.vapid === undefined && dataDirVapid !== undefined && isPlainObject(fileDefault)) {
    if (fileDefault.webpush === undefined) {
      doc = { ...doc, default: { ...fileDefault, webpush: { provider: 'webpush', ...dataDirVapid } } };
    }
  }
  // A `default` that is no object is left for parsePushProviders to report.
  if (Object.keys(shortcuts).length > 0 && isPlainObject(fileDefault)) {
    const both = Object.keys(shortcuts).filter((p) => fileDefault[p] !== undefined);
    if (both.length > 0) {
      throw new ValidationError(
        both.map((p) => ({
          path: `FANOUT_PUSH_PROVIDERS_FILE default.${p}`,
          message: `is also set by FANOUT_${p === 'webpush' ? 'VAPID' : p.toUpperCase()}_* variables: keep one`,
        })),
      );
    }
    doc = { ...doc, default: { ...(doc.default as object), ...shortcuts } };
  }
  return parsePushProviders(doc, {
    readText,
    allowed: ['apns', 'fcm', 'webpush', 'record'],
    ...(file === undefined ? {} : { baseDir: dirname(file) }),
  });
}

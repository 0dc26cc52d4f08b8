/**
 * The embedded mode's delivery settings, from environment variables (see `docs/push.md` and
 * `docs/configuration.md`). Without any of them nothing leaves the process: push and email go to
 * the recording sinks. Push credentials are never in the environment, only the names of the files
 * that hold them; the SMTP password is, in FANOUT_SMTP_URL, so no message ever repeats that URL.
 */
export interface DeliverySettings {
  /** FANOUT_PUSH_PROVIDERS_FILE: a push providers document (per tenant and platform). */
  readonly pushProvidersFile?: string;
  /**
   * The default APNs provider, all four or none: FANOUT_APNS_KEY_FILE (the `.p8` key),
   * FANOUT_APNS_KEY_ID, FANOUT_APNS_TEAM_ID, FANOUT_APNS_TOPIC (the bundle id); with them,
   * FANOUT_APNS_ENVIRONMENT ('production' | 'sandbox', @default 'production').
   */
  readonly apns?: {
    readonly keyFile: string;
    readonly keyId: string;
    readonly teamId: string;
    readonly topic: string;
    readonly environment: string;
    /** FANOUT_APNS_ORIGIN: another https origin than Apple's (a gateway, a test server). */
    readonly origin?: string;
  };
  /** FANOUT_FCM_SERVICE_ACCOUNT_FILE: the default FCM provider's service-account key (JSON). */
  readonly fcmServiceAccountFile?: string;
  /** FANOUT_FCM_ORIGIN: another https origin than fcm.googleapis.com. */
  readonly fcmOrigin?: string;
  /** FANOUT_SMTP_URL: `smtp://user:pass@host:587` or `smtps://…:465`; email goes out by SMTP. */
  readonly smtpUrl?: string;
  /** FANOUT_EMAIL_FROM: the From address (required with FANOUT_SMTP_URL). */
  readonly emailFrom?: string;
  /**
   * FANOUT_PUBLIC_BASE_URL: the API's public https URL. Emails then carry one-click unsubscribe
   * links (`<url>/v1/unsubscribe?token=…`) in their `List-Unsubscribe` header and footer.
   */
  readonly publicBaseUrl?: string;
}

type Env = Readonly<Record<string, string | undefined>>;
type IssueList = { path: string; message: string }[];

const APNS_VARIABLES = [
  'FANOUT_APNS_KEY_FILE',
  'FANOUT_APNS_KEY_ID',
  'FANOUT_APNS_TEAM_ID',
  'FANOUT_APNS_TOPIC',
];

/** Reads the delivery settings; problems are added to `issues` (the caller throws them together). */
export function readDeliverySettings(env: Env, issues: IssueList): DeliverySettings {
  const value = (name: string) => (env[name] === '' ? undefined : env[name]);
  const given = APNS_VARIABLES.filter((name) => value(name) !== undefined);
  let apns: DeliverySettings['apns'];
  if (given.length === APNS_VARIABLES.length) {
    apns = {
      keyFile: value('FANOUT_APNS_KEY_FILE')!,
      keyId: value('FANOUT_APNS_KEY_ID')!,
      teamId: value('FANOUT_APNS_TEAM_ID')!,
      topic: value('FANOUT_APNS_TOPIC')!,
      environment: value('FANOUT_APNS_ENVIRONMENT') ?? 'production',
      ...(value('FANOUT_APNS_ORIGIN') === undefined ? {} : { origin: value('FANOUT_APNS_ORIGIN')! }),
    };
    if (apns.environment !== 'production' && apns.environment !== 'sandbox') {
      issues.push({ path: 'FANOUT_APNS_ENVIRONMENT', message: "must be 'production' or 'sandbox'" });
    }
  } else if (given.length > 0 || ['FANOUT_APNS_ENVIRONMENT', 'FANOUT_APNS_ORIGIN'].some((n) => value(n))) {
    for (const name of APNS_VARIABLES.filter((n) => value(n) === undefined)) {
      issues.push({ path: name, message: 'must be set with the other FANOUT_APNS_* variables' });
    }
  }
  // Credentials travel to these origins: https only, and an origin is all they may name.
  for (const name of ['FANOUT_APNS_ORIGIN', 'FANOUT_FCM_ORIGIN']) {
    const origin = value(name);
    if (origin !== undefined && !/^https:\/\/[^/?#]+$/.test(origin)) {
      issues.push({ path: name, message: 'must be an https:// origin (no path)' });
    }
  }
  if (value('FANOUT_FCM_ORIGIN') !== undefined && value('FANOUT_FCM_SERVICE_ACCOUNT_FILE') === undefined) {
    issues.push({ path: 'FANOUT_FCM_SERVICE_ACCOUNT_FILE', message: 'must be set with FANOUT_FCM_ORIGIN' });
  }
  const smtpUrl = value('FANOUT_SMTP_URL');
  const emailFrom = value('FANOUT_EMAIL_FROM');
  if (smtpUrl !== undefined && !/^smtps?:\/\//.test(smtpUrl)) {
    issues.push({ path: 'FANOUT_SMTP_URL', message: 'must be an smtp:// or smtps:// URL' });
  }
  if (smtpUrl !== undefined && emailFrom === undefined) {
    issues.push({ path: 'FANOUT_EMAIL_FROM', message: 'must be set with FANOUT_SMTP_URL' });
  }
  const publicBaseUrl = value('FANOUT_PUBLIC_BASE_URL');
  if (publicBaseUrl !== undefined && !isHttpUrl(publicBaseUrl)) {
    issues.push({ path: 'FANOUT_PUBLIC_BASE_URL', message: 'must be an http(s) URL' });
  }
  const optional = {
    pushProvidersFile: value('FANOUT_PUSH_PROVIDERS_FILE'),
    apns,
    fcmServiceAccountFile: value('FANOUT_FCM_SERVICE_ACCOUNT_FILE'),
    fcmOrigin: value('FANOUT_FCM_ORIGIN'),
    smtpUrl,
    emailFrom,
    publicBaseUrl,
  };
  return Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)) as DeliverySettings;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

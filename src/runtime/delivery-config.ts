import { allOrNone, group, pattern, type Setting, text } from '../lib/settings.ts';
import { apnsVariables, publicBaseUrl, webPushEndpointHosts } from './settings.ts';

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
    readonly environment: 'production' | 'sandbox';
    /** FANOUT_APNS_ORIGIN: another https origin than Apple's (a gateway, a test server). */
    readonly origin?: string;
  };
  /** FANOUT_FCM_SERVICE_ACCOUNT_FILE: the default FCM provider's service-account key (JSON). */
  readonly fcmServiceAccountFile?: string;
  /** FANOUT_FCM_ORIGIN: another https origin than fcm.googleapis.com. */
  readonly fcmOrigin?: string;
  /**
   * FANOUT_VAPID_PUBLIC_KEY and FANOUT_VAPID_PRIVATE_KEY (base64url, as `web-push
   * generate-vapid-keys` prints them), both or none: the default Web Push provider's keys. Without
   * them the embedded mode generates a pair once into the data dir (`vapid-keys.json`, 0600).
   */
  readonly vapid?: { readonly publicKey: string; readonly privateKey: string };
  /**
   * FANOUT_VAPID_SUBJECT: the `mailto:` or `https:` contact push services see (the VAPID `sub`).
   * @default FANOUT_PUBLIC_BASE_URL when https, else `mailto:webpush@fanout.invalid`
   */
  readonly vapidSubject?: string;
  /** FANOUT_WEBPUSH_ENDPOINT_HOSTS and the known push services: where subscriptions may point. */
  readonly webPushEndpointHosts?: readonly string[];
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

/** Credentials travel to these origins: https only, and an origin is all they may name. */
const origin = (variable: string) =>
  pattern(variable, /^https:\/\/[^/?#]+$/, 'must be an https:// origin (no path)');

const apns = apnsVariables('FANOUT_APNS_KEY_FILE', ['FANOUT_APNS_ORIGIN']);
const apnsOrigin = origin('FANOUT_APNS_ORIGIN');
const fcmOrigin = origin('FANOUT_FCM_ORIGIN');
const vapidKeys = allOrNone(['FANOUT_VAPID_PUBLIC_KEY', 'FANOUT_VAPID_PRIVATE_KEY'], {
  label: 'FANOUT_VAPID_*_KEY',
});
/** RFC 8292 §2.1: push services reach the sender through it. */
export const vapidSubject = pattern(
  'FANOUT_VAPID_SUBJECT',
  /^(mailto:[^@\s]+@[^@\s]+|https:\/\/[^/?#\s]+.*)$/,
  'must be a mailto: address or an https:// URL',
);
/** The URL holds the SMTP password: no message ever repeats it. */
const smtpUrl = pattern('FANOUT_SMTP_URL', /^smtps?:\/\//, 'must be an smtp:// or smtps:// URL');

/** The embedded mode's delivery variables, as one setting of `readRuntimeConfig`. */
export const deliverySettings: Setting<DeliverySettings> = group({
  pushProvidersFile: text('FANOUT_PUSH_PROVIDERS_FILE'),
  apns: (reader) => {
    const ids = apns(reader);
    const origin = apnsOrigin(reader);
    if (ids === undefined) return undefined;
    const { key: keyFile, ...rest } = ids;
    return { keyFile, ...rest, ...(origin === undefined ? {} : { origin }) };
  },
  fcmOrigin,
  fcmServiceAccountFile: text('FANOUT_FCM_SERVICE_ACCOUNT_FILE', { requiredWith: 'FANOUT_FCM_ORIGIN' }),
  vapid: (reader) => {
    const keys = vapidKeys(reader);
    return keys === undefined
      ? undefined
      : { publicKey: keys.FANOUT_VAPID_PUBLIC_KEY, privateKey: keys.FANOUT_VAPID_PRIVATE_KEY };
  },
  vapidSubject,
  webPushEndpointHosts,
  smtpUrl,
  emailFrom: text('FANOUT_EMAIL_FROM', { requiredWith: 'FANOUT_SMTP_URL' }),
  publicBaseUrl,
});

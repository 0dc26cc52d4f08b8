import { Platform } from '../../domain/types.ts';
import { type Environment, readSettings, type Setting, text } from '../../lib/settings.ts';
import type { Ports } from '../../ports/ports.ts';
import type {
  EmailMessage,
  EmailResult,
  EmailTransport,
  PushMessage,
  PushResult,
  PushTransport,
} from '../../ports/transports.ts';
import type { EmbeddedPorts } from '../../runtime/embedded.ts';
import { CELEBRITY_ID } from './users.ts';

/**
 * You, as one more user of the demo: your own phone and address, reached through the real
 * providers configured for the process (FANOUT_APNS_*, FANOUT_FCM_SERVICE_ACCOUNT_FILE,
 * FANOUT_SMTP_URL; docs/push.md), while the hundreds of thousands of synthetic users keep going to
 * the recording sinks: their made-up tokens must never reach Apple or Google, who would answer
 * each with BadDeviceToken and could throttle the whole app for it.
 */
export interface RealRecipient {
  /** FANOUT_DEMO_DEVICES: `apns:<hex token>` and/or `fcm:<registration token>`, comma-separated. */
  readonly devices: readonly { readonly platform: Platform; readonly token: string }[];
  /** FANOUT_DEMO_EMAIL: your address. */
  readonly email?: string;
  /** FANOUT_DEMO_LOCALE: the language of your notifications (a BCP 47 tag). @default 'en' */
  readonly locale?: string;
}

/** The demo user who stands for you: follows the celebrity with alerts on, so each of its posts pushes. */
export const REAL_USER_ID = 'you';

/** FANOUT_DEMO_DEVICES: each entry checked; a bad one is named by its index, never quoted. */
const devices: Setting<RealRecipient['devices']> = (reader) => {
  const out: { platform: Platform; token: string }[] = [];
  for (const [i, entry] of (reader.text('FANOUT_DEMO_DEVICES')?.split(',') ?? []).entries()) {
    const colon = entry.indexOf(':');
    const platform = entry.slice(0, colon).trim();
    const token = entry.slice(colon + 1).trim();
    if (colon < 0 || (platform !== Platform.Apns && platform !== Platform.Fcm) || token === '') {
      // The token itself is not echoed: it is a credential of sorts for your phone.
      reader.report(`FANOUT_DEMO_DEVICES[${i}]`, "must be 'apns:<token>' or 'fcm:<token>'");
      continue;
    }
    out.push({ platform, token });
  }
  return out;
};

/** Reads you from the environment; undefined when neither variable is set. Throws SettingsError. */
export function readRealRecipient(env: Environment): RealRecipient | undefined {
  const you = readSettings(env, {
    devices,
    email: text('FANOUT_DEMO_EMAIL'),
    locale: text('FANOUT_DEMO_LOCALE'),
  });
  return you.devices.length === 0 && you.email === undefined ? undefined : you;
}

/** Registers you in the demo tenant: preferences with consent, your devices, the celebrity followed. */
export async function seedRealRecipient(
  ports: Pick<Ports, 'graph' | 'preferences' | 'devices'>,
  tenantId: string,
  you: RealRecipient,
  at: number,
): Promise<void> {
  await ports.preferences.put({
    tenantId,
    userId: REAL_USER_ID,
    timezone: 'UTC',
    ...(you.locale === undefined ? {} : { locale: you.locale }),
    ...(you.email === undefined ? {} : { email: you.email }),
    consent: { push: you.devices.length > 0, email: you.email !== undefined },
    channels: {},
    categories: {},
    updatedAt: at,
  });
  await ports.devices.registerMany(
    you.devices.map((d) => ({
      tenantId,
      userId: REAL_USER_ID,
      token: d.token,
      platform: d.platform,
      registeredAt: at,
    })),
  );
  await ports.graph.follow([{ tenantId, authorId: CELEBRITY_ID, followerId: REAL_USER_ID, alerts: true }]);
}

/**
 * The demo's ports with your sends on the configured providers and everyone else's on the sinks.
 * Without real providers configured the configured transports are the sinks themselves, so the
 * demo runs the same either way.
 */
export function withRealRecipient(ports: EmbeddedPorts, you: RealRecipient): EmbeddedPorts {
  const tokens = new Set(you.devices.map((d) => d.token));
  const push: PushTransport = {
    send: (m: PushMessage): Promise<PushResult> =>
      (tokens.has(m.token) ? ports.push : ports.pushSink).send(m),
  };
  const email: EmailTransport = {
    send: (m: EmailMessage): Promise<EmailResult> =>
      (m.to === you.email ? ports.email : ports.emailSink).send(m),
  };
  return { ...ports, push, email };
}

/** Keeps every synthetic send on the sinks when you are not in the demo. */
export function sinksOnly(ports: EmbeddedPorts): EmbeddedPorts {
  return { ...ports, push: ports.pushSink, email: ports.emailSink };
}

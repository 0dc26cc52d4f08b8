import { checkDigestHour, checkEmailCadences } from './email-digest.ts';
import { EVENT_LIMITS, isValidId } from './event.ts';
import { checkCapPolicy } from './frequency-cap.ts';
import { clockMinutes, isValidTimezone, quietHoursDecision } from './quiet-hours.ts';
import {
  CATEGORIES,
  type Category,
  CHANNELS,
  Channel,
  type ChannelSwitches,
  Outcome,
  type Preferences,
  QuietAction,
  type QuietHours,
} from './types.ts';
import { Issues, isPlainObject, joinPath, rejectUnknownKeys } from './validate.ts';

export type DeliveryDecision =
  | { readonly kind: 'send' }
  | { readonly kind: 'suppress'; readonly outcome: Outcome; readonly reason: string }
  | { readonly kind: 'defer'; readonly until: number };

/** Why a delivery was suppressed: short machine strings, as audit records carry them. */
export const SuppressReason = {
  NoConsent: 'no_consent',
  ChannelOff: 'channel_off',
  CategoryOff: 'category_off',
  NoEmail: 'no_email',
  QuietHours: 'quiet_hours',
} as const;
export type SuppressReason = (typeof SuppressReason)[keyof typeof SuppressReason];

// Decisions carry no per-call data, so the hot path shares frozen instances.
const SEND: DeliveryDecision = Object.freeze({ kind: 'send' });
const NO_CONSENT = suppressed(Outcome.SuppressedNoConsent, SuppressReason.NoConsent);
const CHANNEL_OFF = suppressed(Outcome.SuppressedPreference, SuppressReason.ChannelOff);
const CATEGORY_OFF = suppressed(Outcome.SuppressedPreference, SuppressReason.CategoryOff);
const NO_EMAIL = suppressed(Outcome.SuppressedNoAddress, SuppressReason.NoEmail);
const QUIET_HOURS = suppressed(Outcome.SuppressedQuietHours, SuppressReason.QuietHours);

function suppressed(outcome: Outcome, reason: SuppressReason): DeliveryDecision {
  return Object.freeze({ kind: 'suppress', outcome, reason });
}

/**
 * Decides one delivery before any I/O with the transport, in this order:
 * 1. consent (no preferences or no consent for the channel ⇒ suppressed_no_consent),
 * 2. the user's channel and category switches (⇒ suppressed_preference),
 * 3. for email, an address (⇒ suppressed_no_address),
 * 4. for push, quiet hours in the user's timezone (⇒ suppressed_quiet_hours or defer).
 * `critical` bypasses quiet hours, never consent.
 */
export function decideDelivery(
  prefs: Preferences | undefined,
  channel: Channel,
  category: Category,
  now: number,
): DeliveryDecision {
  // Consent is opt-in: only an explicit `true` counts.
  if (prefs === undefined || prefs.consent[channel] !== true) return NO_CONSENT;
  if (prefs.channels[channel] === false) return CHANNEL_OFF;
  if (prefs.categories[category]?.[channel] === false) return CATEGORY_OFF;
  if (channel === Channel.Email) return prefs.email ? SEND : NO_EMAIL;
  const quiet = quietHoursDecision(prefs.quietHours, prefs.timezone, category, now);
  if (quiet.kind === 'send') return SEND;
  return quiet.kind === 'suppress' ? QUIET_HOURS : quiet;
}

/** Limits on the preferences body. */
export const PREFERENCE_LIMITS = {
  /** RFC 5646 language tags in practice stay well within this. */
  localeMaxLength: 35,
  /** RFC 5321's path limit, minus the angle brackets. */
  emailMaxLength: 254,
} as const;

const BODY_FIELDS: ReadonlySet<string> = new Set([
  'timezone',
  'locale',
  'email',
  'consent',
  'channels',
  'categories',
  'quietHours',
  'frequencyCaps',
  'emailCadence',
  'digestHour',
]);
const CHANNEL_KEYS: ReadonlySet<string> = new Set(CHANNELS);
const CATEGORY_KEYS: ReadonlySet<string> = new Set(CATEGORIES);
const QUIET_FIELDS: ReadonlySet<string> = new Set(['start', 'end', 'actions']);
const QUIET_ACTIONS: readonly string[] = Object.values(QuietAction);

/** A language, then subtags: "en", "pt-BR", "zh-Hant-TW", "de-CH-1996". */
const LOCALE = /^[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*$/;
/**
 * A plain address: dot-atom local part, dotted host name. Deliberately narrower than RFC 5322
 * (no quoted local parts, no address literals): nothing in it can break a mail header.
 */
const EMAIL =
  /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
const EMAIL_LOCAL_MAX = 64;

/**
 * Validates untrusted preferences input (the PUT body) into Preferences; throws ValidationError
 * listing every problem. The body replaces the user's preferences whole: an absent field takes
 * its default (no consent, switches on, no quiet hours, UTC).
 */
export function parsePreferences(input: unknown, tenantId: string, userId: string, now: number): Preferences {
  // Annotated so that `issues.fail` (never) narrows `input` below.
  const issues: Issues = new Issues();
  if (!isValidId(tenantId))
    issues.add('tenantId', `must be 1..${EVENT_LIMITS.idMaxLength} of [A-Za-z0-9._:@-]`);
  if (!isValidId(userId, EVENT_LIMITS.userIdMaxLength)) {
    issues.add('userId', `must be 1..${EVENT_LIMITS.userIdMaxLength} of [A-Za-z0-9._:@-]`);
  }
  if (!isPlainObject(input)) issues.fail('body', 'must be a JSON object');
  rejectUnknownKeys(issues, input, BODY_FIELDS);
  const timezone = input.timezone === undefined ? 'UTC' : checkTimezone(issues, input.timezone);
  const locale = input.locale === undefined ? undefined : checkLocale(issues, input.locale);
  const email = input.email === undefined ? undefined : checkEmail(issues, input.email);
  const consent = input.consent === undefined ? {} : checkSwitches(issues, 'consent', input.consent);
  const channels = input.channels === undefined ? {} : checkSwitches(issues, 'channels', input.channels);
  const categories = input.categories === undefined ? {} : checkCategories(issues, input.categories);
  const quietHours = input.quietHours === undefined ? undefined : checkQuietHours(issues, input.quietHours);
  const frequencyCaps =
    input.frequencyCaps === undefined
      ? undefined
      : checkCapPolicy(issues, 'frequencyCaps', input.frequencyCaps);
  const emailCadence =
    input.emailCadence === undefined ? undefined : checkEmailCadences(issues, input.emailCadence);
  const digestHour = input.digestHour === undefined ? undefined : checkDigestHour(issues, input.digestHour);
  issues.throwIfAny();
  return {
    tenantId,
    userId,
    timezone,
    ...(locale === undefined ? {} : { locale }),
    ...(email === undefined ? {} : { email }),
    consent,
    channels,
    categories,
    ...(quietHours === undefined ? {} : { quietHours }),
    ...(frequencyCaps === undefined ? {} : { frequencyCaps }),
    ...(emailCadence === undefined ? {} : { emailCadence }),
    ...(digestHour === undefined ? {} : { digestHour }),
    updatedAt: now,
  };
}

function checkTimezone(issues: Issues, value: unknown): string {
  if (typeof value === 'string' && isValidTimezone(value)) return value;
  issues.add('timezone', 'must be an IANA timezone, e.g. "Europe/Paris"');
  return 'UTC';
}

function checkLocale(issues: Issues, value: unknown): string | undefined {
  if (typeof value === 'string' && value.length <= PREFERENCE_LIMITS.localeMaxLength && LOCALE.test(value)) {
    return value;
  }
  issues.add('locale', `must be a language tag of at most ${PREFERENCE_LIMITS.localeMaxLength} chars`);
  return undefined;
}

function checkEmail(issues: Issues, value: unknown): string | undefined {
  if (
    typeof value === 'string' &&
    value.length <= PREFERENCE_LIMITS.emailMaxLength &&
    EMAIL.test(value) &&
    value.indexOf('@') <= EMAIL_LOCAL_MAX
  ) {
    return value;
  }
  // The message never echoes the value: addresses are personal data and errors get logged.
  issues.add('email', `must be an email address of at most ${PREFERENCE_LIMITS.emailMaxLength} chars`);
  return undefined;
}

/** `{push?: boolean, email?: boolean}`, copied key by key from the known channels only. */
function checkSwitches(issues: Issues, path: string, value: unknown): ChannelSwitches {
  if (!isPlainObject(value)) {
    issues.add(path, 'must be an object of channel → boolean');
    return {};
  }
  rejectUnknownKeys(issues, value, CHANNEL_KEYS, path);
  const out: Partial<Record<Channel, boolean>> = {};
  for (const channel of CHANNELS) {
    const v = value[channel];
    if (v === undefined) continue;
    if (typeof v === 'boolean') out[channel] = v;
    else issues.add(joinPath(path, channel), 'must be a boolean');
  }
  return out;
}

function checkCategories(issues: Issues, value: unknown): Preferences['categories'] {
  if (!isPlainObject(value)) {
    issues.add('categories', 'must be an object of category → channel switches');
    return {};
  }
  rejectUnknownKeys(issues, value, CATEGORY_KEYS, 'categories');
  const out: Partial<Record<Category, ChannelSwitches>> = {};
  for (const category of CATEGORIES) {
    const v = value[category];
    if (v !== undefined) out[category] = checkSwitches(issues, `categories.${category}`, v);
  }
  return out;
}

function checkQuietHours(issues: Issues, value: unknown): QuietHours | undefined {
  if (!isPlainObject(value)) {
    issues.add('quietHours', 'must be an object {start, end, actions?}');
    return undefined;
  }
  rejectUnknownKeys(issues, value, QUIET_FIELDS, 'quietHours');
  let valid = true;
  for (const field of ['start', 'end'] as const) {
    if (clockMinutes(value[field]) === undefined) {
      issues.add(`quietHours.${field}`, 'must be "HH:MM", 00:00 to 23:59');
      valid = false;
    }
  }
  const actions = value.actions === undefined ? {} : checkActions(issues, value.actions);
  if (!valid || actions === undefined) return undefined;
  return {
    start: value.start as string,
    end: value.end as string,
    ...(value.actions === undefined ? {} : { actions }),
  };
}

function checkActions(issues: Issues, value: unknown): QuietHours['actions'] {
  if (!isPlainObject(value)) {
    issues.add('quietHours.actions', 'must be an object of category → "suppress" | "defer"');
    return undefined;
  }
  rejectUnknownKeys(issues, value, CATEGORY_KEYS, 'quietHours.actions');
  const out: Partial<Record<Category, QuietAction>> = {};
  for (const category of CATEGORIES) {
    const v = value[category];
    if (v === undefined) continue;
    if (typeof v === 'string' && QUIET_ACTIONS.includes(v)) out[category] = v as QuietAction;
    else issues.add(`quietHours.actions.${category}`, 'must be "suppress" or "defer"');
  }
  return out;
}

import { nextLocalHour } from './quiet-hours.ts';
import { Category, type Preferences, type TenantId, type UserId } from './types.ts';
import { type Issues, isPlainObject, rejectUnknownKeys } from './validate.ts';

/**
 * Email digests: a category whose email cadence is hourly or daily sends no email per
 * notification; one email per (user, period) lists the period's unread inbox items instead.
 * Pure rules: the cadence preference, the period a notification falls in, and the keys.
 */

/** How a category's email goes out. */
export const EmailCadence = { Immediate: 'immediate', Hourly: 'hourly', Daily: 'daily' } as const;
export type EmailCadence = (typeof EmailCadence)[keyof typeof EmailCadence];
/** The cadences that gather email into a digest. */
export type DigestCadence = Exclude<EmailCadence, 'immediate'>;

/** The categories that may take a cadence: every one but `critical`, which is always immediate. */
export type DigestCategory = Exclude<Category, 'critical'>;
export const DIGEST_CATEGORIES: readonly DigestCategory[] = [
  Category.Social,
  Category.Content,
  Category.Mention,
];

/** A user's cadence per category; a category not named is immediate. */
export type EmailCadences = Readonly<Partial<Record<DigestCategory, EmailCadence>>>;

/** The daily digest's local hour when the user chose none. */
export const DEFAULT_DIGEST_HOUR = 9;

const HOUR_MS = 3_600_000;
/**
 * Longer than any local day (23 to 25 hours across DST), shorter than two: the local digest hour
 * that follows `end − 30 h` is the one before `end`.
 */
const MORE_THAN_A_DAY_MS = 30 * HOUR_MS;

const CADENCES: readonly string[] = Object.values(EmailCadence);
const DIGEST_CATEGORY_KEYS: ReadonlySet<string> = new Set(DIGEST_CATEGORIES);

/** The cadence of `category`'s email for this user: `critical` is always immediate. */
export function emailCadenceOf(prefs: Preferences, category: Category): EmailCadence {
  if (category === Category.Critical) return EmailCadence.Immediate;
  return prefs.emailCadence?.[category] ?? EmailCadence.Immediate;
}

/** A digest period: the notifications created in [start, end) go in the digest sent at `end`. */
export interface DigestPeriod {
  readonly cadence: DigestCadence;
  /** Epoch ms, inclusive. */
  readonly start: number;
  /** Epoch ms, exclusive: when the digest is due. */
  readonly end: number;
}

/**
 * The period of a notification created at `at`: hourly, the UTC hour it falls in (due at that
 * hour's end); daily, from the user's previous local `digestHour` to the next one (23, 24 or 25
 * hours across DST; an hour a spring-forward skips starts at the end of the gap). The period is
 * the notification's, not the moment its job is read: a job read late still belongs to the digest
 * that lists its item. Throws ValidationError for an unknown timezone.
 */
export function digestPeriod(
  cadence: DigestCadence,
  at: number,
  timezone: string,
  digestHour: number = DEFAULT_DIGEST_HOUR,
): DigestPeriod {
  if (cadence === EmailCadence.Hourly) {
    const start = Math.floor(at / HOUR_MS) * HOUR_MS;
    return { cadence, start, end: start + HOUR_MS };
  }
  const end = nextLocalHour(timezone, digestHour, at);
  const start = nextLocalHour(timezone, digestHour, end - MORE_THAN_A_DAY_MS);
  return { cadence, start, end };
}

/** One pending digest: what the schedule holds until the digest is sent. */
export interface DigestEntry {
  readonly tenantId: TenantId;
  readonly userId: UserId;
  readonly cadence: DigestCadence;
  /** Epoch ms the period starts (inclusive). */
  readonly periodStart: number;
  /** Epoch ms the period ends: when the digest is due. */
  readonly dueAt: number;
}

/** The pending digest of a user's period. */
export function digestEntry(tenantId: TenantId, userId: UserId, period: DigestPeriod): DigestEntry {
  return { tenantId, userId, cadence: period.cadence, periodStart: period.start, dueAt: period.end };
}

/** The period's name in keys and audit records: `daily@2026-12-08T08:00:00.000Z`. */
export function digestPeriodId(entry: Pick<DigestEntry, 'cadence' | 'dueAt'>): string {
  return `${entry.cadence}@${new Date(entry.dueAt).toISOString()}`;
}

/**
 * Dedup key of one digest email: (tenant, user, period). One claim per key makes the digest
 * effectively-once whatever the schedule returns twice or a sender retries.
 */
export function digestKey(entry: DigestEntry): string {
  return `${entry.tenantId}#digest#${entry.userId}#${digestPeriodId(entry)}`;
}

/** `emailCadence` of a preferences body: category → cadence, `critical` refused. */
export function checkEmailCadences(issues: Issues, value: unknown): EmailCadences | undefined {
  if (!isPlainObject(value)) {
    issues.add('emailCadence', 'must be an object of category → "immediate" | "hourly" | "daily"');
    return undefined;
  }
  if (Object.hasOwn(value, Category.Critical)) {
    issues.add('emailCadence.critical', 'critical email is always immediate: it takes no cadence');
  }
  rejectUnknownKeys(
    issues,
    Object.fromEntries(Object.entries(value).filter(([k]) => k !== Category.Critical)),
    DIGEST_CATEGORY_KEYS,
    'emailCadence',
  );
  const out: Partial<Record<DigestCategory, EmailCadence>> = {};
  for (const category of DIGEST_CATEGORIES) {
    const v = value[category];
    if (v === undefined) continue;
    if (typeof v === 'string' && CADENCES.includes(v)) out[category] = v as EmailCadence;
    else issues.add(`emailCadence.${category}`, 'must be "immediate", "hourly" or "daily"');
  }
  return out;
}

/** `digestHour` of a preferences body: a whole local hour, 0–23. */
export function checkDigestHour(issues: Issues, value: unknown): number | undefined {
  if (Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 23) return value as number;
  issues.add('digestHour', 'must be an integer hour 0..23 (local time)');
  return undefined;
}

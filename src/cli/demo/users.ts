import { createHash } from 'node:crypto';
import type { Platform, Preferences, QuietHours } from '../../domain/types.ts';
import type { DeviceRegistration } from '../../ports/devices.ts';
import type { EmailMessage, EmailResult, PushMessage, PushResult } from '../../ports/transports.ts';
import { seededRandom } from './random.ts';

/** IANA zones the demo's users live in, whole, half- and quarter-hour offsets included. */
const TIMEZONES = [
  'UTC',
  'Europe/London',
  'Europe/Paris',
  'Europe/Helsinki',
  'Europe/Moscow',
  'Africa/Lagos',
  'Africa/Nairobi',
  'Asia/Dubai',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Asia/Shanghai',
  'Asia/Tokyo',
  'Australia/Adelaide',
  'Australia/Sydney',
  'Pacific/Auckland',
  'Pacific/Honolulu',
  'America/Anchorage',
  'America/Los_Angeles',
  'America/Denver',
  'America/Chicago',
  'America/New_York',
  'America/Sao_Paulo',
  'America/St_Johns',
  'Atlantic/Azores',
] as const;

/** Quiet windows, one in six suppressing (not deferring) social and content pushes. */
const QUIET: readonly (QuietHours | undefined)[] = [
  { start: '22:00', end: '07:00' },
  { start: '23:30', end: '06:30' },
  { start: '21:00', end: '08:00', actions: { content: 'suppress', social: 'suppress' } },
  { start: '12:00', end: '14:00' },
  { start: '00:00', end: '09:00', actions: { content: 'suppress', social: 'suppress', mention: 'suppress' } },
  undefined,
  undefined,
];

/** The id of active user `i`: they follow authors, have preferences, devices, addresses. */
export const userId = (i: number): string => `u${i}`;
/** A regular author. */
export const authorId = (j: number): string => `a${j}`;
/** A celebrity follower who is not an active user (no preferences, no devices). */
export const passiveId = (i: number): string => `f${i}`;
export const CELEBRITY_ID = 'celebrity';

/** Everything the demo seeds about one active user. */
export interface DemoUser {
  readonly prefs: Preferences | undefined;
  readonly devices: readonly DeviceRegistration[];
}

/** User `i` of the tenant, the same for the same seed whatever order users are built in. */
export function demoUser(tenantId: string, seed: number, i: number, at: number): DemoUser {
  const random = seededRandom(Math.imul(seed ^ 0x9e3779b9, 2654435761) ^ i);
  const id = userId(i);
  const hasPrefs = random() < 0.95;
  const timezone = TIMEZONES[Math.floor(random() * TIMEZONES.length)]!;
  const push = random() < 0.85;
  const email = random() < 0.45;
  const address = email && random() < 0.9;
  const quietHours = QUIET[Math.floor(random() * QUIET.length)];
  const socialOffPush = random() < 0.05;
  const deviceCount = pickDeviceCount(random());
  const devices: DeviceRegistration[] = [];
  for (let k = 0; k < deviceCount; k++) {
    const platform: Platform = random() < 0.55 ? 'apns' : 'fcm';
    devices.push({
      tenantId,
      userId: id,
      token: deviceToken(seed, id, k, platform),
      platform,
      registeredAt: at,
    });
  }
  const prefs: Preferences | undefined = hasPrefs
    ? {
        tenantId,
        userId: id,
        timezone,
        consent: { push, email },
        channels: {},
        categories: socialOffPush ? { social: { push: false } } : {},
        ...(address ? { email: `${id}@example.test` } : {}),
        ...(quietHours ? { quietHours } : {}),
        updatedAt: at,
      }
    : undefined;
  return { prefs, devices };
}

function pickDeviceCount(r: number): number {
  if (r < 0.08) return 0;
  return r < 0.75 ? 1 : 2;
}

function deviceToken(seed: number, user: string, k: number, platform: Platform): string {
  const hex = createHash('sha256').update(`${seed}:${user}:${k}`).digest('hex');
  // APNs tokens are 64 hex chars; FCM registration tokens are longer and not hex.
  return platform === 'apns' ? hex : `fcm-${hex}${hex.slice(0, 32)}`;
}

/**
 * Users whose first device's token is dead at the provider: about one in 200 users. Each follows
 * one quiet author (see `isQuietAuthor`) and nothing else, so each dead token is tried by exactly
 * one job and the demo's totals do not depend on which consumer deactivates it first.
 */
export const badUserId = (i: number): string => `b${i}`;
export const badUserCount = (activeUsers: number): number => Math.max(3, Math.round(activeUsers / 200));

/** Authors who post once and do nothing else: the ones bad-token users follow. */
export const isQuietAuthor = (j: number): boolean => j % 10 === 0;

/** Bad-token user `i`: push consent, no quiet hours, a dead token, and for half a good one. */
export function badTokenUser(tenantId: string, seed: number, i: number, at: number): DemoUser {
  const id = badUserId(i);
  const devices: DeviceRegistration[] = [
    { tenantId, userId: id, token: badToken(seed, id), platform: 'apns', registeredAt: at },
  ];
  if (i % 2 === 0) {
    devices.push({
      tenantId,
      userId: id,
      token: deviceToken(seed, id, 1, 'fcm'),
      platform: 'fcm',
      registeredAt: at,
    });
  }
  return {
    prefs: {
      tenantId,
      userId: id,
      timezone: 'UTC',
      consent: { push: true },
      channels: {},
      categories: {},
      updatedAt: at,
    },
    devices,
  };
}

function badToken(seed: number, user: string): string {
  return `bad-${createHash('sha256').update(`bad:${seed}:${user}`).digest('hex')}`;
}

/** Dead tokens start with `bad-`, which no seeded APNs token (hex) or FCM token (`fcm-`) does. */
export function isBadToken(token: string): boolean {
  return token.startsWith('bad-');
}

/** About one address in 100 bounces for good. */
export function isBadAddress(address: string): boolean {
  const digest = createHash('sha256').update(`bad-address:${address}`).digest();
  return digest.readUInt32BE(0) % 100 === 0;
}

/** The demo's injected push fault: dead tokens are rejected and their devices deactivated. */
export function demoPushFault(message: PushMessage): PushResult | undefined {
  if (!isBadToken(message.token)) return undefined;
  return { status: 'rejected', reason: 'BadDeviceToken', deactivateDevice: true };
}

/** The demo's injected email fault: a few addresses do not exist. */
export function demoEmailFault(message: EmailMessage): EmailResult | undefined {
  return isBadAddress(message.to) ? { status: 'rejected', reason: 'MailboxDoesNotExist' } : undefined;
}

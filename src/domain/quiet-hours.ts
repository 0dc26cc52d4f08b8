import type { Category, QuietHours } from './types.ts';

export type QuietDecision =
  | { readonly kind: 'send' }
  | { readonly kind: 'suppress' }
  /** Deliver at `until` (epoch ms): the end of the window, computed in the user's timezone. */
  | { readonly kind: 'defer'; readonly until: number };

/**
 * Whether push for `category` may go out at `now` for a user in `timezone`. Windows may cross
 * midnight; DST-correct (a window end that falls in a skipped hour ends at the first valid local
 * time after it). `critical` always sends. Cheap on the hot path: timezone offsets are cached.
 */
export function quietHoursDecision(
  quietHours: QuietHours | undefined,
  timezone: string,
  category: Category,
  now: number,
): QuietDecision {
  throw new Error(`not implemented ${quietHours} ${timezone} ${category} ${now}`);
}

/** True for a timezone the runtime knows (IANA name). */
export function isValidTimezone(timezone: string): boolean {
  throw new Error(`not implemented ${timezone}`);
}

/** Parses "HH:MM" (00:00–23:59) into minutes of the day; throws ValidationError. */
export function parseClockTime(value: string): number {
  throw new Error(`not implemented ${value}`);
}

import { ValidationError } from '../../domain/errors.ts';
import type { DigestEntry } from '../../ports/digest-schedule.ts';
import { requireArray, requireUser } from './input.ts';

/**
 * Argument checks of the DigestSchedule port, shared by its embedded and AWS adapters so both
 * refuse the same input with the same path and message.
 */

/** Throws a ValidationError unless every entry names a user, a digest cadence and a sane period. */
export function checkDigestEntries(entries: readonly DigestEntry[]): void {
  requireArray(entries, 'entries');
  entries.forEach((entry, i) => {
    const path = `entries[${i}]`;
    requireUser(entry, path);
    if (entry.cadence !== 'hourly' && entry.cadence !== 'daily') {
      throw new ValidationError([{ path: `${path}.cadence`, message: 'must be "hourly" or "daily"' }]);
    }
    if (!isEpochMs(entry.dueAt)) {
      throw new ValidationError([{ path: `${path}.dueAt`, message: 'must be epoch ms' }]);
    }
    if (!isEpochMs(entry.periodStart) || entry.periodStart >= entry.dueAt) {
      throw new ValidationError([{ path: `${path}.periodStart`, message: 'must be epoch ms before dueAt' }]);
    }
  });
}

/** Throws a ValidationError unless `now` is epoch ms and `limit` an integer 1..1000. */
export function checkDueQuery(now: number, limit: number): void {
  if (!isEpochMs(now)) throw new ValidationError([{ path: 'now', message: 'must be epoch ms' }]);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new ValidationError([{ path: 'limit', message: 'must be an integer from 1 to 1000' }]);
  }
}

function isEpochMs(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

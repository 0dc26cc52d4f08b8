import { ValidationError } from '../../domain/errors.ts';

/**
 * Argument checks of the Tenants port, shared by its embedded and AWS adapters so both refuse a
 * bad time with the same path and message.
 */

/** Throws a ValidationError unless `at` is a finite number (epoch ms). */
export function requireTime(at: unknown): void {
  if (typeof at !== 'number' || !Number.isFinite(at)) {
    throw new ValidationError([{ path: 'at', message: 'must be a finite number' }]);
  }
}

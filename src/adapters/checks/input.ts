import { ValidationError } from '../../domain/errors.ts';
import type { UserKey } from '../../domain/types.ts';

/**
 * The argument checks every adapter runs before it touches its store. They live in
 * `src/adapters/checks`, outside both adapter families, because they check the port's contract,
 * not a store's: the embedded and the
 * AWS adapter of a port must refuse the same input with the same ValidationError, path and
 * message, and the contract suites assert exactly that.
 */

/** Throws a ValidationError unless `value` is a non-empty string. */
export function requireText(value: unknown, path: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ValidationError([{ path, message: 'must be a non-empty string' }]);
  }
}

/** Throws a ValidationError unless `value` is an integer ≥ 1. */
export function requireLimit(value: unknown, path = 'limit'): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ValidationError([{ path, message: 'must be an integer ≥ 1' }]);
  }
}

/** Throws a ValidationError unless `value` is an integer in [min, max]. */
export function requireInteger(
  value: unknown,
  path: string,
  min: number,
  max: number,
): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError([{ path, message: `must be an integer from ${min} to ${max}` }]);
  }
}

/** Throws a ValidationError unless both parts of the user key are non-empty strings. */
export function requireUser(user: UserKey, path = 'user'): void {
  requireText(user?.tenantId, `${path}.tenantId`);
  requireText(user?.userId, `${path}.userId`);
}

/** Throws a ValidationError unless `value` is an array. */
export function requireArray(value: unknown, path: string): asserts value is readonly unknown[] {
  if (!Array.isArray(value)) throw new ValidationError([{ path, message: 'must be an array' }]);
}

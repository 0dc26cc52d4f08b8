import { FanoutError, StoreUnavailableError, ValidationError } from '../../domain/errors.ts';
import type { UserKey } from '../../domain/types.ts';

/**
 * Runs one synchronous store step and turns anything SQLite throws (closed database, disk full,
 * busy) into a StoreUnavailableError, so callers decide on our codes and keep the cause. Our own
 * errors (a ValidationError thrown inside a transaction) pass through unchanged.
 */
export function storeStep<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof FanoutError) throw err;
    throw new StoreUnavailableError(`${what} failed`, { cause: err });
  }
}

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

/** Throws a ValidationError unless both parts of the user key are non-empty strings. */
export function requireUser(user: UserKey, path = 'user'): void {
  requireText(user?.tenantId, `${path}.tenantId`);
  requireText(user?.userId, `${path}.userId`);
}

/** Throws a ValidationError unless `value` is an array. */
export function requireArray(value: unknown, path: string): asserts value is readonly unknown[] {
  if (!Array.isArray(value)) throw new ValidationError([{ path, message: 'must be an array' }]);
}

/**
 * JSON of a free-form payload, or null when there is none. An empty object is stored as null:
 * most events carry no data, and skipping the stringify keeps the fan-out hot path lean.
 */
export function payloadJson(data: Readonly<Record<string, unknown>> | undefined): string | null {
  if (data === undefined || data === null) return null;
  for (const _ in data) return JSON.stringify(data);
  return null;
}

/** The payload back from its stored JSON; undefined when none was stored. */
export function parsePayload(json: unknown): Record<string, unknown> | undefined {
  return typeof json === 'string' ? (JSON.parse(json) as Record<string, unknown>) : undefined;
}

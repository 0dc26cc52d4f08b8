import { FanoutError, StoreUnavailableError } from '../../domain/errors.ts';

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

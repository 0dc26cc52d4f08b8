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

/** `storeStep` for a step that awaits (a transaction that waits for the write lock). */
export async function storeStepAsync<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof FanoutError) throw err;
    throw new StoreUnavailableError(`${what} failed`, { cause: err });
  }
}

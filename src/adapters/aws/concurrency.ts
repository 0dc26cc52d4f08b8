/**
 * Bounded concurrency for the AWS adapters. Each SDK call is one network round trip, so running a
 * handful at once cuts latency, while a bound keeps a large batch from tripping throttling. Kept
 * in one place so every adapter fails the same way when one of its calls fails.
 */

/**
 * Runs `fn` over `items` with at most `limit` in flight. Stops starting new calls after the first
 * failure, but waits for every started call before it rejects (with the first error), so callers
 * can clean up knowing nothing is still running.
 */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (next < items.length && errors.length === 0) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
}

/**
 * Runs `fn` over `items` with at most `limit` calls in flight and returns the results in input
 * order; rejects with the first failure as soon as it happens (the calls are idempotent reads and
 * writes, so nothing waits on the ones still running).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

import { StoreUnavailableError } from '../../domain/errors.ts';
import { fullJitter } from '../../lib/backoff.ts';
import { sleep as realSleep } from '../../lib/sleep.ts';
import { isRetryableAwsError, translateAwsError } from './errors.ts';

/** How a batch call retries what AWS left unprocessed. */
export interface RetryPolicy {
  /** Attempts in all, the first included. @default 8 */
  readonly maxAttempts?: number;
  /** First backoff; doubles per attempt, with full jitter. @default 25 */
  readonly baseDelayMs?: number;
  /** @default 2000 */
  readonly maxDelayMs?: number;
  /** Injected so tests run without waiting. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Injected so tests are deterministic. @default Math.random */
  readonly random?: () => number;
}

/**
 * Sends `items` in one batch call and re-sends only the items the call reports as failed
 * (`UnprocessedItems`, `FailedRecordCount`, `Failed` entries), with jittered exponential backoff.
 * A throttled or 5xx call is retried whole. Gives up with StoreUnavailableError, so the caller's
 * unit of work (a Kinesis or SQS batch) is retried by its event source and nothing is lost.
 *
 * @param send sends one batch and resolves to the items that must be sent again (empty when done).
 */
export async function sendWithRetry<T>(
  what: string,
  items: readonly T[],
  send: (batch: readonly T[]) => Promise<readonly T[]>,
  policy: RetryPolicy = {},
): Promise<void> {
  const maxAttempts = policy.maxAttempts ?? 8;
  const sleep = policy.sleep ?? realSleep;
  let pending = items;
  for (let attempt = 1; pending.length > 0; attempt++) {
    try {
      pending = await send(pending);
    } catch (err) {
      if (!isRetryableAwsError(err) || attempt >= maxAttempts) throw translateAwsError(err, what);
    }
    if (pending.length === 0) return;
    if (attempt >= maxAttempts) {
      throw new StoreUnavailableError(
        `${what}: ${pending.length} item(s) still unprocessed after ${attempt} attempts`,
      );
    }
    await sleep(retryDelay(attempt, policy));
  }
}

/** The wait before retry number `attempt` under `policy`: 25 ms doubling to 2 s, full jitter, by default. */
export function retryDelay(attempt: number, policy: RetryPolicy = {}): number {
  return fullJitter(
    attempt,
    { baseMs: policy.baseDelayMs ?? 25, capMs: policy.maxDelayMs ?? 2_000 },
    policy.random,
  );
}

/** Splits `items` into chunks of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * One SDK call, re-sent whole while AWS answers with throttling or a 5xx (the same backoff as
 * batch retries), anything else translated to our errors with the SDK error as `cause`.
 */
export async function retrying<T>(what: string, call: () => Promise<T>, policy?: RetryPolicy): Promise<T> {
  let result: T | undefined;
  await sendWithRetry(
    what,
    [call],
    async ([only]) => {
      result = await only!();
      return [];
    },
    policy,
  );
  return result as T;
}

import { sleep } from '../lib/sleep.ts';

/**
 * Token bucket: at most `perSecond` on average, bursts up to `burst`. The local stand-in for the
 * SQS event source's maximum concurrency, which is the rate control in AWS.
 */
export class RateLimiter {
  readonly #perSecond: number;
  readonly #burst: number;
  #tokens: number;
  #last: number;
  readonly #now: () => number;

  constructor(
    perSecond: number,
    burst = Math.max(1, perSecond),
    now: () => number = () => performance.now(),
  ) {
    if (!(perSecond > 0)) throw new RangeError('perSecond must be > 0');
    this.#perSecond = perSecond;
    this.#burst = burst;
    this.#tokens = burst;
    this.#now = now;
    this.#last = now();
  }

  /** Waits until `n` tokens are available and takes them. */
  async take(n: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      this.#refill();
      if (this.#tokens >= Math.min(n, this.#burst)) {
        this.#tokens -= n;
        return;
      }
      if (signal?.aborted) return;
      const missing = Math.min(n, this.#burst) - this.#tokens;
      await sleep(Math.ceil((missing / this.#perSecond) * 1000), signal);
    }
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#perSecond);
    this.#last = now;
  }
}

import { errorName } from '../lib/error-name.ts';
import { type Logger, silentLogger } from '../ports/logger.ts';
import type { Metrics, MetricsSnapshot } from './metrics.ts';

export interface MetricsHistoryOptions {
  readonly metrics: Pick<Metrics, 'snapshot'>;
  /** Samples kept; the oldest is dropped past it. @default 300 (five minutes at one a second) */
  readonly capacity?: number;
  /** Time between two samples. @default 1000 */
  readonly intervalMs?: number;
  readonly logger?: Logger;
}

/**
 * The last few minutes of metrics snapshots, one a second, in a fixed-size ring, so a page that
 * opens the ops stream draws its charts from the recent past instead of from empty. Memory is
 * bounded by `capacity` snapshots (about 2 KB each). Samples are taken one at a time, the next
 * timed from the end of the last, so a slow queue read never piles reads up.
 */
export class MetricsHistory {
  readonly #metrics: Pick<Metrics, 'snapshot'>;
  readonly #capacity: number;
  readonly #intervalMs: number;
  readonly #logger: Logger;
  readonly #ring: MetricsSnapshot[] = [];
  #next = 0;
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(opts: MetricsHistoryOptions) {
    this.#metrics = opts.metrics;
    this.#capacity = Math.max(1, Math.floor(opts.capacity ?? 300));
    this.#intervalMs = opts.intervalMs ?? 1000;
    this.#logger = opts.logger ?? silentLogger;
  }

  /** Starts sampling; a second call does nothing. The timer never keeps the process alive. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.sample();
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Takes one sample now (and, while started, schedules the next). */
  async sample(): Promise<void> {
    try {
      this.#push(await this.#metrics.snapshot());
    } catch (err) {
      // A gap in the history, not a failure: the live stream reports unavailability itself.
      this.#logger.warn('ops metrics sample failed', { error: errorName(err) });
    }
    if (this.#running) {
      this.#timer = setTimeout(() => void this.sample(), this.#intervalMs);
      this.#timer.unref();
    }
  }

  /** The samples kept, oldest first. */
  samples(): MetricsSnapshot[] {
    if (this.#ring.length < this.#capacity) return [...this.#ring];
    return [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
  }

  #push(snapshot: MetricsSnapshot): void {
    if (this.#ring.length < this.#capacity) this.#ring.push(snapshot);
    else this.#ring[this.#next] = snapshot;
    this.#next = (this.#next + 1) % this.#capacity;
  }
}

import { errorName } from '../lib/error-name.ts';
import { sleep } from '../lib/sleep.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';

/** One space-reclaiming job: deletes what has expired at `now`, returns how many rows it removed. */
export interface HousekeepingTask {
  readonly name: string;
  run(now: number): Promise<number>;
}

export interface HousekeeperOptions {
  readonly tasks: readonly HousekeepingTask[];
  readonly clock: Clock;
  readonly logger: Logger;
  /** Pause between rounds. @default 10 minutes */
  readonly intervalMs?: number;
}

/** Runs every task once per interval, one after the other, until stopped. A failing task is logged and tried next round. */
export class Housekeeper {
  readonly #o: HousekeeperOptions;
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(opts: HousekeeperOptions) {
    this.#o = opts;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Waits for the task in progress (each deletes in small transactions) and stops. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }

  /** One round of every task; what each removed, by name. */
  async runOnce(): Promise<Record<string, number>> {
    const removed: Record<string, number> = {};
    for (const task of this.#o.tasks) {
      try {
        removed[task.name] = await task.run(this.#o.clock.now());
      } catch (err) {
        this.#o.logger.warn('housekeeping task failed', { task: task.name, error: errorName(err) });
      }
    }
    return removed;
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      const removed = await this.runOnce();
      this.#o.logger.info('housekeeping round', removed);
      await sleep(this.#o.intervalMs ?? 10 * 60 * 1000, signal);
    }
  }
}

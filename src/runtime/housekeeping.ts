import { errorName } from '../lib/error-name.ts';
import type { Clock } from '../ports/clock.ts';
import type { Logger } from '../ports/logger.ts';
import { Periodic } from './periodic.ts';

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
  readonly #periodic: Periodic;

  constructor(opts: HousekeeperOptions) {
    this.#o = opts;
    this.#periodic = new Periodic(
      async () => {
        this.#o.logger.info('housekeeping round', await this.runOnce());
      },
      opts.intervalMs ?? 10 * 60 * 1000,
    );
  }

  start(): void {
    this.#periodic.start();
  }

  /** Waits for the task in progress (each deletes in small transactions) and stops. */
  stop(): Promise<void> {
    return this.#periodic.stop();
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
}

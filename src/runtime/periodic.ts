import { sleep } from '../lib/sleep.ts';

/**
 * A round of work run at start and then `intervalMs` after each round ends, until stopped: the
 * local stand-in for a scheduled function. The round must not throw (it logs its own failures).
 */
export class Periodic {
  readonly #round: () => Promise<void>;
  readonly #intervalMs: number;
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(round: () => Promise<void>, intervalMs: number) {
    this.#round = round;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Waits for the round in progress and stops. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      await this.#round();
      await sleep(this.#intervalMs, signal);
    }
  }
}

import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { DEFAULT_DIGEST_WINDOW_MS, digestWindow } from '../../src/domain/digest.ts';
import type { DeliveryQueue } from '../../src/ports/delivery-queue.ts';
import type { PushMessage } from '../../src/ports/transports.ts';
import { consumeRound, type TestClock } from './world.ts';

/** A push as the device got it, with the (test) time it was sent. */
export interface TimedPush {
  readonly at: number;
  readonly collapseId: string;
  readonly body: string;
}

/**
 * Drives the push side of a like storm on a test clock: after every fan-out batch the clock moves
 * `msPerBatch`, and every `roundEvery` batches the push consumer takes what is ready. `settle`
 * then moves the clock from window end to window end until every flush has run.
 */
export class DigestStorm {
  readonly pushes: TimedPush[] = [];
  readonly #queue: DeliveryQueue;
  readonly #consume: (event: SQSEvent) => Promise<SQSBatchResponse>;
  readonly #clock: TestClock;
  readonly #msPerBatch: number;
  readonly #roundEvery: number;

  constructor(opts: {
    queue: DeliveryQueue;
    consume: (event: SQSEvent) => Promise<SQSBatchResponse>;
    clock: TestClock;
    msPerBatch: number;
    roundEvery: number;
  }) {
    this.#queue = opts.queue;
    this.#consume = opts.consume;
    this.#clock = opts.clock;
    this.#msPerBatch = opts.msPerBatch;
    this.#roundEvery = opts.roundEvery;
  }

  /** The transport hook: records each push the owner's device gets. */
  record(userId: string): (m: PushMessage) => undefined {
    return (m) => {
      if (m.userId === userId)
        this.pushes.push({ at: this.#clock.now(), collapseId: m.collapseId, body: m.body });
      return undefined;
    };
  }

  /** For `runStorm`: after each fan-out batch. */
  readonly afterBatch = async (n: number): Promise<void> => {
    this.#clock.advance(this.#msPerBatch);
    if ((n + 1) % this.#roundEvery === 0) await this.#rounds();
  };

  /** Runs every ready job, then every flush, window end after window end. */
  async settle(windowMs = DEFAULT_DIGEST_WINDOW_MS): Promise<void> {
    await this.#rounds();
    for (let i = 0; i < 20; i++) {
      const depth = await this.#queue.depth();
      if (depth.visible + depth.inFlight + depth.delayed === 0) return;
      this.#clock.set((digestWindow(this.#clock.now(), windowMs) + 1) * windowMs);
      await this.#rounds();
    }
    throw new Error('the push queue did not settle');
  }

  /** Pushes per digest window of their send time: at most one each is the promise. */
  perWindow(windowMs = DEFAULT_DIGEST_WINDOW_MS): number[] {
    const counts = new Map<number, number>();
    for (const p of this.pushes) {
      const w = digestWindow(p.at, windowMs);
      counts.set(w, (counts.get(w) ?? 0) + 1);
    }
    return [...counts.values()];
  }

  async #rounds(): Promise<void> {
    for (;;) {
      const round = await consumeRound(this.#queue, this.#consume, {
        max: 1000,
        visibilityTimeoutMs: 30_000,
      });
      if (round.messages.length === 0) return;
      if (round.response.batchItemFailures.length > 0) throw new Error('a push batch failed');
    }
  }
}

import type { Channel, DeliveryJob } from '../domain/types.ts';
import type { DeliveryQueue } from '../ports/delivery-queue.ts';

/** The part of a delivery queue fan-out writes to. */
export type JobSink = Pick<DeliveryQueue, 'sendBatch'>;

/**
 * Delivery jobs of several events, held per channel and sent together: most authors have a
 * handful of followers, so one event's jobs fill a fraction of an SQS batch of 10, and sending per
 * event cost about 1.7 times the requests (measured by the aws-cost benchmark). The fan-out handler
 * flushes before it reports a batch done, and never reports done an event whose jobs are
 * still held.
 */
export class JobBuffer {
  readonly #queues: Readonly<Record<Channel, DeliveryQueue>>;
  readonly #held: Record<Channel, DeliveryJob[]> = { push: [], email: [] };
  /** Sinks to hand to the fan-out in place of the queues. */
  readonly sinks: Readonly<Record<Channel, JobSink>>;

  constructor(queues: Readonly<Record<Channel, DeliveryQueue>>) {
    this.#queues = queues;
    const sink = (channel: Channel): JobSink => ({
      sendBatch: async (jobs, opts) => {
        // Delayed jobs keep their own call; fan-out sends none, but the sink must not drop a delay.
        if (opts?.delaySeconds !== undefined) return this.#queues[channel].sendBatch(jobs, opts);
        this.#held[channel].push(...jobs);
      },
    });
    this.sinks = { push: sink('push'), email: sink('email') };
  }

  /** Jobs held now, over every channel. */
  get size(): number {
    return this.#held.push.length + this.#held.email.length;
  }

  /** Where the held jobs end now, to roll a failed event's jobs back to. */
  mark(): Readonly<Record<Channel, number>> {
    return { push: this.#held.push.length, email: this.#held.email.length };
  }

  /** Drops the jobs held since `mark` (a failed event's; its retry makes them again). */
  rollback(mark: Readonly<Record<Channel, number>>): void {
    this.#held.push.length = mark.push;
    this.#held.email.length = mark.email;
  }

  /** Sends everything held; on failure the jobs stay held, so nothing is lost silently. */
  async flush(): Promise<void> {
    for (const channel of ['push', 'email'] as const) {
      const jobs = this.#held[channel];
      if (jobs.length === 0) continue;
      await this.#queues[channel].sendBatch(jobs);
      this.#held[channel] = [];
    }
  }
}

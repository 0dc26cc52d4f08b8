import type { Clock } from '../ports/clock.ts';
import { type DeliveryQueue, jobDelays } from '../ports/delivery-queue.ts';

/**
 * The delayed copies a channel's consumer puts back on its own queue to try a job again later,
 * and when the last of them becomes receivable. A consumer parks a job that way when the job
 * cannot go now but has nothing scheduled about it: another attempt holds its dedup claim (Busy,
 * until the lease runs out; after a Redis outage, a claim whose answer timed out lands late and
 * its own retry meets it), a withdrawal waits for its original, a provider asked for Retry-After.
 * Such a copy is work in progress: a drain that stopped before it is received would count the
 * delivery as missing. Copies whose job names a later `notBefore` (quiet hours, a digest window's
 * flush, a deferral re-sent because SQS delays at most 15 minutes) are scheduled, not retried:
 * their time comes from the job, and a drain rightly leaves them waiting.
 *
 * Due times are real time (performance.now), as the queue's delays are, and on the timeline
 * `SqsPoller.isIdle` compares them with; `notBefore` is judged on the pipeline's clock, as the
 * consumers judge it.
 */
export class DelayedRetries {
  readonly #clock: Clock;
  #dueAt = Number.NEGATIVE_INFINITY;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** When (performance.now) the last retry sent so far becomes receivable; -Infinity if none. */
  get dueAt(): number {
    return this.#dueAt;
  }

  /** Whether a retry sent so far may still be waiting out its delay. */
  pending(): boolean {
    return performance.now() < this.#dueAt;
  }

  /** `queue` for its consumer: the same queue, noting the due time of every retry sent on it. */
  watch(queue: DeliveryQueue): DeliveryQueue {
    const record = (jobs: Parameters<DeliveryQueue['sendBatch']>[0], delays: readonly number[]) => {
      const at = this.#clock.now();
      let longest = 0;
      jobs.forEach((job, i) => {
        const scheduled = job.notBefore !== undefined && job.notBefore > at;
        if (!scheduled) longest = Math.max(longest, delays[i] ?? 0);
      });
      // Taken once the send is durable, so the due time is never earlier than the queue's own.
      if (longest > 0) this.#dueAt = Math.max(this.#dueAt, performance.now() + longest * 1000);
    };
    return {
      channel: queue.channel,
      async sendBatch(jobs, opts) {
        await queue.sendBatch(jobs, opts);
        if (opts?.delaySeconds !== undefined) record(jobs, jobDelays(jobs.length, opts.delaySeconds));
      },
      sendRaw: (bodies, attributes) => queue.sendRaw(bodies, attributes),
      receive: (opts) => queue.receive(opts),
      deleteBatch: (handles) => queue.deleteBatch(handles),
      changeVisibility: (handle, timeoutMs) => queue.changeVisibility(handle, timeoutMs),
      depth: () => queue.depth(),
      listDeadLetters: (limit, opts) => queue.listDeadLetters(limit, opts),
      redriveDeadLetters: () => queue.redriveDeadLetters(),
    };
  }
}

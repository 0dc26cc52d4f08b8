import { ValidationError } from '../domain/errors.ts';
import type { Channel, DeliveryJob } from '../domain/types.ts';

/** A message as received; mirrors an SQS message. */
export interface QueueMessage {
  readonly messageId: string;
  /** Changes with every receive; only the latest one deletes or changes visibility. */
  readonly receiptHandle: string;
  /**
   * The raw body: JSON of a DeliveryJob, a JSON array of 2 to {@link MAX_JOBS_PER_MESSAGE} of them
   * from an adapter that packs jobs (one SQS request for several), or anything a producer sent:
   * poison stays poison.
   */
  readonly body: string;
  /** 1 on the first receive. */
  readonly receiveCount: number;
  /** Epoch ms of the first receive. */
  readonly firstReceivedAt: number;
  /** Epoch ms it was sent. */
  readonly sentAt: number;
  /** Message attributes; always has `tenant_id` for jobs sent through `sendBatch`. */
  readonly attributes: Readonly<Record<string, string>>;
}

export interface ReceiveOptions {
  /** 1..10 on SQS; the embedded queue allows more. */
  readonly max: number;
  /** How long a received message stays invisible to other receivers. */
  readonly visibilityTimeoutMs: number;
}

export interface QueueDepth {
  /** Ready to receive. */
  readonly visible: number;
  /** Received and not yet deleted or timed out. */
  readonly inFlight: number;
  /** Sent with a delay that has not passed. */
  readonly delayed: number;
  /** In the dead-letter queue. */
  readonly deadLettered: number;
}

/** A message in the dead-letter queue. */
export interface DeadLetter {
  readonly messageId: string;
  readonly body: string;
  readonly receiveCount: number;
  /** Epoch ms it was moved to the DLQ. */
  readonly deadLetteredAt: number;
  readonly attributes: Readonly<Record<string, string>>;
  /**
   * Where a listing resumes after this letter (pass it as `after`); opaque. Absent on a queue that
   * cannot resume a listing: SQS hands out its dead letters in no fixed order.
   */
  readonly position?: string;
}

/** Where `listDeadLetters` starts. */
export interface ListDeadLettersOptions {
  /**
   * Lists only the dead letters that come after this `position` (from an earlier listing) in the
   * oldest-first order. A queue whose letters carry no position ignores it.
   */
  readonly after?: string;
}

/**
 * One channel's delivery queue (SQS Standard + redrive policy in AWS). At-least-once: a message
 * can be received more than once. After `maxReceiveCount` receives without a delete, the next
 * time it would become visible it moves to the dead-letter queue instead.
 */
export interface DeliveryQueue {
  readonly channel: Channel;
  /**
   * Durable once resolved. `delaySeconds` 0..900 as on SQS: one delay for every job, or one per
   * job in the same order (SQS takes a delay per batch entry, so jobs deferred to different times
   * still share one request).
   */
  sendBatch(
    jobs: readonly DeliveryJob[],
    opts?: { readonly delaySeconds?: number | readonly number[] },
  ): Promise<void>;
  /** Raw send, for redrive and for tests that need a poison message. */
  sendRaw(bodies: readonly string[], attributes?: Readonly<Record<string, string>>): Promise<void>;
  receive(opts: ReceiveOptions): Promise<QueueMessage[]>;
  /** Stale receipt handles are ignored (the message was received again by someone else). */
  deleteBatch(receiptHandles: readonly string[]): Promise<void>;
  /** Makes a received message visible again after `timeoutMs` (0 = now); backoff for retries. */
  changeVisibility(receiptHandle: string, timeoutMs: number): Promise<void>;
  depth(): Promise<QueueDepth>;
  /** Oldest first; from the oldest, or after a position an earlier listing gave. */
  listDeadLetters(limit: number, opts?: ListDeadLettersOptions): Promise<DeadLetter[]>;
  /** Moves every dead letter back to the queue with a fresh receive count; returns how many. */
  redriveDeadLetters(): Promise<number>;
}

/**
 * Most jobs one packed message carries. The consumers (handlers/job.ts) read any count up to it,
 * so a producer configured for fewer or more (up to it) needs no consumer change.
 */
export const MAX_JOBS_PER_MESSAGE = 100;

/** SQS's longest message delay. */
export const MAX_DELAY_SECONDS = 900;

/**
 * The delay of each of `count` jobs from `sendBatch`'s option, checked as every adapter must:
 * whole seconds in 0..900, and one per job when given as a list. Throws ValidationError.
 */
export function jobDelays(count: number, delaySeconds: number | readonly number[] | undefined): number[] {
  const check = (value: unknown, path: string): number => {
    if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > MAX_DELAY_SECONDS) {
      throw new ValidationError([{ path, message: `must be an integer from 0 to ${MAX_DELAY_SECONDS}` }]);
    }
    return value as number;
  };
  if (Array.isArray(delaySeconds)) {
    if (delaySeconds.length !== count) {
      throw new ValidationError([
        { path: 'delaySeconds', message: `must have one delay per job (${count})` },
      ]);
    }
    return delaySeconds.map((d, i) => check(d, `delaySeconds[${i}]`));
  }
  return new Array<number>(count).fill(check(delaySeconds ?? 0, 'delaySeconds'));
}

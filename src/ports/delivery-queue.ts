import type { Channel, DeliveryJob } from '../domain/types.ts';

/** A message as received; mirrors an SQS message. */
export interface QueueMessage {
  readonly messageId: string;
  /** Changes with every receive; only the latest one deletes or changes visibility. */
  readonly receiptHandle: string;
  /** The raw body (JSON of a DeliveryJob, or anything a producer sent: poison stays poison). */
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
}

/**
 * One channel's delivery queue (SQS Standard + redrive policy in AWS). At-least-once: a message
 * can be received more than once. After `maxReceiveCount` receives without a delete, the next
 * time it would become visible it moves to the dead-letter queue instead.
 */
export interface DeliveryQueue {
  readonly channel: Channel;
  /** Durable once resolved. `delaySeconds` 0..900 as on SQS. */
  sendBatch(jobs: readonly DeliveryJob[], opts?: { readonly delaySeconds?: number }): Promise<void>;
  /** Raw send, for redrive and for tests that need a poison message. */
  sendRaw(bodies: readonly string[], attributes?: Readonly<Record<string, string>>): Promise<void>;
  receive(opts: ReceiveOptions): Promise<QueueMessage[]>;
  /** Stale receipt handles are ignored (the message was received again by someone else). */
  deleteBatch(receiptHandles: readonly string[]): Promise<void>;
  /** Makes a received message visible again after `timeoutMs` (0 = now); backoff for retries. */
  changeVisibility(receiptHandle: string, timeoutMs: number): Promise<void>;
  depth(): Promise<QueueDepth>;
  /** Oldest first. */
  listDeadLetters(limit: number): Promise<DeadLetter[]>;
  /** Moves every dead letter back to the queue with a fresh receive count; returns how many. */
  redriveDeadLetters(): Promise<number>;
}

import { createHash } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { fullJitter } from '../lib/backoff.ts';
import { errorName } from '../lib/error-name.ts';
import { sleep } from '../lib/sleep.ts';
import type { DeliveryQueue, QueueMessage } from '../ports/delivery-queue.ts';
import type { Logger } from '../ports/logger.ts';
import { silentLogger } from '../ports/logger.ts';
import { RateLimiter } from './rate-limiter.ts';

export type SqsHandler = (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;

export interface SqsPollerOptions {
  readonly queue: DeliveryQueue;
  readonly handler: SqsHandler;
  /** Messages per handler call. SQS allows 10 per receive; Lambda batches up to 10,000. @default 10 */
  readonly batchSize?: number;
  /** Handler calls in flight at once: the event source's maximum concurrency. @default 2 */
  readonly concurrency?: number;
  /** Messages per second this channel may send; unlimited when undefined. */
  readonly maxPerSecond?: number;
  /**
   * Visibility timeout of a received batch. AWS advises six times the function timeout.
   * @default 180_000 (a 30 s consumer)
   */
  readonly visibilityTimeoutMs?: number;
  /**
   * Delay before a failed message is received again. On AWS the visibility timeout decides; here
   * the poller shortens it with ChangeMessageVisibility and backs off per receive count, so a
   * local run does not idle for minutes. @default 200 ms, doubling, capped at 10 s
   */
  readonly retryBaseMs?: number;
  /** Wait when the queue is empty. @default 20 ms */
  readonly idleMs?: number;
  readonly queueArn?: string;
  readonly logger?: Logger;
  /** Time source of the rate limiter, in ms (tests inject one to count tokens). @default performance.now */
  readonly now?: () => number;
}

/**
 * Drives an SQS handler from a DeliveryQueue the way a Lambda SQS event-source mapping does:
 * receive, invoke with an SQSEvent, delete what succeeded, leave `batchItemFailures` (or a
 * whole batch that threw) for redelivery; the queue's redrive policy moves a message to the DLQ
 * after its maximum receives.
 */
export class SqsPoller {
  readonly #o: Required<Omit<SqsPollerOptions, 'maxPerSecond' | 'now'>>;
  readonly #limiter: RateLimiter | undefined;
  readonly #abort = new AbortController();
  #workers: Promise<void>[] = [];
  #inFlight = 0;
  /**
   * When (performance.now) the latest receive that came back empty was asked for; undefined once
   * a receive brought messages. Only after an empty receive is the (costly) depth count worth
   * asking.
   */
  #emptySince: number | undefined;

  constructor(opts: SqsPollerOptions) {
    this.#o = {
      batchSize: 10,
      concurrency: 2,
      visibilityTimeoutMs: 180_000,
      retryBaseMs: 200,
      idleMs: 20,
      queueArn: `arn:aws:sqs:local:000000000000:fanout-${opts.queue.channel}`,
      logger: silentLogger,
      ...opts,
    };
    this.#limiter = opts.maxPerSecond
      ? new RateLimiter(opts.maxPerSecond, opts.batchSize ?? 10, opts.now)
      : undefined;
  }

  start(): void {
    for (let i = 0; i < this.#o.concurrency; i++) this.#workers.push(this.#work());
  }

  /** Finishes the batches in flight (deleting what succeeded) and stops. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.all(this.#workers);
  }

  /**
   * True when no batch is running and nothing is visible or in flight, and the latest receive,
   * asked for at or after `receivedSince` (performance.now), came back empty. A delayed message
   * due by then was receivable when that receive was asked for: an emulator may count it as still
   * delayed until a receive moves it, so the depth alone would miss it.
   */
  async isIdle(opts: { readonly receivedSince?: number } = {}): Promise<boolean> {
    // Counting a queue of many thousands costs milliseconds; polled often while busy, that
    // would starve the consumers themselves.
    const since = this.#emptySince;
    if (this.#inFlight > 0 || since === undefined) return false;
    if (opts.receivedSince !== undefined && since < opts.receivedSince) return false;
    const d = await this.#o.queue.depth();
    return d.visible === 0 && d.inFlight === 0 && this.#inFlight === 0;
  }

  async #work(): Promise<void> {
    const o = this.#o;
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      let messages: QueueMessage[];
      const asked = performance.now();
      try {
        messages = await o.queue.receive({ max: o.batchSize, visibilityTimeoutMs: o.visibilityTimeoutMs });
      } catch (err) {
        o.logger.warn('queue receive failed', { channel: o.queue.channel, error: errorName(err) });
        await sleep(o.retryBaseMs * 5, signal);
        continue;
      }
      this.#emptySince = messages.length === 0 ? asked : undefined;
      if (messages.length === 0) {
        await sleep(o.idleMs, signal);
        continue;
      }
      this.#inFlight++;
      try {
        // A batch already received is always finished, even when stopping: nothing is lost.
        // Counted in messages (a packed one carries up to jobsPerMessage jobs): taking a place per
        // job after the receive would put a low rate's wait past the messages' visibility timeout.
        await this.#limiter?.take(messages.length);
        await this.#process(messages);
      } finally {
        this.#inFlight--;
      }
    }
  }

  async #process(messages: readonly QueueMessage[]): Promise<void> {
    const o = this.#o;
    let failed: Set<string>;
    try {
      const response = await o.handler({ Records: messages.map((m) => toSqsRecord(m, this.#o.queueArn)) });
      failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      // An empty or unknown identifier fails the whole batch, as Lambda does.
      if ([...failed].some((id) => !messages.some((m) => m.messageId === id))) {
        failed = new Set(messages.map((m) => m.messageId));
      }
    } catch (err) {
      o.logger.warn('consumer batch threw', { channel: o.queue.channel, error: errorName(err) });
      failed = new Set(messages.map((m) => m.messageId));
    }
    const done = messages.filter((m) => !failed.has(m.messageId)).map((m) => m.receiptHandle);
    // Neither failure may end the worker: an undeleted message comes back after its visibility
    // timeout and the consumer's dedup answers Done; a failed backoff only means it comes back later.
    try {
      if (done.length > 0) await o.queue.deleteBatch(done);
    } catch (err) {
      o.logger.warn('queue delete failed', {
        channel: o.queue.channel,
        messages: done.length,
        error: errorName(err),
      });
    }
    for (const m of messages) {
      if (!failed.has(m.messageId)) continue;
      try {
        await o.queue.changeVisibility(
          m.receiptHandle,
          fullJitter(m.receiveCount, { baseMs: o.retryBaseMs, capMs: 10_000 }),
        );
      } catch (err) {
        o.logger.warn('queue visibility change failed', { channel: o.queue.channel, error: errorName(err) });
      }
    }
  }
}

/** A queue message as Lambda's SQS event source hands it to the handler. */
export function toSqsRecord(m: QueueMessage, queueArn: string): SQSRecord {
  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const name in m.attributes) {
    messageAttributes[name] = {
      stringValue: m.attributes[name],
      dataType: 'String',
      stringListValues: [],
      binaryListValues: [],
    };
  }
  let md5: string | undefined;
  return {
    messageId: m.messageId,
    receiptHandle: m.receiptHandle,
    body: m.body,
    attributes: {
      ApproximateReceiveCount: String(m.receiveCount),
      SentTimestamp: String(m.sentAt),
      SenderId: 'fanout-local',
      ApproximateFirstReceiveTimestamp: String(m.firstReceivedAt),
    },
    messageAttributes,
    // An md5 per message cost more than the rest of the record, and consumers never read it:
    // computed when read. A getter in the literal is an own enumerable property, as a plain field
    // would be; defining it afterwards (Object.defineProperty) turned every record into a slow
    // dictionary-mode object.
    get md5OfBody() {
      md5 ??= createHash('md5').update(m.body).digest('hex');
      return md5;
    },
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'local',
  };
}

import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { ValidationError } from '../../domain/errors.ts';
import type { QueueMessage } from '../../ports/delivery-queue.ts';
import { awsCall } from './errors.ts';
import { chunks, type RetryPolicy, sendWithRetry } from './retry.ts';
import {
  MAX_BATCH_BYTES,
  messageBytes,
  numberAttribute,
  plainAttributes,
  SQS_BATCH,
} from './sqs-messages.ts';

/*
 * The SQS calls of the delivery queue, each within SQS's batch limits and re-sending only what
 * SQS reports as failed; `delivery-queue.ts` builds the port's operations from them.
 */

const SYSTEM_ATTRIBUTES = [
  'ApproximateReceiveCount',
  'ApproximateFirstReceiveTimestamp',
  'SentTimestamp',
] as const;

/** One message to send, with the entry id it keeps across re-sends. */
interface Outgoing {
  readonly Id: string;
  readonly MessageBody: string;
  readonly MessageAttributes: Record<string, MessageAttributeValue>;
  readonly DelaySeconds: number;
}

/** A body and its attributes, ready to send. */
export interface OutgoingMessage {
  readonly body: string;
  readonly attributes: Record<string, MessageAttributeValue>;
  /** 0..900; 0 when unset. */
  readonly delaySeconds?: number;
}

/** The batch calls of one queue adapter: its client, retry policy and batch concurrency. */
export class SqsCalls {
  readonly #sqs: SQSClient;
  readonly #retry: RetryPolicy;
  readonly #concurrency: number;

  constructor(sqs: SQSClient, retry: RetryPolicy, concurrency: number) {
    this.#sqs = sqs;
    this.#retry = retry;
    this.#concurrency = concurrency;
  }

  /** Packs messages into batch calls (10 entries, 256 KiB) and re-sends only failed entries. */
  async send(queueUrl: string, messages: readonly OutgoingMessage[]): Promise<void> {
    const batches: Outgoing[][] = [];
    let current: Outgoing[] = [];
    let bytes = 0;
    messages.forEach((m, i) => {
      const size = messageBytes(m.body, m.attributes);
      if (size > MAX_BATCH_BYTES) {
        throw new ValidationError([{ path: `messages[${i}]`, message: `is over ${MAX_BATCH_BYTES} bytes` }]);
      }
      if (current.length === SQS_BATCH || bytes + size > MAX_BATCH_BYTES) {
        batches.push(current);
        current = [];
        bytes = 0;
      }
      current.push({
        Id: String(current.length),
        MessageBody: m.body,
        MessageAttributes: m.attributes,
        DelaySeconds: m.delaySeconds ?? 0,
      });
      bytes += size;
    });
    if (current.length > 0) batches.push(current);
    await this.pool(batches, (batch) =>
      sendWithRetry(
        'delivery queue SendMessageBatch',
        batch,
        async (pending) => {
          const out = await this.#sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: queueUrl,
              Entries: [...pending],
            }),
          );
          const failed = out.Failed ?? [];
          // A sender fault (an entry SQS will never take) cannot succeed by sending it again.
          const refused = failed.find((f) => f.SenderFault);
          if (refused !== undefined) {
            throw new ValidationError([
              { path: `entries[${refused.Id}]`, message: `refused by SQS (${refused.Code ?? 'unknown'})` },
            ]);
          }
          const retry = new Set(failed.map((f) => f.Id));
          return pending.filter((e) => retry.has(e.Id));
        },
        this.#retry,
      ),
    );
  }

  async deleteFrom(queueUrl: string, receiptHandles: readonly string[]): Promise<void> {
    const batches = chunks(receiptHandles, SQS_BATCH).map((handles) =>
      handles.map((ReceiptHandle, i) => ({ Id: String(i), ReceiptHandle })),
    );
    await this.pool(batches, (batch) =>
      sendWithRetry(
        'delivery queue DeleteMessageBatch',
        batch,
        async (pending) => {
          const out = await this.#sqs.send(
            new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: [...pending] }),
          );
          // A sender fault is a stale or unknown handle, which the port ignores; the rest is SQS's
          // own trouble and worth another try.
          const retry = new Set((out.Failed ?? []).filter((f) => !f.SenderFault).map((f) => f.Id));
          return pending.filter((e) => retry.has(e.Id));
        },
        this.#retry,
      ),
    );
  }

  async receiveFrom(
    queueUrl: string,
    max: number,
    opts: { readonly visibility: number; readonly wait: number },
  ): Promise<Message[]> {
    const out = await awsCall('delivery queue ReceiveMessage', () =>
      this.#sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: max,
          VisibilityTimeout: opts.visibility,
          WaitTimeSeconds: opts.wait,
          MessageSystemAttributeNames: [...SYSTEM_ATTRIBUTES],
          MessageAttributeNames: ['All'],
        }),
      ),
    );
    return out.Messages ?? [];
  }

  /** Makes peeked messages visible again; if that fails they come back when their timeout ends. */
  async release(queueUrl: string, messages: readonly Message[]): Promise<void> {
    for (const batch of chunks(messages, SQS_BATCH)) {
      try {
        await this.#sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map((m, i) => ({
              Id: String(i),
              ReceiptHandle: m.ReceiptHandle!,
              VisibilityTimeout: 0,
            })),
          }),
        );
      } catch {
        // Nothing is lost: the messages reappear after PEEK_VISIBILITY_SECONDS.
      }
    }
  }

  async counts(queueUrl: string): Promise<{ visible: number; inFlight: number; delayed: number }> {
    const out = await awsCall('delivery queue GetQueueAttributes', () =>
      this.#sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      ),
    );
    const a = out.Attributes ?? {};
    return {
      visible: Number(a.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
    };
  }

  /** Runs `work` over `items`, at most `concurrency` at once; the first failure fails the whole. */
  async pool<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < items.length) await work(items[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, items.length) }, worker));
  }
}

/** A received SQS message in the port's terms. */
export function toQueueMessage(m: Message): QueueMessage {
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    receiveCount: numberAttribute(m, 'ApproximateReceiveCount'),
    firstReceivedAt: numberAttribute(m, 'ApproximateFirstReceiveTimestamp'),
    sentAt: numberAttribute(m, 'SentTimestamp'),
    attributes: plainAttributes(m),
  };
}

/** A received message's attributes as they go back out on a redrive (binary ones included). */
export function copyAttributes(m: Message): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(m.MessageAttributes ?? {})) {
    out[name] = {
      DataType: value.DataType,
      StringValue: value.StringValue,
      BinaryValue: value.BinaryValue,
    };
  }
  return out;
}

import {
  ChangeMessageVisibilityCommand,
  GetQueueAttributesCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { ValidationError } from '../../domain/errors.ts';
import type { Channel, DeliveryJob } from '../../domain/types.ts';
import {
  type DeadLetter,
  type DeliveryQueue,
  jobDelays,
  MAX_JOBS_PER_MESSAGE,
  type QueueDepth,
  type QueueMessage,
  type ReceiveOptions,
} from '../../ports/delivery-queue.ts';
import { checkJob } from '../checks/delivery-queue.ts';
import { requireArray, requireInteger, requireText } from '../checks/input.ts';
import { copyAttributes, SqsCalls, toQueueMessage } from './delivery-queue-calls.ts';
import { awsCall, awsErrorName, translateAwsError } from './errors.ts';
import type { RetryPolicy } from './retry.ts';
import {
  checkBody,
  MAX_VISIBILITY_TIMEOUT_MS,
  numberAttribute,
  plainAttributes,
  SQS_BATCH,
  toMessageAttributes,
} from './sqs-messages.ts';

/** Options of {@link SqsDeliveryQueue}. */
export interface SqsDeliveryQueueOptions {
  readonly sqs: SQSClient;
  /** The channel this queue carries (one SQS queue per channel). */
  readonly channel: Channel;
  readonly queueUrl: string;
  /** The queue's RedrivePolicy target, read for the dead-letter operations. */
  readonly deadLetterQueueUrl: string;
  /** Re-sends of SendMessageBatch / DeleteMessageBatch entries that SQS reports as failed. */
  readonly retry?: RetryPolicy;
  /**
   * The RedrivePolicy's maxReceiveCount, when the caller knows it; otherwise read once from the
   * queue's attributes on the first dead-letter listing.
   */
  readonly maxReceiveCount?: number;
  /**
   * Long-poll wait of the first ReceiveMessage of a `receive`. A short poll (0) samples only some
   * SQS servers and may come back empty while messages wait; Lambda's event source long-polls.
   * @default 0
   */
  readonly waitTimeSeconds?: number;
  /** Batch calls of one sendBatch / deleteBatch in flight at once. @default 4 */
  readonly concurrency?: number;
  /**
   * Jobs packed into one SQS message by `sendBatch` (jobs of one tenant and one delay, in order;
   * a JSON array body the consumers unpack, handlers/job.ts). SQS bills per request, so ten jobs
   * a message spend a tenth of the sends, receives and deletes. The unit of retry becomes the
   * message: a job that fails brings its siblings back with it, which their dedup claims answer
   * (Done) without a second send. 1 sends every job alone.
   * @default 1
   */
  readonly jobsPerMessage?: number;
}

/** Largest `max` of one receive: ReceiveMessage calls of 10 until it is filled. */
export const MAX_SQS_RECEIVE = 10_000;
/**
 * How long a dead-letter listing keeps what it peeked hidden. SQS cannot peek: the listing
 * receives, then makes every message visible again at once; this only matters if that release
 * fails (the process died), and keeps a concurrent redrive from racing the listing.
 */
const PEEK_VISIBILITY_SECONDS = 30;
/** A redrive holds each batch this long between moving it and deleting it from the DLQ. */
const REDRIVE_VISIBILITY_SECONDS = 60;
/**
 * Largest body of a packed message. SQS bills each 64 KiB of a request's payload as one request:
 * a message within it costs one, and a batch of ten such messages stays within SQS's 256 KiB
 * only when the packs are smaller, which `SqsCalls.send` handles by splitting batches by bytes.
 */
const MAX_PACK_BYTES = 60 * 1024;
/** Answers to a delete or visibility change whose receipt handle is no longer the message's latest. */
const STALE_HANDLE = new Set([
  'ReceiptHandleIsInvalid',
  'MessageNotInflight',
  'InvalidParameterValue',
  'InvalidParameterValueException',
  'AWS.SimpleQueueService.MessageNotInflight',
]);

/**
 * A channel's delivery queue on SQS Standard with a RedrivePolicy.
 *
 * Costs: sendBatch one SendMessageBatch per 10 messages (or 256 KiB), a message holding up to
 * `jobsPerMessage` jobs; receive one ReceiveMessage per
 * 10 messages; deleteBatch one DeleteMessageBatch per 10 handles; depth two GetQueueAttributes;
 * listDeadLetters one ReceiveMessage and one ChangeMessageVisibilityBatch per 10 dead letters;
 * redrive a receive, a send and a delete per 10. Visibility timeouts are whole seconds on SQS, so
 * a timeout in ms is rounded up: a message is never visible earlier than asked.
 *
 * SQS moves a message to the DLQ when a receive would hand it out for the (maxReceiveCount+1)th
 * time, not the moment its last visibility timeout ends: until some receive passes it, it
 * still counts as visible. The pollers receive continuously, so in practice that gap is short.
 */
export class SqsDeliveryQueue implements DeliveryQueue {
  readonly channel: Channel;
  readonly #sqs: SQSClient;
  readonly #calls: SqsCalls;
  readonly #queueUrl: string;
  readonly #dlqUrl: string;
  readonly #waitTimeSeconds: number;
  readonly #jobsPerMessage: number;
  #maxReceiveCount: Promise<number> | undefined;

  constructor(opts: SqsDeliveryQueueOptions) {
    requireText(opts?.channel, 'channel');
    requireText(opts.queueUrl, 'queueUrl');
    requireText(opts.deadLetterQueueUrl, 'deadLetterQueueUrl');
    if (opts.maxReceiveCount !== undefined) requireInteger(opts.maxReceiveCount, 'maxReceiveCount', 1, 1000);
    this.channel = opts.channel;
    this.#sqs = opts.sqs;
    this.#queueUrl = opts.queueUrl;
    this.#dlqUrl = opts.deadLetterQueueUrl;
    this.#waitTimeSeconds = opts.waitTimeSeconds ?? 0;
    requireInteger(this.#waitTimeSeconds, 'waitTimeSeconds', 0, 20);
    this.#jobsPerMessage = opts.jobsPerMessage ?? 1;
    requireInteger(this.#jobsPerMessage, 'jobsPerMessage', 1, MAX_JOBS_PER_MESSAGE);
    const concurrency = opts.concurrency ?? 4;
    requireInteger(concurrency, 'concurrency', 1, 100);
    this.#calls = new SqsCalls(opts.sqs, opts.retry ?? {}, concurrency);
    this.#maxReceiveCount =
      opts.maxReceiveCount === undefined ? undefined : Promise.resolve(opts.maxReceiveCount);
  }

  async sendBatch(
    jobs: readonly DeliveryJob[],
    opts: { readonly delaySeconds?: number | readonly number[] } = {},
  ): Promise<void> {
    requireArray(jobs, 'jobs');
    const delays = jobDelays(jobs.length, opts?.delaySeconds);
    // Every job is checked before the first call: a bad one sends nothing.
    const bodies = jobs.map((job, i) => {
      checkJob(job, i, this.channel);
      const body = JSON.stringify(job);
      checkBody(body, `jobs[${i}]`);
      return body;
    });
    const messages = packJobs(jobs, bodies, delays, this.#jobsPerMessage).map((pack) => ({
      body: pack.bodies.length === 1 ? pack.bodies[0]! : `[${pack.bodies.join(',')}]`,
      attributes: { tenant_id: { DataType: 'String', StringValue: pack.tenantId } },
      delaySeconds: pack.delaySeconds,
    }));
    await this.#calls.send(this.#queueUrl, messages);
  }

  async sendRaw(bodies: readonly string[], attributes: Readonly<Record<string, string>> = {}): Promise<void> {
    requireArray(bodies, 'bodies');
    bodies.forEach((body, i) => {
      checkBody(body, `bodies[${i}]`);
    });
    const messageAttributes = toMessageAttributes(attributes);
    await this.#calls.send(
      this.#queueUrl,
      bodies.map((body) => ({ body, attributes: messageAttributes })),
    );
  }

  async receive(opts: ReceiveOptions): Promise<QueueMessage[]> {
    requireInteger(opts?.max, 'max', 1, MAX_SQS_RECEIVE);
    requireInteger(opts.visibilityTimeoutMs, 'visibilityTimeoutMs', 0, MAX_VISIBILITY_TIMEOUT_MS);
    const visibility = Math.ceil(opts.visibilityTimeoutMs / 1000);
    const out: QueueMessage[] = [];
    const seen = new Set<string>();
    let wait = this.#waitTimeSeconds;
    while (out.length < opts.max) {
      const batch = await this.#calls.receiveFrom(
        this.#queueUrl,
        Math.min(SQS_BATCH, opts.max - out.length),
        {
          visibility,
          wait,
        },
      );
      for (const m of batch) {
        if (seen.has(m.MessageId!)) continue;
        seen.add(m.MessageId!);
        out.push(toQueueMessage(m));
      }
      // With no timeout, what was just received is visible again: a second call could hand the
      // same messages out twice in one answer.
      if (batch.length === 0 || visibility === 0) break;
      wait = 0;
    }
    return out;
  }

  async deleteBatch(receiptHandles: readonly string[]): Promise<void> {
    requireArray(receiptHandles, 'receiptHandles');
    receiptHandles.forEach((handle, i) => {
      requireText(handle, `receiptHandles[${i}]`);
    });
    await this.#calls.deleteFrom(this.#queueUrl, receiptHandles);
  }

  async changeVisibility(receiptHandle: string, timeoutMs: number): Promise<void> {
    requireText(receiptHandle, 'receiptHandle');
    requireInteger(timeoutMs, 'timeoutMs', 0, MAX_VISIBILITY_TIMEOUT_MS);
    try {
      await this.#sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.#queueUrl,
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: Math.ceil(timeoutMs / 1000),
        }),
      );
    } catch (err) {
      // The port ignores a handle from an earlier receive; SQS refuses it.
      if (STALE_HANDLE.has(awsErrorName(err))) return;
      throw translateAwsError(err, 'delivery queue ChangeMessageVisibility');
    }
  }

  async depth(): Promise<QueueDepth> {
    const [queue, dlq] = await Promise.all([
      this.#calls.counts(this.#queueUrl),
      this.#calls.counts(this.#dlqUrl),
    ]);
    return {
      visible: queue.visible,
      inFlight: queue.inFlight,
      delayed: queue.delayed,
      // A listing holds dead letters in flight for a moment; they are still dead letters.
      deadLettered: dlq.visible + dlq.inFlight + dlq.delayed,
    };
  }

  /**
   * SQS cannot peek: this receives from the DLQ (hidden for a short timeout), then makes every
   * message it saw visible again with ChangeMessageVisibilityBatch. "Oldest first" sorts what it
   * read by SentTimestamp (SQS keeps the original send time across the move); SQS Standard's
   * order is best-effort, so with more dead letters than `limit` the page is the oldest of what
   * SQS handed out, not necessarily of the whole DLQ. `receiveCount` is the RedrivePolicy's
   * maxReceiveCount (every message SQS dead-letters was received exactly that often; peeking
   * bumps the DLQ's own count, so that one means nothing), and `deadLetteredAt` is approximate:
   * SQS records no move time, so it is the message's first receive. SQS cannot resume a listing
   * either: the letters carry no `position`, and a listing ignores `after` (the port allows it).
   */
  async listDeadLetters(limit: number): Promise<DeadLetter[]> {
    requireInteger(limit, 'limit', 1, Number.MAX_SAFE_INTEGER);
    const maxReceiveCount = await this.#redriveMaxReceiveCount();
    const peeked: Message[] = [];
    const seen = new Set<string>();
    try {
      while (peeked.length < limit) {
        const batch = await this.#calls.receiveFrom(
          this.#dlqUrl,
          Math.min(SQS_BATCH, limit - peeked.length),
          {
            visibility: PEEK_VISIBILITY_SECONDS,
            wait: 0,
          },
        );
        if (batch.length === 0) break;
        for (const m of batch) {
          if (seen.has(m.MessageId!)) continue;
          seen.add(m.MessageId!);
          peeked.push(m);
        }
      }
      peeked.sort((a, b) => numberAttribute(a, 'SentTimestamp') - numberAttribute(b, 'SentTimestamp'));
    } finally {
      // Oldest first, so the DLQ hands them out in that order next time too (best-effort).
      await this.#calls.release(this.#dlqUrl, peeked);
    }
    return peeked.map((m) => ({
      messageId: m.MessageId!,
      body: m.Body ?? '',
      receiveCount: maxReceiveCount,
      deadLetteredAt:
        numberAttribute(m, 'ApproximateFirstReceiveTimestamp') || numberAttribute(m, 'SentTimestamp'),
      attributes: plainAttributes(m),
    }));
  }

  /**
   * On AWS one would call StartMessageMoveTask (SQS moves the DLQ back server-side, at a chosen
   * rate); fauxqs has no such call, so this does what that task does, batch by batch: receive
   * from the DLQ, send the same body and attributes to the queue (a new message, so its receive
   * count starts afresh), then delete from the DLQ. A crash between send and delete leaves a copy
   * in both, never none: the consumers' dedup absorbs the extra one.
   */
  async redriveDeadLetters(): Promise<number> {
    let moved = 0;
    for (;;) {
      const batch = await this.#calls.receiveFrom(this.#dlqUrl, SQS_BATCH, {
        visibility: REDRIVE_VISIBILITY_SECONDS,
        wait: 0,
      });
      if (batch.length === 0) return moved;
      await this.#calls.send(
        this.#queueUrl,
        batch.map((m) => ({ body: m.Body ?? '', attributes: copyAttributes(m) })),
      );
      await this.#calls.deleteFrom(
        this.#dlqUrl,
        batch.map((m) => m.ReceiptHandle!),
      );
      moved += batch.length;
    }
  }

  #redriveMaxReceiveCount(): Promise<number> {
    this.#maxReceiveCount ??= awsCall('delivery queue GetQueueAttributes', () =>
      this.#sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: this.#queueUrl, AttributeNames: ['RedrivePolicy'] }),
      ),
    ).then((out) => {
      const policy = JSON.parse(out.Attributes?.RedrivePolicy ?? '{}') as { maxReceiveCount?: unknown };
      const count = Number(policy.maxReceiveCount);
      if (!Number.isInteger(count) || count < 1) {
        throw new ValidationError([{ path: 'queueUrl', message: 'the queue has no RedrivePolicy' }]);
      }
      return count;
    });
    // A failed look-up is tried again next time rather than remembered.
    this.#maxReceiveCount.catch(() => {
      this.#maxReceiveCount = undefined;
    });
    return this.#maxReceiveCount;
  }
}

/** The job bodies one message carries: one tenant, one delay. */
interface Pack {
  readonly tenantId: string;
  readonly delaySeconds: number;
  readonly bodies: string[];
  bytes: number;
}

/**
 * Groups job bodies into messages of up to `perMessage` jobs of one tenant and one delay (a
 * message's tenant attribute and delay are its jobs'), each within {@link MAX_PACK_BYTES}; a job
 * keeps its order among its pack's. With `perMessage` 1, one message per job, as sent before.
 */
function packJobs(
  jobs: readonly DeliveryJob[],
  bodies: readonly string[],
  delays: readonly number[],
  perMessage: number,
): Pack[] {
  const packs: Pack[] = [];
  const open = new Map<string, Pack>();
  jobs.forEach((job, i) => {
    const body = bodies[i]!;
    const bytes = Buffer.byteLength(body, 'utf8') + 1;
    const key = `${delays[i]} ${job.tenantId}`;
    let pack = open.get(key);
    if (pack === undefined || pack.bodies.length >= perMessage || pack.bytes + bytes > MAX_PACK_BYTES) {
      pack = { tenantId: job.tenantId, delaySeconds: delays[i]!, bodies: [], bytes: 1 };
      packs.push(pack);
      open.set(key, pack);
    }
    pack.bodies.push(body);
    pack.bytes += bytes;
  });
  return packs;
}

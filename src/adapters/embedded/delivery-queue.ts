import { randomBytes } from 'node:crypto';
import { ValidationError } from '../../domain/errors.ts';
import { createUlidGenerator } from '../../domain/ids.ts';
import type { Channel, DeliveryJob } from '../../domain/types.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import {
  type DeadLetter,
  type DeliveryQueue,
  jobDelays,
  type ListDeadLettersOptions,
  type QueueDepth,
  type QueueMessage,
  type ReceiveOptions,
} from '../../ports/delivery-queue.ts';
import { checkJob } from '../checks/delivery-queue.ts';
import { requireArray, requireInteger, requireLimit, requireText } from '../checks/input.ts';
import type { EmbeddedDb } from './db.ts';
import { prepare, RECEIPT_LENGTH } from './delivery-queue-sql.ts';
import { storeStep } from './store-step.ts';

export interface EmbeddedDeliveryQueueOptions {
  readonly db: EmbeddedDb;
  /** The channel this queue carries; every channel's messages share one table. */
  readonly channel: Channel;
  /**
   * Receives before a message moves to the dead-letter table, as SQS's redrive policy says.
   * @default 4 (one try and three retries)
   */
  readonly maxReceiveCount?: number;
  /** @default systemClock */
  readonly clock?: Clock;
}

const RECEIPT_BYTES = 9;
const RECEIPT = /^[A-Za-z0-9_-]{12}$/;

/** SQS caps a visibility timeout at 12 hours. */
export const MAX_VISIBILITY_TIMEOUT_MS = 12 * 60 * 60 * 1000;
/** SQS receives at most 10; a local consumer drains in bigger batches, as Lambda's batching does. */
export const MAX_EMBEDDED_RECEIVE = 10_000;

/** A received row as the receive statement returns it (arrays: node:sqlite builds them faster). */
type ReceivedRow = [
  seq: number,
  messageId: string,
  body: string,
  attributes: string,
  receiveCount: number,
  firstReceivedAt: number,
  sentAt: number,
];

interface DeadLetterRow {
  readonly seq: number;
  readonly message_id: string;
  readonly body: string;
  readonly attributes: string;
  readonly receive_count: number;
  readonly dead_lettered_at: number;
}

/**
 * One channel of an SQS Standard queue with a redrive policy, on SQLite.
 *
 * A message row carries `visible_at`; receiving is one UPDATE … RETURNING over the oldest visible
 * rows of the channel (an index range on (channel, visible_at)), which pushes `visible_at` past
 * the visibility timeout and stamps the receive's receipt (random, one per receive) on the row. A
 * handle is `receipt.seq`, so delete and change-visibility are key look-ups that also compare the
 * receipt: a handle from an earlier receive no longer matches and is ignored.
 *
 * The receive that uses up the last allowed receive marks the row `exhausted`. From the moment
 * such a row would be visible again it counts as dead-lettered: every call first moves those rows
 * to the dead-letter table (a partial index keeps that probe free when there are none), and
 * delete or change-visibility no longer touch them, so a message ends deleted or dead-lettered,
 * never both, whenever the move physically happens.
 */
export class EmbeddedDeliveryQueue implements DeliveryQueue {
  readonly channel: Channel;
  readonly #db: EmbeddedDb;
  readonly #clock: Clock;
  readonly #maxReceiveCount: number;
  readonly #nextId: () => string;
  /** Consecutive messages of one fan-out carry the same attributes: parse each distinct JSON once. */
  #lastAttributesJson = '';
  #lastAttributes: Readonly<Record<string, string>> = {};
  readonly #s: ReturnType<typeof prepare>;

  constructor(opts: EmbeddedDeliveryQueueOptions) {
    requireText(opts?.channel, 'channel');
    const maxReceiveCount = opts.maxReceiveCount ?? 4;
    requireInteger(maxReceiveCount, 'maxReceiveCount', 1, 1000);
    this.channel = opts.channel;
    this.#db = opts.db;
    this.#clock = opts.clock ?? systemClock;
    this.#maxReceiveCount = maxReceiveCount;
    this.#nextId = createUlidGenerator(() => this.#clock.now());
    this.#s = storeStep('delivery queue set-up', () => prepare(opts.db));
  }

  async sendBatch(
    jobs: readonly DeliveryJob[],
    opts: { readonly delaySeconds?: number | readonly number[] } = {},
  ): Promise<void> {
    requireArray(jobs, 'jobs');
    const delays = jobDelays(jobs.length, opts?.delaySeconds);
    // Every job is checked before the first write: a bad one sends nothing.
    for (let i = 0; i < jobs.length; i++) checkJob(jobs[i], i, this.channel);
    if (jobs.length === 0) return;
    const now = this.#clock.now();
    const insert = this.#s.insert;
    storeStep('delivery queue send', () =>
      this.#db.transaction(() => {
        let lastTenant: string | undefined;
        let attributes = '';
        for (let i = 0; i < jobs.length; i++) {
          const job = jobs[i]!;
          if (job.tenantId !== lastTenant) {
            lastTenant = job.tenantId;
            attributes = JSON.stringify({ tenant_id: job.tenantId });
          }
          insert.run(
            this.channel,
            this.#nextId(),
            JSON.stringify(job),
            attributes,
            now,
            now + delays[i]! * 1000,
          );
        }
      }),
    );
  }

  async sendRaw(bodies: readonly string[], attributes: Readonly<Record<string, string>> = {}): Promise<void> {
    requireArray(bodies, 'bodies');
    bodies.forEach((body, i) => {
      requireText(body, `bodies[${i}]`);
    });
    checkAttributes(attributes);
    if (bodies.length === 0) return;
    const now = this.#clock.now();
    const attributesJson = JSON.stringify(attributes);
    const insert = this.#s.insert;
    storeStep('delivery queue send', () =>
      this.#db.transaction(() => {
        for (const body of bodies) insert.run(this.channel, this.#nextId(), body, attributesJson, now, now);
      }),
    );
  }

  async receive(opts: ReceiveOptions): Promise<QueueMessage[]> {
    requireInteger(opts?.max, 'max', 1, MAX_EMBEDDED_RECEIVE);
    requireInteger(opts.visibilityTimeoutMs, 'visibilityTimeoutMs', 0, MAX_VISIBILITY_TIMEOUT_MS);
    const now = this.#clock.now();
    // One receipt per receive, random: a handle from an earlier receive, or another process's,
    // never matches the row again.
    const receipt = randomBytes(RECEIPT_BYTES).toString('base64url');
    const rows = storeStep('delivery queue receive', () =>
      this.#db.transaction(() => {
        this.#sweep(now);
        return this.#s.receive.all(
          now,
          now + opts.visibilityTimeoutMs,
          receipt,
          this.#maxReceiveCount,
          this.channel,
          opts.max,
        );
      }),
    ) as unknown as ReceivedRow[];
    // RETURNING promises no order; oldest first means send order within the batch.
    rows.sort((a, b) => a[0] - b[0]);
    return rows.map(([seq, messageId, body, attributes, receiveCount, firstReceivedAt, sentAt]) => ({
      messageId,
      receiptHandle: `${receipt}.${seq}`,
      body,
      receiveCount,
      firstReceivedAt,
      sentAt,
      attributes: this.#attributes(attributes),
    }));
  }

  async deleteBatch(receiptHandles: readonly string[]): Promise<void> {
    requireArray(receiptHandles, 'receiptHandles');
    receiptHandles.forEach((handle, i) => {
      requireText(handle, `receiptHandles[${i}]`);
    });
    if (receiptHandles.length === 0) return;
    // The handles of one receive share its receipt: one statement per receipt, not per handle.
    const byReceipt = new Map<string, number[]>();
    for (const handle of receiptHandles) {
      const key = handleKey(handle);
      if (key === undefined) continue;
      const seqs = byReceipt.get(key[1]);
      if (seqs === undefined) byReceipt.set(key[1], [key[0]]);
      else seqs.push(key[0]);
    }
    if (byReceipt.size === 0) return;
    const now = this.#clock.now();
    const remove = this.#s.delete;
    storeStep('delivery queue delete', () =>
      this.#db.transaction(() => {
        for (const [receipt, seqs] of byReceipt) {
          remove.run(JSON.stringify(seqs.sort((a, b) => a - b)), receipt, this.channel, now);
        }
      }),
    );
  }

  async changeVisibility(receiptHandle: string, timeoutMs: number): Promise<void> {
    requireText(receiptHandle, 'receiptHandle');
    requireInteger(timeoutMs, 'timeoutMs', 0, MAX_VISIBILITY_TIMEOUT_MS);
    const key = handleKey(receiptHandle);
    if (key === undefined) return;
    const now = this.#clock.now();
    storeStep('delivery queue change visibility', () =>
      this.#s.changeVisibility.run(now + timeoutMs, key[0], key[1], this.channel, now),
    );
  }

  /** Moves due dead letters first, so the numbers agree with what the next receive would see. */
  async depth(): Promise<QueueDepth> {
    const now = this.#clock.now();
    return storeStep('delivery queue depth', () =>
      this.#db.transaction(() => {
        this.#sweep(now);
        const visible = this.#s.countVisible.get(this.channel, now) as { n: number };
        const hidden = this.#s.countHidden.get(this.channel, now) as {
          received: number | null;
          delayed: number | null;
        };
        const dead = this.#s.countDead.get(this.channel) as { n: number };
        return {
          visible: visible.n,
          inFlight: hidden.received ?? 0,
          delayed: hidden.delayed ?? 0,
          deadLettered: dead.n,
        };
      }),
    );
  }

  /**
   * A letter's position is its row number in the dead-letter table, in the order of the moves.
   * SQLite numbers a new row after the highest one left, so after a redrive took the newest rows
   * away numbers can come again: a caller paging for ever starts over from the oldest once it has
   * reached the end.
   */
  async listDeadLetters(limit: number, opts: ListDeadLettersOptions = {}): Promise<DeadLetter[]> {
    requireLimit(limit);
    const after = opts?.after === undefined ? 0 : positionSeq(opts.after);
    const now = this.#clock.now();
    const rows = storeStep('delivery queue list dead letters', () =>
      this.#db.transaction(() => {
        this.#sweep(now);
        return this.#s.listDead.all(this.channel, after, limit);
      }),
    ) as unknown as DeadLetterRow[];
    return rows.map((row) => ({
      messageId: row.message_id,
      body: row.body,
      receiveCount: row.receive_count,
      deadLetteredAt: row.dead_lettered_at,
      attributes: this.#attributes(row.attributes),
      position: String(row.seq),
    }));
  }

  async redriveDeadLetters(): Promise<number> {
    const now = this.#clock.now();
    return storeStep('delivery queue redrive', () =>
      this.#db.transaction(() => {
        this.#sweep(now);
        const moved = Number(this.#s.redriveCopy.run(now, this.channel).changes);
        if (moved > 0) this.#s.redriveDelete.run(this.channel);
        return moved;
      }),
    );
  }

  /** Moves rows that used their last receive and are visible again to the dead-letter table. */
  #sweep(now: number): void {
    if (Number(this.#s.sweepCopy.run(this.channel, now).changes) > 0) {
      this.#s.sweepDelete.run(this.channel, now);
    }
  }

  #attributes(json: string): Readonly<Record<string, string>> {
    if (json !== this.#lastAttributesJson) {
      this.#lastAttributes = Object.freeze(JSON.parse(json) as Record<string, string>);
      this.#lastAttributesJson = json;
    }
    return this.#lastAttributes;
  }
}

/**
 * The row key and receipt a handle names, or undefined for a handle this queue never issued
 * (a receipt is always RECEIPT_LENGTH base64url chars, which the placeholder of an unreceived
 * row is not).
 */
function handleKey(handle: string): [seq: number, receipt: string] | undefined {
  const dot = handle.lastIndexOf('.');
  if (dot !== RECEIPT_LENGTH || !RECEIPT.test(handle.slice(0, dot))) return undefined;
  const seq = Number(handle.slice(dot + 1));
  return Number.isSafeInteger(seq) && seq > 0 ? [seq, handle.slice(0, dot)] : undefined;
}

/** The row number a position names; a ValidationError for anything this queue never issued. */
function positionSeq(position: unknown): number {
  const seq = typeof position === 'string' && /^[1-9][0-9]{0,15}$/.test(position) ? Number(position) : 0;
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw new ValidationError([{ path: 'after', message: 'must be the position of a listed dead letter' }]);
  }
  return seq;
}

function checkAttributes(attributes: unknown): void {
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    throw new ValidationError([{ path: 'attributes', message: 'must be an object of strings' }]);
  }
  for (const [name, value] of Object.entries(attributes)) {
    if (name.length === 0 || typeof value !== 'string') {
      throw new ValidationError([{ path: `attributes.${name}`, message: 'must be a string' }]);
    }
  }
}

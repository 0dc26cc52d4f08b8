import { randomBytes } from 'node:crypto';
import { ValidationError } from '../../domain/errors.ts';
import { createUlidGenerator } from '../../domain/ids.ts';
import type { Channel, DeliveryJob } from '../../domain/types.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import type {
  DeadLetter,
  DeliveryQueue,
  QueueDepth,
  QueueMessage,
  ReceiveOptions,
} from '../../ports/delivery-queue.ts';
import type { EmbeddedDb } from './db.ts';
import { requireArray, requireLimit, requireText, storeStep } from './sql-support.ts';

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

/** SQS caps a delay at 15 minutes. */
export const MAX_DELAY_SECONDS = 900;
/** SQS caps a visibility timeout at 12 hours. */
export const MAX_VISIBILITY_TIMEOUT_MS = 12 * 60 * 60 * 1000;
/** SQS receives at most 10; a local consumer drains in bigger batches, as Lambda's batching does. */
export const MAX_EMBEDDED_RECEIVE = 10_000;

interface ReceivedRow {
  readonly seq: number;
  readonly message_id: string;
  readonly receipt: string;
  readonly body: string;
  readonly attributes: string;
  readonly receive_count: number;
  readonly first_received_at: number;
  readonly sent_at: number;
}

interface DeadLetterRow {
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
 * the visibility timeout and stamps a new receipt handle. Handles embed the row's key, so delete
 * and change-visibility are key look-ups that also compare the whole handle: a handle from an
 * earlier receive no longer matches and is ignored.
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
  /** Unique per queue object, so two processes on one file never issue the same handle. */
  readonly #handlePrefix = `${randomBytes(6).toString('base64url')}-`;
  #receives = 0;
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
    opts: { readonly delaySeconds?: number } = {},
  ): Promise<void> {
    requireArray(jobs, 'jobs');
    const delaySeconds = opts?.delaySeconds ?? 0;
    requireInteger(delaySeconds, 'delaySeconds', 0, MAX_DELAY_SECONDS);
    // Every job is checked before the first write: a bad one sends nothing.
    for (let i = 0; i < jobs.length; i++) this.#checkJob(jobs[i], i);
    if (jobs.length === 0) return;
    const now = this.#clock.now();
    const visibleAt = now + delaySeconds * 1000;
    const insert = this.#s.insert;
    storeStep('delivery queue send', () =>
      this.#db.transaction(() => {
        let lastTenant: string | undefined;
        let attributes = '';
        for (const job of jobs) {
          if (job.tenantId !== lastTenant) {
            lastTenant = job.tenantId;
            attributes = JSON.stringify({ tenant_id: job.tenantId });
          }
          insert.run(this.channel, this.#nextId(), JSON.stringify(job), attributes, now, visibleAt);
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
    const handleBase = `${this.#handlePrefix}${(++this.#receives).toString(36)}.`;
    const rows = storeStep('delivery queue receive', () =>
      this.#db.transaction(() => {
        this.#sweep(now);
        return this.#s.receive.all(
          now,
          now + opts.visibilityTimeoutMs,
          handleBase,
          this.#maxReceiveCount,
          this.channel,
          opts.max,
        );
      }),
    ) as unknown as ReceivedRow[];
    // RETURNING promises no order; oldest first means send order within the batch.
    rows.sort((a, b) => a.seq - b.seq);
    return rows.map((row) => ({
      messageId: row.message_id,
      receiptHandle: row.receipt,
      body: row.body,
      receiveCount: row.receive_count,
      firstReceivedAt: row.first_received_at,
      sentAt: row.sent_at,
      attributes: this.#attributes(row.attributes),
    }));
  }

  async deleteBatch(receiptHandles: readonly string[]): Promise<void> {
    requireArray(receiptHandles, 'receiptHandles');
    receiptHandles.forEach((handle, i) => {
      requireText(handle, `receiptHandles[${i}]`);
    });
    if (receiptHandles.length === 0) return;
    const keyed: [number, string][] = [];
    for (const handle of receiptHandles) {
      const seq = handleSeq(handle);
      if (seq !== undefined) keyed.push([seq, handle]);
    }
    if (keyed.length === 0) return;
    const now = this.#clock.now();
    // One statement for the whole batch: a DELETE per handle cost more than the delete itself.
    storeStep('delivery queue delete', () => this.#s.delete.run(JSON.stringify(keyed), this.channel, now));
  }

  async changeVisibility(receiptHandle: string, timeoutMs: number): Promise<void> {
    requireText(receiptHandle, 'receiptHandle');
    requireInteger(timeoutMs, 'timeoutMs', 0, MAX_VISIBILITY_TIMEOUT_MS);
    const seq = handleSeq(receiptHandle);
    if (seq === undefined) return;
    const now = this.#clock.now();
    storeStep('delivery queue change visibility', () =>
      this.#s.changeVisibility.run(now + timeoutMs, seq, receiptHandle, this.channel, now),
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

  async listDeadLetters(limit: number): Promise<DeadLetter[]> {
    requireLimit(limit);
    const now = this.#clock.now();
    const rows = storeStep('delivery queue list dead letters', () =>
      this.#db.transaction(() => {
        this.#sweep(now);
        return this.#s.listDead.all(this.channel, limit);
      }),
    ) as unknown as DeadLetterRow[];
    return rows.map((row) => ({
      messageId: row.message_id,
      body: row.body,
      receiveCount: row.receive_count,
      deadLetteredAt: row.dead_lettered_at,
      attributes: this.#attributes(row.attributes),
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

  #checkJob(job: DeliveryJob | undefined, i: number): void {
    if (typeof job !== 'object' || job === null) {
      throw new ValidationError([{ path: `jobs[${i}]`, message: 'must be a delivery job' }]);
    }
    requireText(job.tenantId, `jobs[${i}].tenantId`);
    requireText(job.userId, `jobs[${i}].userId`);
    requireText(job.notificationId, `jobs[${i}].notificationId`);
    if (job.channel !== this.channel) {
      throw new ValidationError([{ path: `jobs[${i}].channel`, message: `must be '${this.channel}'` }]);
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

function prepare(db: EmbeddedDb) {
  const sqlite = db.sqlite;
  sqlite.exec(`
    CREATE TABLE IF NOT EXISTS delivery_queue (
      seq INTEGER PRIMARY KEY,
      channel TEXT NOT NULL,
      message_id TEXT NOT NULL,
      body TEXT NOT NULL,
      attributes TEXT NOT NULL,
      sent_at INTEGER NOT NULL,
      visible_at INTEGER NOT NULL,
      receive_count INTEGER NOT NULL DEFAULT 0,
      first_received_at INTEGER,
      receipt TEXT,
      exhausted INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS delivery_queue_visible ON delivery_queue (channel, visible_at);
    CREATE INDEX IF NOT EXISTS delivery_queue_exhausted ON delivery_queue (channel, visible_at)
      WHERE exhausted = 1;
    CREATE TABLE IF NOT EXISTS delivery_dead_letters (
      seq INTEGER PRIMARY KEY,
      channel TEXT NOT NULL,
      message_id TEXT NOT NULL,
      body TEXT NOT NULL,
      attributes TEXT NOT NULL,
      sent_at INTEGER NOT NULL,
      receive_count INTEGER NOT NULL,
      dead_lettered_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS delivery_dead_letters_channel ON delivery_dead_letters (channel);
  `);
  return {
    insert: sqlite.prepare(
      `INSERT INTO delivery_queue (channel, message_id, body, attributes, sent_at, visible_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    // SET expressions read the row as it was, so `receive_count + 1` is the new count.
    receive: sqlite.prepare(
      `UPDATE delivery_queue
       SET visible_at = ?2, receive_count = receive_count + 1,
           first_received_at = coalesce(first_received_at, ?1),
           receipt = ?3 || seq, exhausted = receive_count + 1 >= ?4
       WHERE seq IN (
         SELECT seq FROM delivery_queue WHERE channel = ?5 AND visible_at <= ?1
         ORDER BY visible_at, seq LIMIT ?6)
       RETURNING seq, message_id, receipt, body, attributes, receive_count, first_received_at, sent_at`,
    ),
    sweepCopy: sqlite.prepare(
      `INSERT INTO delivery_dead_letters
         (channel, message_id, body, attributes, sent_at, receive_count, dead_lettered_at)
       SELECT channel, message_id, body, attributes, sent_at, receive_count, visible_at
       FROM delivery_queue WHERE channel = ? AND exhausted = 1 AND visible_at <= ?
       ORDER BY visible_at, seq`,
    ),
    sweepDelete: sqlite.prepare(
      'DELETE FROM delivery_queue WHERE channel = ? AND exhausted = 1 AND visible_at <= ?',
    ),
    // A row that is exhausted and visible counts as dead-lettered already: neither touches it.
    // ?1 is a JSON array of [seq, handle]; CROSS JOIN keeps the key look-ups driven by it.
    delete: sqlite.prepare(
      `DELETE FROM delivery_queue WHERE seq IN (
         SELECT q.seq FROM json_each(?1) AS h CROSS JOIN delivery_queue AS q ON q.seq = h.value ->> 0
         WHERE q.receipt = h.value ->> 1 AND q.channel = ?2 AND (q.exhausted = 0 OR q.visible_at > ?3))`,
    ),
    changeVisibility: sqlite.prepare(
      `UPDATE delivery_queue SET visible_at = ?1
       WHERE seq = ?2 AND receipt = ?3 AND channel = ?4 AND (exhausted = 0 OR visible_at > ?5)`,
    ),
    countVisible: sqlite.prepare(
      'SELECT count(*) AS n FROM delivery_queue WHERE channel = ? AND visible_at <= ?',
    ),
    countHidden: sqlite.prepare(
      `SELECT sum(receive_count > 0) AS received, sum(receive_count = 0) AS delayed
       FROM delivery_queue WHERE channel = ? AND visible_at > ?`,
    ),
    countDead: sqlite.prepare('SELECT count(*) AS n FROM delivery_dead_letters WHERE channel = ?'),
    listDead: sqlite.prepare(
      `SELECT message_id, body, attributes, receive_count, dead_lettered_at
       FROM delivery_dead_letters WHERE channel = ? ORDER BY seq LIMIT ?`,
    ),
    redriveCopy: sqlite.prepare(
      `INSERT INTO delivery_queue (channel, message_id, body, attributes, sent_at, visible_at)
       SELECT channel, message_id, body, attributes, sent_at, ?1
       FROM delivery_dead_letters WHERE channel = ?2 ORDER BY seq`,
    ),
    redriveDelete: sqlite.prepare('DELETE FROM delivery_dead_letters WHERE channel = ?'),
  };
}

/** The row key a handle names, or undefined for a handle this queue never issued. */
function handleSeq(handle: string): number | undefined {
  const dot = handle.lastIndexOf('.');
  if (dot < 0) return undefined;
  const seq = Number(handle.slice(dot + 1));
  return Number.isSafeInteger(seq) && seq > 0 ? seq : undefined;
}

function requireInteger(value: unknown, path: string, min: number, max: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError([{ path, message: `must be an integer from ${min} to ${max}` }]);
  }
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

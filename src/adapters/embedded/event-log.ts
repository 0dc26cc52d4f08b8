import { hash as digest } from 'node:crypto';
import type { StatementSync } from 'node:sqlite';
import { ValidationError } from '../../domain/errors.ts';
import { decodeEvent } from '../../domain/event.ts';
import { authorPartition } from '../../domain/keys.ts';
import type { AuthorEvent } from '../../domain/types.ts';
import type { Clock } from '../../ports/clock.ts';
import { systemClock } from '../../ports/clock.ts';
import type { AppendResult, EventLog, LogRecord } from '../../ports/event-log.ts';
import { requireArray, requireLimit, requireText } from '../checks/input.ts';
import type { EmbeddedDb } from './db.ts';
import { storeStep, storeStepAsync } from './store-step.ts';

export interface EmbeddedEventLogOptions {
  readonly db: EmbeddedDb;
  /**
   * Number of shards. Fixed when the log is first created: a data file keeps the count it was
   * created with (a different value throws), because changing it would move authors between
   * shards and break their order. @default 4, or the count stored in the data file
   */
  readonly shards?: number;
  /** Stamps `arrivedAt`. @default systemClock */
  readonly clock?: Clock;
}

const DEFAULT_SHARDS = 4;
/** Fixed width so every sequence number of the log has the same length (see `compareSequence`). */
const SEQUENCE_WIDTH = 20;
const MAX_SHARDS = 1024;

interface StoredRecord {
  readonly seq: number;
  readonly partition_key: string;
  readonly data: Uint8Array;
  readonly arrived_at: number;
}

/**
 * The event log on SQLite, shaped like a Kinesis stream: N shards chosen by a hash of
 * `tenant#author` (so one author's events stay in order on one shard) and per-shard increasing
 * sequence numbers. The primary key is (shard, sequence), the order every read follows; a unique
 * index on (tenant, event id) makes append idempotent.
 */
export class EmbeddedEventLog implements EventLog {
  readonly #db: EmbeddedDb;
  readonly #clock: Clock;
  readonly #shardIds: readonly string[];
  readonly #shardIndex: ReadonlyMap<string, number>;
  readonly #encoder = new TextEncoder();
  readonly #find: StatementSync;
  readonly #last: StatementSync;
  readonly #insert: StatementSync;
  readonly #read: StatementSync;
  readonly #lookup: StatementSync;

  constructor(opts: EmbeddedEventLogOptions) {
    if (
      opts.shards !== undefined &&
      !(Number.isInteger(opts.shards) && opts.shards >= 1 && opts.shards <= MAX_SHARDS)
    ) {
      throw new ValidationError([{ path: 'shards', message: `must be an integer from 1 to ${MAX_SHARDS}` }]);
    }
    this.#db = opts.db;
    this.#clock = opts.clock ?? systemClock;
    const shards = storeStep('event log set-up', () => this.#createSchema(opts.shards));
    this.#shardIds = Array.from({ length: shards }, (_, i) => shardId(i));
    this.#shardIndex = new Map(this.#shardIds.map((id, i) => [id, i]));
    const sqlite = opts.db.sqlite;
    [this.#find, this.#last, this.#insert, this.#read, this.#lookup] = storeStep('event log set-up', () => [
      sqlite.prepare('SELECT shard, seq FROM event_log WHERE tenant_id = ? AND event_id = ?'),
      sqlite.prepare('SELECT max(seq) AS seq FROM event_log WHERE shard = ?'),
      // One statement per new event: the idempotency look-up only runs for an id already there.
      sqlite.prepare(
        `INSERT INTO event_log (shard, seq, tenant_id, event_id, partition_key, data, arrived_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, event_id) DO NOTHING`,
      ),
      sqlite.prepare(
        `SELECT seq, partition_key, data, arrived_at FROM event_log
         WHERE shard = ? AND seq > ? ORDER BY seq LIMIT ?`,
      ),
      sqlite.prepare('SELECT data FROM event_log WHERE tenant_id = ? AND event_id = ?'),
    ]);
  }

  async append(events: readonly AuthorEvent[]): Promise<AppendResult[]> {
    requireArray(events, 'events');
    events.forEach(validateEvent);
    const arrivedAt = this.#clock.now();
    // The HTTP API's hot write: while the pipeline (another thread or process) holds the write
    // lock, the API's thread goes on serving instead of sleeping in SQLite's busy wait.
    return storeStepAsync('event log append', () =>
      this.#db.transactionWhenFree(() => {
        // Next sequence per shard touched by this call, read once inside the write transaction.
        const next = new Map<number, number>();
        return events.map((event) => this.#appendOne(event, arrivedAt, next));
      }),
    );
  }

  async listShards(): Promise<string[]> {
    return [...this.#shardIds];
  }

  async read(shard: string, after: string | undefined, limit: number): Promise<LogRecord[]> {
    const index = this.#shardOf(shard);
    requireLimit(limit);
    const from = after === undefined ? 0 : parseSequence(after);
    const rows = storeStep('event log read', () =>
      this.#read.all(index, from, limit),
    ) as unknown as StoredRecord[];
    return rows.map((row) => ({
      sequenceNumber: formatSequence(row.seq),
      partitionKey: row.partition_key,
      data: row.data,
      arrivedAt: row.arrived_at,
    }));
  }

  async latestSequence(shard: string): Promise<string | undefined> {
    const index = this.#shardOf(shard);
    const seq = storeStep('event log latest sequence', () => this.#last.get(index)?.seq) as number | null;
    return seq === null || seq === undefined ? undefined : formatSequence(seq);
  }

  async lookup(tenantId: string, eventId: string): Promise<AuthorEvent | undefined> {
    requireText(tenantId, 'tenantId');
    requireText(eventId, 'eventId');
    const row = storeStep('event log lookup', () => this.#lookup.get(tenantId, eventId)) as
      | { data: Uint8Array }
      | undefined;
    return row === undefined ? undefined : decodeEvent(row.data);
  }

  #appendOne(event: AuthorEvent, arrivedAt: number, next: Map<number, number>): AppendResult {
    const partitionKey = authorPartition(event.tenantId, event.actorId);
    const shard = shardFor(partitionKey, this.#shardIds.length);
    const seq = next.get(shard) ?? ((this.#last.get(shard)?.seq as number | null) ?? 0) + 1;
    const data = this.#encoder.encode(JSON.stringify(event));
    const inserted = this.#insert.run(shard, seq, event.tenantId, event.id, partitionKey, data, arrivedAt);
    if (Number(inserted.changes) === 0) {
      // The id is in the log already (the unique index refused it): its first append's answer.
      const existing = this.#find.get(event.tenantId, event.id) as { shard: number; seq: number };
      next.set(shard, seq);
      return {
        eventId: event.id,
        shardId: this.#shardIds[existing.shard]!,
        sequenceNumber: formatSequence(existing.seq),
        fresh: false,
      };
    }
    next.set(shard, seq + 1);
    return {
      eventId: event.id,
      shardId: this.#shardIds[shard]!,
      sequenceNumber: formatSequence(seq),
      fresh: true,
    };
  }

  #shardOf(id: string): number {
    const index = this.#shardIndex.get(id);
    if (index === undefined)
      throw new ValidationError([{ path: 'shardId', message: 'is not a shard of this log' }]);
    return index;
  }

  /** Creates the tables and settles the shard count: the stored one wins, a conflicting one throws. */
  #createSchema(requested: number | undefined): number {
    const sqlite = this.#db.sqlite;
    sqlite.exec(`
      CREATE TABLE IF NOT EXISTS event_log (
        shard INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        tenant_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        partition_key TEXT NOT NULL,
        data BLOB NOT NULL,
        arrived_at INTEGER NOT NULL,
        PRIMARY KEY (shard, seq)
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX IF NOT EXISTS event_log_by_event ON event_log (tenant_id, event_id);
      CREATE TABLE IF NOT EXISTS event_log_meta (
        name TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      ) WITHOUT ROWID;
    `);
    return this.#db.transaction(() => {
      const stored = sqlite.prepare("SELECT value FROM event_log_meta WHERE name = 'shards'").get()?.value as
        | number
        | undefined;
      if (stored === undefined) {
        const shards = requested ?? DEFAULT_SHARDS;
        sqlite.prepare("INSERT INTO event_log_meta (name, value) VALUES ('shards', ?)").run(shards);
        return shards;
      }
      if (requested !== undefined && requested !== stored) {
        throw new ValidationError([
          {
            path: 'shards',
            message: `the log was created with ${stored} shards; it cannot change to ${requested}`,
          },
        ]);
      }
      return stored;
    });
  }
}

/** Kinesis-style shard id for shard number `index`. */
export function shardId(index: number): string {
  return `shardId-${String(index).padStart(12, '0')}`;
}

/**
 * Shard of a partition key: the MD5 of the key as a number, split into equal ranges, as Kinesis
 * maps partition keys onto shard hash-key ranges. Stable across processes and restarts.
 */
export function shardFor(partitionKey: string, shards: number): number {
  const hash = md5(partitionKey).readUInt32BE(0);
  return Math.floor((hash * shards) / 2 ** 32);
}

/** One-shot MD5 (no Hash object per event). */
function md5(text: string): Buffer {
  return digest('md5', text, 'buffer');
}

function formatSequence(seq: number): string {
  return String(seq).padStart(SEQUENCE_WIDTH, '0');
}

function parseSequence(value: string): number {
  if (typeof value !== 'string' || !/^\d{1,20}$/.test(value)) {
    throw new ValidationError([{ path: 'after', message: 'is not a sequence number of this log' }]);
  }
  return Number(value);
}

function validateEvent(event: AuthorEvent, i: number): void {
  requireText(event?.tenantId, `events[${i}].tenantId`);
  requireText(event.id, `events[${i}].id`);
  requireText(event.actorId, `events[${i}].actorId`);
}

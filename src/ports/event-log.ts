import type { AuthorEvent } from '../domain/types.ts';

/** A record as read back from one shard; mirrors a Kinesis record. */
export interface LogRecord {
  /** Increasing within a shard; compare with `compareSequence`, never as numbers. */
  readonly sequenceNumber: string;
  /** `tenant#author`: all events of one author land on one shard, in order. */
  readonly partitionKey: string;
  /** The JSON of the AuthorEvent, UTF-8. */
  readonly data: Uint8Array;
  /** Epoch ms the log stored it. */
  readonly arrivedAt: number;
}

/** Where an appended event went. */
export interface AppendResult {
  readonly eventId: string;
  readonly shardId: string;
  readonly sequenceNumber: string;
  /** False when an event with the same (tenant, id) was appended before; nothing new was written. */
  readonly fresh: boolean;
}

/**
 * The durable, ordered event log (Kinesis in AWS). Partitioned by `tenant#author` so each
 * author's events keep their order.
 */
export interface EventLog {
  /**
   * Appends durably; resolves only once every event is stored. Idempotent per (tenant, event id):
   * a second append of the same id returns the first result with `fresh: false`.
   * Order is kept for events of one author within one call and across calls.
   */
  append(events: readonly AuthorEvent[]): Promise<AppendResult[]>;
  /** Shard ids, stable for the life of the log. */
  listShards(): Promise<string[]>;
  /** Up to `limit` records of one shard strictly after `after` (from the start when undefined). */
  read(shardId: string, after: string | undefined, limit: number): Promise<LogRecord[]>;
  /** The sequence number of the newest record of a shard, if any (for lag and drain checks). */
  latestSequence(shardId: string): Promise<string | undefined>;
  /**
   * The event the tenant appended with this id, as its idempotency record keeps it (the embedded
   * log for as long as the log is kept, the Kinesis log's `events` table for its 7 days), or
   * undefined for an id the tenant never appended or that is no longer remembered. An append still
   * in flight counts as appended. Another tenant's event of the same id is never returned.
   */
  lookup(tenantId: string, eventId: string): Promise<AuthorEvent | undefined>;
}

/** Where a consumer of the log got to, per shard (the event-source mapping's checkpoint). */
export interface Checkpoints {
  get(consumer: string, shardId: string): Promise<string | undefined>;
  /** Moves forward only: a lower sequence than the stored one is ignored. */
  set(consumer: string, shardId: string, sequenceNumber: string): Promise<void>;
}

/** Orders two sequence numbers of one shard: negative, zero or positive. */
export function compareSequence(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

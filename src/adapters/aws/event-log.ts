import { createHash, randomUUID } from 'node:crypto';
import {
  type _Record,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../domain/errors.ts';
import { decodeEvent, encodeEvent } from '../../domain/event.ts';
import { authorPartition } from '../../domain/keys.ts';
import type { AuthorEvent } from '../../domain/types.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import { type AppendResult, compareSequence, type EventLog, type LogRecord } from '../../ports/event-log.ts';
import { requireLimit, requireText } from '../checks/input.ts';
import { forEachLimit } from './concurrency.ts';
import { causeName } from './errors.ts';
import { EventClaims, eventKey, type StreamPosition } from './event-log-claims.ts';
import { type PendingRecord, PUT_LIMITS, putInOrder, recordBytes } from './event-log-put.ts';
import type { RetryPolicy } from './retry.ts';
import { retrying } from './retry.ts';
import { requireKinesisSequence } from './sequence-numbers.ts';

/** What the Kinesis event log is built on. */
export interface KinesisEventLogOptions {
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly documents: DynamoDBDocumentClient;
  /** Physical name of the `events` table: idempotency and per-shard latest sequence numbers. */
  readonly eventsTable: string;
  /** Stamps claims, leases and expiry (Kinesis stamps `arrivedAt` itself). @default systemClock */
  readonly clock?: Clock;
  /** Backoff for failed records and throttled calls. @default sendWithRetry's defaults */
  readonly retry?: RetryPolicy;
  /**
   * How long an event id is remembered, so a repeat is answered with the first result. Longer than
   * the stream's retention (24 h by default, 7 days at most without long-term retention) on purpose:
   * producers retry across outages for longer than a day, and a repeat after the record was trimmed
   * must still not fan the event out a second time. One small item per event is cheap.
   * @default 7 days
   */
  readonly idempotencyTtlMs?: number;
  /**
   * How long a claim without a stored position holds off other appends of the same id. Longer than
   * a normal put with its retries; after a crash, a repeat of the id waits at most this long.
   * @default 30 s
   */
  readonly claimLeaseMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Kinesis partition keys are 1..256 Unicode characters. */
const MAX_PARTITION_KEY = 256;
/** GetRecords returns at most this many records per call. */
const MAX_GET_RECORDS = 10_000;
/** Shard iterators expire after 5 minutes; re-use one only well within that. */
const ITERATOR_REUSE_MS = 4 * 60 * 1000;
/** Positions whose next iterator is kept: a few consumers × shards. */
const MAX_CACHED_ITERATORS = 1024;
/** Conditional writes in flight at once per append. */
const WRITE_CONCURRENCY = 16;

interface CachedIterator {
  readonly iterator: string;
  readonly at: number;
}

/**
 * The event log on a Kinesis Data Stream, partition key `tenant#author`, with the idempotency the
 * port promises (and Kinesis lacks) kept in the DynamoDB `events` table (see EventClaims).
 *
 * append: one conditional claim per distinct event id, PutRecords in per-author rounds (see
 * putInOrder), then the results and per-shard markers written back. An id repeated within one
 * call is appended once, at its first place; its later copies answer with that result, not fresh,
 * as the embedded log does. Reads are GetShardIterator +
 * GetRecords; the iterator a page ends at is kept for a few minutes, keyed by (shard, last sequence
 * number), so a consumer reading page after page (the local poller) makes one GetRecords call per
 * page instead of two, and stays clear of GetShardIterator's 5 calls per second per shard.
 */
export class KinesisEventLog implements EventLog {
  readonly #kinesis: KinesisClient;
  readonly #stream: string;
  readonly #clock: Clock;
  readonly #retry: RetryPolicy | undefined;
  readonly #claims: EventClaims;
  readonly #iterators = new Map<string, CachedIterator>();

  constructor(opts: KinesisEventLogOptions) {
    this.#kinesis = opts.kinesis;
    this.#stream = opts.streamName;
    this.#clock = opts.clock ?? systemClock;
    this.#retry = opts.retry;
    this.#claims = new EventClaims({
      documents: opts.documents,
      tableName: opts.eventsTable,
      streamName: opts.streamName,
      clock: this.#clock,
      retry: opts.retry,
      ttlMs: opts.idempotencyTtlMs ?? 7 * DAY_MS,
      leaseMs: opts.claimLeaseMs ?? 30_000,
    });
  }

  async append(events: readonly AuthorEvent[]): Promise<AppendResult[]> {
    if (!Array.isArray(events)) throw new ValidationError([{ path: 'events', message: 'must be an array' }]);
    // Everything is checked and encoded before the first write: a bad batch stores nothing.
    const records = events.map(toPending);
    // The first event of each (tenant, id) is the one appended; later copies in the call repeat it.
    const first = new Map<string, number>();
    events.forEach((e, i) => {
      if (!first.has(eventKey(e.tenantId, e.id))) first.set(eventKey(e.tenantId, e.id), i);
    });
    const unique = [...first.values()];
    const claimId = randomUUID();
    const earlier = new Map<number, StreamPosition>();
    const claimed: number[] = [];
    try {
      await forEachLimit(unique, WRITE_CONCURRENCY, async (i) => {
        const e = events[i]!;
        const stored = await this.#claims.claim(e.tenantId, e.id, claimId, lookupJson(e));
        if (stored === undefined) claimed.push(i);
        else earlier.set(i, stored);
      });
    } catch (err) {
      await this.#release(events, claimed, claimId);
      throw err;
    }
    claimed.sort((a, b) => a - b);
    const put = new Map<number, StreamPosition>();
    try {
      await putInOrder(
        this.#kinesis,
        this.#stream,
        claimed.map((i) => records[i]!),
        (record, position) => put.set(record.index, position),
        this.#retry,
      );
    } catch (err) {
      await this.#settle(events, put, claimId);
      await this.#release(
        events,
        claimed.filter((i) => !put.has(i)),
        claimId,
      );
      throw err;
    }
    await this.#settle(events, put, claimId);
    return events.map((e, i) => {
      const at = first.get(eventKey(e.tenantId, e.id))!;
      const fresh = at === i && put.has(i);
      const position = put.get(at) ?? earlier.get(at)!;
      return { eventId: e.id, shardId: position.shardId, sequenceNumber: position.sequenceNumber, fresh };
    });
  }

  async lookup(tenantId: string, eventId: string): Promise<AuthorEvent | undefined> {
    requireText(tenantId, 'tenantId');
    requireText(eventId, 'eventId');
    const json = await this.#claims.event(tenantId, eventId);
    return json === undefined ? undefined : decodeEvent(new TextEncoder().encode(json));
  }

  async listShards(): Promise<string[]> {
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const out = await retrying(
        'event log ListShards',
        () =>
          this.#kinesis.send(
            new ListShardsCommand(token === undefined ? { StreamName: this.#stream } : { NextToken: token }),
          ),
        this.#retry,
      );
      for (const shard of out.Shards ?? []) if (shard.ShardId !== undefined) ids.push(shard.ShardId);
      token = out.NextToken;
    } while (token !== undefined);
    return ids;
  }

  async read(shardId: string, after: string | undefined, limit: number): Promise<LogRecord[]> {
    requireText(shardId, 'shardId');
    requireLimit(limit);
    if (after !== undefined) requireKinesisSequence(after, 'after');
    const cached = this.#takeIterator(shardId, after);
    const reuse = cached !== undefined;
    let iterator = cached ?? (await this.#iterator(shardId, after));
    let fromCache = reuse;
    for (;;) {
      let page: GetRecordsCommandOutput;
      try {
        page = await retrying(
          'event log GetRecords',
          () =>
            this.#kinesis.send(
              new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(limit, MAX_GET_RECORDS) }),
            ),
          this.#retry,
        );
      } catch (err) {
        if (!fromCache || causeName(err) !== 'ExpiredIteratorException') throw err;
        iterator = await this.#iterator(shardId, after);
        fromCache = false;
        continue;
      }
      const records = (page.Records ?? []).map(toLogRecord);
      const next = page.NextShardIterator;
      // An empty page with the shard still behind its tip only crossed a stretch without records:
      // go on, so that an empty answer really means "nothing after".
      if (records.length === 0 && next !== undefined && (page.MillisBehindLatest ?? 0) > 0) {
        iterator = next;
        fromCache = false;
        continue;
      }
      if (next !== undefined) this.#keepIterator(shardId, records.at(-1)?.sequenceNumber ?? after, next);
      return records;
    }
  }

  /**
   * The marker kept in the events table, then checked by reading the shard after it: a crash
   * between a put and its marker update, or a record put by someone else, would otherwise leave the
   * marker behind and a drain check would call the shard done too early. Normally that check is
   * one GetRecords that finds nothing (plus a GetShardIterator when the iterator is not cached).
   */
  async latestSequence(shardId: string): Promise<string | undefined> {
    requireText(shardId, 'shardId');
    const marked = await this.#claims.latest(shardId);
    let latest = marked;
    for (;;) {
      const page = await this.read(shardId, latest, MAX_GET_RECORDS);
      if (page.length === 0) break;
      latest = page.at(-1)!.sequenceNumber;
    }
    if (latest !== undefined && latest !== marked) await this.#claims.advance(shardId, latest);
    return latest;
  }

  /** The iterator a previous read left at (shard, after), if still young; each is used once. */
  #takeIterator(shardId: string, after: string | undefined): string | undefined {
    const key = iteratorKey(shardId, after);
    const cached = this.#iterators.get(key);
    if (cached === undefined) return undefined;
    this.#iterators.delete(key);
    return this.#clock.now() - cached.at < ITERATOR_REUSE_MS ? cached.iterator : undefined;
  }

  #keepIterator(shardId: string, after: string | undefined, iterator: string): void {
    this.#iterators.set(iteratorKey(shardId, after), { iterator, at: this.#clock.now() });
    // Oldest first: a Map iterates in insertion order.
    if (this.#iterators.size > MAX_CACHED_ITERATORS)
      this.#iterators.delete(this.#iterators.keys().next().value!);
  }

  async #iterator(shardId: string, after: string | undefined): Promise<string> {
    try {
      const out = await retrying(
        'event log GetShardIterator',
        () =>
          this.#kinesis.send(
            new GetShardIteratorCommand({
              StreamName: this.#stream,
              ShardId: shardId,
              ...(after === undefined
                ? { ShardIteratorType: 'TRIM_HORIZON' }
                : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: after }),
            }),
          ),
        this.#retry,
      );
      if (out.ShardIterator === undefined) throw new Error('GetShardIterator returned no iterator');
      return out.ShardIterator;
    } catch (err) {
      // The same answer means "no such stream" too; only a shard missing from a stream is our caller's.
      if (causeName(err) === 'ResourceNotFoundException' && !(await this.listShards()).includes(shardId)) {
        throw new ValidationError([{ path: 'shardId', message: 'is not a shard of this log' }], {
          cause: err,
        });
      }
      throw err;
    }
  }

  /**
   * Writes back where the put events went and moves the shard markers. After a successful put this
   * is bookkeeping: the events are durably in the stream whatever happens here, so a failure is not
   * reported as a failed append (a retry would put them again). Left undone, a repeat of an id puts
   * it again after the lease (harmless, see EventClaims), and latestSequence reads past the marker.
   */
  async #settle(events: readonly AuthorEvent[], put: ReadonlyMap<number, StreamPosition>, claimId: string) {
    const highest = new Map<string, string>();
    for (const { shardId, sequenceNumber } of put.values()) {
      const seen = highest.get(shardId);
      if (seen === undefined || compareSequence(seen, sequenceNumber) < 0)
        highest.set(shardId, sequenceNumber);
    }
    await Promise.allSettled([
      forEachLimit([...put], WRITE_CONCURRENCY, ([i, position]) =>
        this.#claims.store(events[i]!.tenantId, events[i]!.id, claimId, position),
      ),
      ...[...highest].map(([shardId, seq]) => this.#claims.advance(shardId, seq)),
    ]);
  }

  async #release(events: readonly AuthorEvent[], indexes: readonly number[], claimId: string) {
    await forEachLimit(indexes, WRITE_CONCURRENCY, (i) =>
      this.#claims.release(events[i]!.tenantId, events[i]!.id, claimId),
    );
  }
}

/** Checks one event and encodes it as the record it becomes; throws ValidationError on a bad one. */
function toPending(event: AuthorEvent, index: number): PendingRecord {
  requireText(event?.tenantId, `events[${index}].tenantId`);
  requireText(event.id, `events[${index}].id`);
  requireText(event.actorId, `events[${index}].actorId`);
  // `#` separates key parts: a tenant or id holding one could meet another tenant's key.
  if (event.tenantId.includes('#') || event.id.includes('#')) {
    throw new ValidationError([{ path: `events[${index}]`, message: 'tenantId and id must not contain #' }]);
  }
  const partitionKey = partitionKeyOf(event.tenantId, event.actorId);
  const data = encodeEvent(event);
  if (recordBytes(partitionKey, data) > PUT_LIMITS.bytesPerRecord) {
    throw new ValidationError([
      { path: `events[${index}]`, message: 'is larger than a Kinesis record (1 MiB)' },
    ]);
  }
  return { index, partitionKey, data };
}

/**
 * `tenant#author`, unless that is longer than Kinesis allows (two 128-character ids make 257):
 * then `tenant#~` and the author's sha256, still one key per author, so their order holds.
 */
function partitionKeyOf(tenantId: string, actorId: string): string {
  const key = authorPartition(tenantId, actorId);
  if (key.length <= MAX_PARTITION_KEY) return key;
  const hashed = `${tenantId}#~${createHash('sha256').update(actorId).digest('hex')}`;
  if (hashed.length > MAX_PARTITION_KEY) {
    throw new ValidationError([{ path: 'tenantId', message: 'is too long for a partition key' }]);
  }
  return hashed;
}

function iteratorKey(shardId: string, after: string | undefined): string {
  return `${shardId}@${after ?? ''}`;
}

function toLogRecord(r: _Record): LogRecord {
  return {
    sequenceNumber: r.SequenceNumber!,
    partitionKey: r.PartitionKey!,
    data: r.Data ?? new Uint8Array(),
    arrivedAt: r.ApproximateArrivalTimestamp?.getTime() ?? 0,
  };
}

/**
 * What the idempotency item keeps of an event for `lookup`: the event without its `data`, which a
 * retraction does not need, so the item stays small (1 write unit for most events).
 */
function lookupJson(event: AuthorEvent): string {
  const { data: _data, ...kept } = event;
  return new TextDecoder().decode(encodeEvent(kept));
}

import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { fullJitter } from '../lib/backoff.ts';
import { errorName } from '../lib/error-name.ts';
import { sleep } from '../lib/sleep.ts';
import type { Checkpoints, EventLog, LogRecord } from '../ports/event-log.ts';
import { compareSequence } from '../ports/event-log.ts';
import type { Logger } from '../ports/logger.ts';
import { silentLogger } from '../ports/logger.ts';

export type KinesisHandler = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse | undefined>;

/** Records given up on after every retry: the event-source mapping's on-failure destination. */
export type OnFailureDestination = (
  shardId: string,
  records: readonly LogRecord[],
  error: unknown,
) => Promise<void>;

export interface KinesisPollerOptions {
  readonly log: EventLog;
  readonly checkpoints: Checkpoints;
  /** Checkpoint namespace, like an event-source mapping's UUID. */
  readonly consumer: string;
  readonly handler: KinesisHandler;
  /** @default 100 (Lambda's default for Kinesis) */
  readonly batchSize?: number;
  /**
   * Retries of a failing record before it goes to `onFailure`. Without `onFailure` a record is
   * never skipped, whatever this says. @default 10
   */
  readonly maxRetries?: number;
  /** Split a batch in two when the handler throws, to isolate the bad record. @default true */
  readonly bisectOnError?: boolean;
  readonly onFailure?: OnFailureDestination;
  /** Wait when a shard has nothing new. @default 50 ms */
  readonly idleMs?: number;
  /** First retry delay; doubles per attempt with jitter. @default 100 ms, capped at 5 s */
  readonly retryBaseMs?: number;
  readonly streamArn?: string;
  readonly logger?: Logger;
}

/**
 * Drives a Kinesis handler from an EventLog the way a Lambda event-source mapping does: one
 * in-order loop per shard (parallelization factor 1), batches of up to `batchSize`, the checkpoint
 * moved only past records that succeeded, `batchItemFailures` honoured (the retry starts at the
 * first failed record), bisect on error, and records that keep failing handed to `onFailure`
 * so one poison record cannot stall a shard forever.
 */
export class KinesisPoller {
  readonly #o: Required<Omit<KinesisPollerOptions, 'onFailure'>> & Pick<KinesisPollerOptions, 'onFailure'>;
  readonly #abort = new AbortController();
  #loops: Promise<void>[] = [];
  #inFlight = 0;

  constructor(opts: KinesisPollerOptions) {
    this.#o = {
      batchSize: 100,
      maxRetries: 10,
      bisectOnError: true,
      idleMs: 50,
      retryBaseMs: 100,
      streamArn: 'arn:aws:kinesis:local:000000000000:stream/fanout-events',
      logger: silentLogger,
      ...opts,
    };
  }

  async start(): Promise<void> {
    const shards = await this.#o.log.listShards();
    this.#loops = shards.map((shardId) => this.#runShard(shardId));
  }

  /** Finishes the batches in flight, checkpoints them, and stops. Nothing is lost. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await Promise.all(this.#loops);
  }

  /** True when every shard's checkpoint has reached its newest record and no batch is running. */
  async isCaughtUp(): Promise<boolean> {
    if (this.#inFlight > 0) return false;
    for (const shardId of await this.#o.log.listShards()) {
      const latest = await this.#o.log.latestSequence(shardId);
      if (latest === undefined) continue;
      const done = await this.#o.checkpoints.get(this.#o.consumer, shardId);
      if (done === undefined || compareSequence(done, latest) < 0) return false;
    }
    return this.#inFlight === 0;
  }

  async #runShard(shardId: string): Promise<void> {
    const o = this.#o;
    const signal = this.#abort.signal;
    let position: string | undefined;
    for (;;) {
      try {
        position = await o.checkpoints.get(o.consumer, shardId);
        break;
      } catch (err) {
        // Starting from the log's beginning instead would re-run everything: wait for the store.
        o.logger.warn('checkpoint read failed', { shardId, error: errorName(err) });
        await sleep(o.retryBaseMs * 10, signal);
        if (signal.aborted) return;
      }
    }
    let size = o.batchSize;
    let attempts = 0;
    while (!signal.aborted) {
      let records: LogRecord[];
      try {
        records = await o.log.read(shardId, position, size);
      } catch (err) {
        o.logger.warn('event log read failed', { shardId, error: errorName(err) });
        await sleep(o.retryBaseMs * 10, signal);
        continue;
      }
      if (records.length === 0) {
        await sleep(o.idleMs, signal);
        continue;
      }
      this.#inFlight++;
      let outcome: BatchOutcome;
      try {
        outcome = await this.#invoke(shardId, records);
      } finally {
        this.#inFlight--;
      }
      // Everything before the first failure succeeded: checkpoint it.
      const okCount = outcome.failedIndex ?? records.length;
      if (okCount > 0) {
        position = records[okCount - 1]!.sequenceNumber;
        await this.#checkpoint(shardId, position);
      }
      if (outcome.failedIndex === undefined) {
        attempts = 0;
        size = o.batchSize;
        continue;
      }
      if (outcome.threw && o.bisectOnError && records.length - okCount > 1) {
        // Halving does not count as a retry: it narrows the search for the bad record.
        size = Math.ceil((records.length - okCount) / 2);
        continue;
      }
      attempts = okCount > 0 ? 1 : attempts + 1;
      if (attempts > o.maxRetries && (await this.#handOver(shardId, records[okCount]!, outcome.error))) {
        position = records[okCount]!.sequenceNumber;
        await this.#checkpoint(shardId, position);
        attempts = 0;
        size = o.batchSize;
        continue;
      }
      await sleep(fullJitter(attempts, { baseMs: o.retryBaseMs, capMs: 5000 }), signal);
    }
  }

  /**
   * Gives a record that failed every retry to the on-failure destination; true once it is there.
   * Without a destination nothing is ever skipped: the shard retries (Lambda's default of retrying
   * until the record expires), which stalls it visibly instead of dropping an event's whole fan-out.
   */
  async #handOver(shardId: string, record: LogRecord, error: unknown): Promise<boolean> {
    const o = this.#o;
    const fields = { shardId, sequenceNumber: record.sequenceNumber, error: errorName(error) };
    if (o.onFailure === undefined) {
      o.logger.error('record keeps failing; the shard retries it until it succeeds', fields);
      return false;
    }
    try {
      await o.onFailure(shardId, [record], error);
    } catch (err) {
      o.logger.error('on-failure destination failed; retrying the record', {
        ...fields,
        error: errorName(err),
      });
      return false;
    }
    o.logger.error('record failed every retry; sent to the on-failure destination', fields);
    return true;
  }

  /** A failed checkpoint write only means a restart re-processes some records, which is idempotent. */
  async #checkpoint(shardId: string, position: string): Promise<void> {
    try {
      await this.#o.checkpoints.set(this.#o.consumer, shardId, position);
    } catch (err) {
      this.#o.logger.warn('checkpoint write failed', { shardId, error: errorName(err) });
    }
  }

  async #invoke(shardId: string, records: readonly LogRecord[]): Promise<BatchOutcome> {
    const event: KinesisStreamEvent = {
      Records: records.map((r) => toKinesisRecord(shardId, r, this.#o.streamArn)),
    };
    try {
      const response = await this.#o.handler(event);
      const failures = response?.batchItemFailures ?? [];
      if (failures.length === 0) return {};
      // Lambda retries from the lowest failed sequence number.
      let failedIndex = records.length;
      for (const f of failures) {
        const i = records.findIndex((r) => r.sequenceNumber === f.itemIdentifier);
        // An identifier that names no record of the batch fails the whole batch, as Lambda does.
        failedIndex = Math.min(failedIndex, i === -1 ? 0 : i);
      }
      return { failedIndex };
    } catch (error) {
      this.#o.logger.warn('fan-out batch threw', {
        shardId,
        records: records.length,
        error: errorName(error),
      });
      return { failedIndex: 0, threw: true, error };
    }
  }
}

interface BatchOutcome {
  readonly failedIndex?: number;
  readonly threw?: boolean;
  readonly error?: unknown;
}

/** A log record as Lambda's Kinesis event source hands it to the handler. */
export function toKinesisRecord(shardId: string, r: LogRecord, streamArn: string): KinesisStreamRecord {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: r.partitionKey,
      sequenceNumber: r.sequenceNumber,
      data: Buffer.from(r.data).toString('base64'),
      approximateArrivalTimestamp: r.arrivedAt / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${shardId}:${r.sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn:aws:iam::000000000000:role/fanout-local',
    awsRegion: 'local',
    eventSourceARN: streamArn,
  };
}

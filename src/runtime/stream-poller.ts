import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { userPartition } from '../domain/keys.ts';
import { fullJitter } from '../lib/backoff.ts';
import { errorName } from '../lib/error-name.ts';
import { sleep } from '../lib/sleep.ts';
import type { Checkpoints } from '../ports/event-log.ts';
import type { Logger } from '../ports/logger.ts';
import { silentLogger } from '../ports/logger.ts';
import type { PreferenceChange, PreferenceStore } from '../ports/preferences.ts';

export type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | undefined>;

export interface StreamPollerOptions {
  readonly store: PreferenceStore;
  readonly checkpoints: Checkpoints;
  readonly handler: StreamHandler;
  /** @default 'preference-invalidation' */
  readonly consumer?: string;
  /** @default 100 */
  readonly batchSize?: number;
  /** @default 50 ms */
  readonly idleMs?: number;
  readonly logger?: Logger;
}

const SHARD = 'preferences';

/**
 * Delivers the preference store's change feed to a handler as DynamoDB Streams records (the shape
 * an EventBridge Pipe passes on), checkpointing after success and retrying from the first
 * failed record, like the Pipe's stream source.
 */
export class StreamPoller {
  readonly #o: Required<StreamPollerOptions>;
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #busy = false;

  constructor(opts: StreamPollerOptions) {
    this.#o = {
      consumer: 'preference-invalidation',
      batchSize: 100,
      idleMs: 50,
      logger: silentLogger,
      ...opts,
    };
  }

  start(): void {
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }

  async isCaughtUp(): Promise<boolean> {
    if (this.#busy) return false;
    const after = await this.#o.checkpoints.get(this.#o.consumer, SHARD);
    return (await this.#o.store.changes(after, 1)).length === 0 && !this.#busy;
  }

  async #run(): Promise<void> {
    const o = this.#o;
    const signal = this.#abort.signal;
    let position = await o.checkpoints.get(o.consumer, SHARD);
    let attempts = 0;
    while (!signal.aborted) {
      this.#busy = true;
      try {
        const changes = await o.store.changes(position, o.batchSize);
        if (changes.length === 0) {
          this.#busy = false;
          await sleep(o.idleMs, signal);
          continue;
        }
        const response = await o.handler({ Records: changes.map(toStreamRecord) });
        const failedIds = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        const firstFailed = changes.findIndex((c) => failedIds.has(c.sequence));
        const okCount = firstFailed === -1 ? changes.length : firstFailed;
        if (okCount > 0) {
          position = changes[okCount - 1]!.sequence;
          await o.checkpoints.set(o.consumer, SHARD, position);
          attempts = 0;
        }
        if (firstFailed !== -1) {
          attempts++;
          this.#busy = false;
          await sleep(fullJitter(attempts, { baseMs: 100, capMs: 5000 }), signal);
        }
      } catch (err) {
        attempts++;
        o.logger.warn('preference stream batch failed', { error: errorName(err) });
        this.#busy = false;
        await sleep(fullJitter(attempts, { baseMs: 100, capMs: 5000 }), signal);
      } finally {
        this.#busy = false;
      }
    }
  }
}

/** A preference change as DynamoDB Streams shows it (keys only matter to invalidation). */
export function toStreamRecord(change: PreferenceChange): DynamoDBRecord {
  return {
    eventID: change.sequence,
    eventName: change.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'local',
    dynamodb: {
      ApproximateCreationDateTime: Math.floor(change.at / 1000),
      Keys: { pk: { S: userPartition(change.user) } },
      SequenceNumber: change.sequence,
      SizeBytes: 0,
      StreamViewType: 'KEYS_ONLY',
    },
    eventSourceARN: 'arn:aws:dynamodb:local:000000000000:table/fanout-preferences/stream/local',
  };
}

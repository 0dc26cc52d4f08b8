import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
  type ShardIteratorType,
} from '@aws-sdk/client-dynamodb-streams';
import {
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
} from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '../../domain/errors.ts';
import { userPartition } from '../../domain/keys.ts';
import type { Preferences, UserKey } from '../../domain/types.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import type { PreferenceChange, PreferenceStore, PutPreferencesOptions } from '../../ports/preferences.ts';
import type { FreshnessOptions } from '../../ports/read-freshness.ts';
import { requireArray, requireLimit, requireUser } from '../checks/input.ts';
import { validatePreferences } from '../checks/preferences.ts';
import { awsCall, awsErrorName } from './errors.ts';
import {
  changeFromSdkRecord,
  lineageOrder,
  parseDoc,
  parsePosition,
  rawSequence,
  startingPoint,
} from './preferences-stream.ts';
import { type RetryPolicy, sendWithRetry } from './retry.ts';

export { preferenceChangeFromStreamRecord } from './preferences-stream.ts';

export interface DynamoPreferenceStoreOptions {
  /** Item reads and writes. */
  readonly documents: DynamoDBDocumentClient;
  /** Physical name of the `preferences` table (see tables.ts). */
  readonly tableName: string;
  /** Reads the table's stream for `changes`. */
  readonly streams: DynamoDBStreamsClient;
  /** DescribeTable, for the table's LatestStreamArn. */
  readonly dynamodb: DynamoDBClient;
  /** Stamps a change whose stream record carries no creation time. @default systemClock */
  readonly clock?: Clock;
  /** Retries of BatchWriteItem's UnprocessedItems. */
  readonly retry?: RetryPolicy;
}

/** BatchWriteItem's limit. */
const BATCH_WRITE_MAX = 25;
/** GetRecords' limit. */
const GET_RECORDS_MAX = 1000;
/**
 * Empty pages followed on a closed shard before a call gives up for now: a closed shard ends with
 * a null iterator, and DynamoDB may hand out empty pages before it.
 */
const EMPTY_PAGES_MAX = 8;

/**
 * The item: `pk` = `tenant#user` and `doc`, the Preferences as JSON. One string attribute rather
 * than a DynamoDB map per field: an empty map (`channels: {}`, common) came back from the stream
 * as a value with no type at all through the SDK on DynamoDB Local, and a string round-trips
 * every record exactly, in the table and in both stream images. Nothing queries by field.
 */
interface PreferenceItem {
  readonly pk: string;
  readonly doc: string;
  /** The record's `updatedAt`, beside the document so a conditional put can compare it. */
  readonly u: number;
}

/**
 * Preferences on DynamoDB (one item per user, ~1 WCU per put or delete, 1 RCU per strongly
 * consistent get, 0.5 per `recent` one), with the change feed read from the table's own stream
 * (NEW_AND_OLD_IMAGES). The stream is the feed, so a write and its change can never disagree, and
 * a delete of a user with no record emits nothing, as the contract asks.
 *
 * On AWS the stream is consumed by an EventBridge Pipe (see `preferenceChangeFromStreamRecord`);
 * `changes` serves the local runtime's poller and tools. Its position is
 * `<sequence number, 40 digits>.<12 hex of sha256(shard id)>`: fixed width, so `compareSequence`
 * orders positions like sequence numbers, which grow from parent shard to child. Shards are read
 * parent before child (then by starting sequence), one at a time; the feed is one line, so while
 * two shards are open at once (a table split across partitions on AWS) the first open one must
 * be caught up before the next is read. DynamoDB Local keeps one shard per table.
 */
export class DynamoPreferenceStore implements PreferenceStore {
  readonly #o: DynamoPreferenceStoreOptions;
  readonly #clock: Clock;
  #streamArn: string | undefined;

  constructor(opts: DynamoPreferenceStoreOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? systemClock;
  }

  /** Strongly consistent unless `freshness: 'recent'` (an eventually consistent read, half the units). */
  async get(user: UserKey, opts?: FreshnessOptions): Promise<Preferences | undefined> {
    requireUser(user);
    const out = await awsCall('preferences GetItem', () =>
      this.#o.documents.send(
        new GetCommand({
          TableName: this.#o.tableName,
          Key: { pk: userPartition(user) },
          ConsistentRead: opts?.freshness !== 'recent',
        }),
      ),
    );
    const item = out.Item as PreferenceItem | undefined;
    return item === undefined ? undefined : parseDoc(item.doc);
  }

  /**
   * One PutItem. With `ifUpdatedAt`, conditional on the stored `u`; an item written before `u`
   * existed has none, and is replaced as an unconditional put would. With `ifAbsent`, conditional
   * on no item.
   */
  async put(prefs: Preferences, opts?: PutPreferencesOptions): Promise<void> {
    validatePreferences(prefs, 'prefs');
    const expected = opts?.ifUpdatedAt;
    const absent = opts?.ifAbsent === true && expected === undefined;
    await awsCall('preferences PutItem', () =>
      this.#o.documents.send(
        new PutCommand({
          TableName: this.#o.tableName,
          Item: toItem(prefs),
          ...(absent ? { ConditionExpression: 'attribute_not_exists(pk)' } : {}),
          ...(expected === undefined
            ? {}
            : {
                ConditionExpression: 'attribute_exists(pk) AND (u = :u OR attribute_not_exists(u))',
                ExpressionAttributeValues: { ':u': expected },
              }),
        }),
      ),
    );
  }

  /**
   * BatchWriteItem by 25 (1 WCU per record), re-sending only UnprocessedItems. Every record is
   * checked before the first write, so a bad one applies nothing. A user repeated in the input
   * starts a new batch (DynamoDB rejects a batch naming one key twice), so each record is still
   * written in order and emits its own change.
   */
  async putMany(prefs: readonly Preferences[]): Promise<void> {
    requireArray(prefs, 'prefs');
    prefs.forEach((p, i) => {
      validatePreferences(p, `prefs[${i}]`);
    });
    for (const batch of batchesWithoutRepeats(prefs.map(toItem))) {
      await sendWithRetry(
        'preferences BatchWriteItem',
        batch.map((Item) => ({ PutRequest: { Item } })),
        async (requests) => {
          const out: BatchWriteCommandOutput = await this.#o.documents.send(
            new BatchWriteCommand({ RequestItems: { [this.#o.tableName]: [...requests] } }),
          );
          return (out.UnprocessedItems?.[this.#o.tableName] ?? []) as unknown as typeof requests;
        },
        this.#o.retry,
      );
    }
  }

  /** DeleteItem of an absent key writes nothing, so the stream gets no REMOVE for it. */
  async delete(user: UserKey): Promise<void> {
    requireUser(user);
    await awsCall('preferences DeleteItem', () =>
      this.#o.documents.send(
        new DeleteCommand({ TableName: this.#o.tableName, Key: { pk: userPartition(user) } }),
      ),
    );
  }

  /**
   * Changes after `after`, read from the stream: DescribeTable once per store (the stream ARN),
   * then per call DescribeStream, one GetShardIterator per shard visited and GetRecords pages.
   * Records that are not INSERT / MODIFY / REMOVE (DynamoDB Local's names for TTL deletions) are
   * read past and skipped.
   */
  async changes(after: string | undefined, limit: number): Promise<PreferenceChange[]> {
    const from = after === undefined ? undefined : parsePosition(after);
    requireLimit(limit);
    const streamArn = await this.#streamArnOnce();
    const shards = lineageOrder(await this.#shards(streamArn));
    const { index, afterSequence, exact } = startingPoint(shards, from);
    const out: PreferenceChange[] = [];
    for (let i = index; i < shards.length && out.length < limit; i++) {
      const shard = shards[i]!;
      const shardId = shard.ShardId!;
      const resumeHere = i === index && afterSequence !== undefined;
      let iterator = await this.#iterator(
        streamArn,
        shardId,
        resumeHere && exact ? afterSequence : undefined,
      );
      let emptyPages = 0;
      while (iterator !== undefined && out.length < limit) {
        const page = await awsCall('preferences stream GetRecords', () =>
          this.#o.streams.send(
            new GetRecordsCommand({
              ShardIterator: iterator,
              Limit: Math.min(GET_RECORDS_MAX, limit - out.length),
            }),
          ),
        );
        const records = page.Records ?? [];
        for (const record of records) {
          const seq = record.dynamodb?.SequenceNumber;
          // Reading a shard that was not the position's own from its start (trimmed or foreign
          // shard id): skip what the position already covers.
          if (resumeHere && !exact && seq !== undefined && BigInt(seq) <= afterSequence!) continue;
          const change = changeFromSdkRecord(record, shardId, this.#clock);
          if (change !== undefined) out.push(change);
        }
        iterator = page.NextShardIterator ?? undefined;
        if (records.length > 0) {
          emptyPages = 0;
          continue;
        }
        // An open shard with nothing more is where the feed ends for now; its successors
        // cannot come before it.
        if (iterator !== undefined && shard.SequenceNumberRange?.EndingSequenceNumber === undefined)
          return out;
        if (++emptyPages >= EMPTY_PAGES_MAX) return out;
      }
    }
    return out;
  }

  async #streamArnOnce(): Promise<string> {
    if (this.#streamArn !== undefined) return this.#streamArn;
    const out = await awsCall('preferences DescribeTable', () =>
      this.#o.dynamodb.send(new DescribeTableCommand({ TableName: this.#o.tableName })),
    );
    const arn = out.Table?.LatestStreamArn;
    if (arn === undefined) {
      throw new StoreUnavailableError(
        `table ${this.#o.tableName} has no stream (NEW_AND_OLD_IMAGES expected)`,
      );
    }
    this.#streamArn = arn;
    return arn;
  }

  async #shards(streamArn: string): Promise<Shard[]> {
    const shards: Shard[] = [];
    let exclusiveStart: string | undefined;
    do {
      const out = await awsCall('preferences DescribeStream', () =>
        this.#o.streams.send(
          new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStart }),
        ),
      );
      shards.push(...(out.StreamDescription?.Shards ?? []));
      exclusiveStart = out.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStart !== undefined);
    return shards;
  }

  /**
   * An iterator after `sequence`, or at the shard's oldest record. A position older than the
   * stream's 24 hours is gone (TrimmedDataAccessException): the oldest record left is next.
   */
  async #iterator(
    streamArn: string,
    shardId: string,
    after: bigint | undefined,
  ): Promise<string | undefined> {
    const get = (type: ShardIteratorType, sequence?: bigint) =>
      this.#o.streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: type,
          ...(sequence === undefined ? {} : { SequenceNumber: rawSequence(sequence) }),
        }),
      );
    const out = await awsCall('preferences stream GetShardIterator', async () => {
      if (after === undefined) return get('TRIM_HORIZON');
      try {
        return await get('AFTER_SEQUENCE_NUMBER', after);
      } catch (err) {
        if (awsErrorName(err) === 'TrimmedDataAccessException') return get('TRIM_HORIZON');
        throw err;
      }
    });
    return out.ShardIterator ?? undefined;
  }
}

/** Splits into BatchWriteItem-sized batches, starting a new one where a key repeats. */
function batchesWithoutRepeats(items: readonly PreferenceItem[]): PreferenceItem[][] {
  const batches: PreferenceItem[][] = [];
  let current: PreferenceItem[] = [];
  let keys = new Set<string>();
  for (const item of items) {
    if (current.length === BATCH_WRITE_MAX || keys.has(item.pk)) {
      batches.push(current);
      current = [];
      keys = new Set();
    }
    current.push(item);
    keys.add(item.pk);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function toItem(prefs: Preferences): PreferenceItem {
  return { pk: userPartition(prefs), doc: JSON.stringify(prefs), u: prefs.updatedAt };
}

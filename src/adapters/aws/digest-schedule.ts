import { hash } from 'node:crypto';
import { BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DigestCadence } from '../../domain/email-digest.ts';
import type { DigestEntry, DigestSchedule } from '../../ports/digest-schedule.ts';
import { checkDigestEntries, checkDueQuery } from '../checks/digest-schedule.ts';
import { chunks, type RetryPolicy, retrying, sendWithRetry } from './retry.ts';

export interface DynamoDigestScheduleOptions {
  readonly documents: DynamoDBDocumentClient;
  /** Physical name of the `digestSchedule` table (`TABLES.digestSchedule`: pk, sk, TTL `expiresAt`). */
  readonly tableName: string;
  /**
   * Partitions the entries are spread over by user. More shards spread the writes of a popular
   * digest hour (every user of a timezone due at 09:00) over more partitions; each `due` costs one
   * Query per shard. @default 16
   */
  readonly shards?: number;
  /** Backoff of throttled calls and unprocessed batch items. @default 8 attempts */
  readonly retry?: RetryPolicy;
}

/** An entry left by a sender that never came back is dropped this long after it was due. */
const EXPIRY_AFTER_DUE_S = 31 * 24 * 3600;
/** Epoch ms as fixed-width digits: string order is time order (until the year 5138). */
const DUE_DIGITS = 14;

interface Item {
  readonly pk: string;
  readonly sk: string;
  readonly t: string;
  readonly u: string;
  readonly c: DigestCadence;
  readonly p: number;
  readonly d: number;
  readonly expiresAt: number;
}

/**
 * Pending email digests on DynamoDB, with no Scan: entries are spread over `shards` partitions
 * by a hash of (tenant, user), and sorted in each by due time (`sk` = due time, then the entry's
 * names). `due` is one Query per shard for `sk` up to now, in parallel, each reading only due
 * items; `add` and `done` are BatchWriteItem puts and deletes (an add of a pending entry writes
 * the same item again). A steady round costs `shards` small Queries whatever the number of users.
 */
export class DynamoDigestSchedule implements DigestSchedule {
  readonly #documents: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #shards: number;
  readonly #retry: RetryPolicy;

  constructor(opts: DynamoDigestScheduleOptions) {
    this.#documents = opts.documents;
    this.#table = opts.tableName;
    this.#shards = opts.shards ?? 16;
    if (!Number.isInteger(this.#shards) || this.#shards < 1 || this.#shards > 1000) {
      throw new RangeError('digest schedule shards must be an integer from 1 to 1000');
    }
    this.#retry = opts.retry ?? {};
  }

  async add(entries: readonly DigestEntry[]): Promise<void> {
    checkDigestEntries(entries);
    // BatchWriteItem refuses two requests for one key in a call.
    const items = new Map(entries.map((e) => [this.#key(e).sk, this.#item(e)]));
    await this.#write(
      'digest schedule add',
      [...items.values()].map((Item) => ({ PutRequest: { Item } })),
    );
  }

  async due(now: number, limit: number): Promise<DigestEntry[]> {
    checkDueQuery(now, limit);
    const upTo = `${pad(now)}#\uffff`;
    const shards = await Promise.all(
      Array.from({ length: this.#shards }, (_, shard) =>
        retrying(
          'digest schedule due',
          () =>
            this.#documents.send(
              new QueryCommand({
                TableName: this.#table,
                KeyConditionExpression: 'pk = :pk AND sk <= :upTo',
                ExpressionAttributeValues: { ':pk': partition(shard), ':upTo': upTo },
                Limit: limit,
              }),
            ),
          this.#retry,
        ),
      ),
    );
    return shards
      .flatMap((out) => (out.Items ?? []) as Item[])
      .sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0))
      .slice(0, limit)
      .map((i) => ({ tenantId: i.t, userId: i.u, cadence: i.c, periodStart: i.p, dueAt: i.d }));
  }

  async done(entries: readonly DigestEntry[]): Promise<void> {
    checkDigestEntries(entries);
    const keys = new Map(entries.map((e) => [this.#key(e).sk, this.#key(e)]));
    await this.#write(
      'digest schedule done',
      [...keys.values()].map((Key) => ({ DeleteRequest: { Key } })),
    );
  }

  async #write(what: string, requests: readonly Record<string, unknown>[]): Promise<void> {
    for (const batch of chunks(requests, 25)) {
      await sendWithRetry(
        what,
        batch,
        async (pending) => {
          const out = await this.#documents.send(
            new BatchWriteCommand({ RequestItems: { [this.#table]: pending as never } }),
          );
          return (out.UnprocessedItems?.[this.#table] ?? []) as Record<string, unknown>[];
        },
        this.#retry,
      );
    }
  }

  #key(e: DigestEntry): { pk: string; sk: string } {
    const shard = hash('sha256', `${e.tenantId}#${e.userId}`, 'buffer').readUInt32BE(0) % this.#shards;
    return { pk: partition(shard), sk: `${pad(e.dueAt)}#${e.tenantId}#${e.userId}#${e.cadence}` };
  }

  #item(e: DigestEntry): Item {
    return {
      ...this.#key(e),
      t: e.tenantId,
      u: e.userId,
      c: e.cadence,
      p: e.periodStart,
      d: e.dueAt,
      expiresAt: Math.ceil(e.dueAt / 1000) + EXPIRY_AFTER_DUE_S,
    };
  }
}

function partition(shard: number): string {
  return `digest#${shard}`;
}

function pad(ms: number): string {
  return String(ms).padStart(DUE_DIGITS, '0');
}

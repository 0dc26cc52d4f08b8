import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { mapLimit } from './concurrency.ts';
import { awsCall } from './errors.ts';
import { chunks, type RetryPolicy, sendWithRetry } from './retry.ts';

/**
 * DynamoDB plumbing shared by the inbox and the celebrity feed: batch reads and writes within
 * AWS's limits that re-send only what came back unprocessed, paged queries, and capacity
 * reporting for the cost benchmark.
 */

/** A DynamoDB item as the DocumentClient marshals it. */
export type Item = Record<string, unknown>;

/**
 * Where an adapter reports the capacity units its calls consumed. Every call passes
 * `ReturnConsumedCapacity: 'TOTAL'` (free), which sums the table and its indexes, so a GSI write
 * shows up in the write units of the call that caused it.
 */
export interface CapacitySink {
  add(table: string, wcu: number, rcu: number): void;
}

/** What every DynamoDB helper here needs. */
export interface DynamoContext {
  readonly documents: DynamoDBDocumentClient;
  readonly capacity?: CapacitySink | undefined;
  readonly retry?: RetryPolicy | undefined;
}

/** BatchWriteItem's limit. */
const WRITE_BATCH = 25;
/** BatchGetItem's limit. */
const GET_BATCH = 100;
/** Batch calls in flight at once per operation: enough to hide latency, few enough not to throttle. */
const BATCH_CONCURRENCY = 4;

/**
 * Reports `consumed` into `sink`. With `TOTAL`, DynamoDB gives one `CapacityUnits` per table; a
 * read call's units are read units and a write call's write units, so `kind` says which.
 */
export function reportCapacity(
  sink: CapacitySink | undefined,
  kind: 'read' | 'write',
  consumed: ConsumedCapacity | readonly ConsumedCapacity[] | undefined,
): void {
  if (sink === undefined || consumed === undefined) return;
  const list: readonly ConsumedCapacity[] = Array.isArray(consumed)
    ? consumed
    : [consumed as ConsumedCapacity];
  for (const c of list) {
    const units = c.CapacityUnits ?? 0;
    const wcu = c.WriteCapacityUnits ?? (kind === 'write' ? units : 0);
    const rcu = c.ReadCapacityUnits ?? (kind === 'read' ? units : 0);
    if (wcu > 0 || rcu > 0) sink.add(c.TableName ?? 'unknown', wcu, rcu);
  }
}

/** Puts `items` with BatchWriteItem, 25 a call, re-sending only the unprocessed ones. */
export async function batchPut(
  ctx: DynamoContext,
  what: string,
  table: string,
  items: readonly Item[],
): Promise<void> {
  await mapLimit(chunks(items, WRITE_BATCH), BATCH_CONCURRENCY, (chunk) =>
    sendWithRetry(
      what,
      chunk,
      async (batch) => {
        const out = await ctx.documents.send(
          new BatchWriteCommand({
            RequestItems: { [table]: batch.map((Item) => ({ PutRequest: { Item } })) },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
        reportCapacity(ctx.capacity, 'write', out.ConsumedCapacity);
        return (out.UnprocessedItems?.[table] ?? []).flatMap((r) =>
          r.PutRequest?.Item === undefined ? [] : [r.PutRequest.Item],
        );
      },
      ctx.retry,
    ),
  );
}

/**
 * Reads `keys` (distinct) with BatchGetItem, 100 a call, re-asking only for unprocessed keys.
 * `attributes` limits what comes back (the read still costs the whole item's size).
 */
export async function batchGet(
  ctx: DynamoContext,
  what: string,
  table: string,
  keys: readonly Item[],
  attributes: readonly string[],
): Promise<Item[]> {
  const found: Item[] = [];
  const names = Object.fromEntries(attributes.map((a, i) => [`#a${i}`, a]));
  await mapLimit(chunks(keys, GET_BATCH), BATCH_CONCURRENCY, (chunk) =>
    sendWithRetry(
      what,
      chunk,
      async (batch) => {
        const out = await ctx.documents.send(
          new BatchGetCommand({
            RequestItems: {
              [table]: {
                Keys: [...batch],
                ConsistentRead: true,
                ProjectionExpression: Object.keys(names).join(', '),
                ExpressionAttributeNames: names,
              },
            },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
        reportCapacity(ctx.capacity, 'read', out.ConsumedCapacity);
        found.push(...(out.Responses?.[table] ?? []));
        return out.UnprocessedKeys?.[table]?.Keys ?? [];
      },
      ctx.retry,
    ),
  );
  return found;
}

/** One Query call, translated and metered. */
export async function query(
  ctx: DynamoContext,
  what: string,
  input: QueryCommandInput,
): Promise<QueryCommandOutput> {
  const out = await awsCall(what, () =>
    ctx.documents.send(new QueryCommand({ ...input, ReturnConsumedCapacity: 'TOTAL' })),
  );
  reportCapacity(ctx.capacity, 'read', out.ConsumedCapacity);
  return out;
}

/** Every item of a Query, following LastEvaluatedKey. */
export async function queryAll(ctx: DynamoContext, what: string, input: QueryCommandInput): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const out = await query(ctx, what, {
      ...input,
      ExclusiveStartKey: start,
    });
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/** A Query with `Select: 'COUNT'`, following LastEvaluatedKey (each page counts up to 1 MB read). */
export async function queryCount(
  ctx: DynamoContext,
  what: string,
  input: QueryCommandInput,
): Promise<number> {
  let count = 0;
  let start: Item | undefined;
  do {
    const out = await query(ctx, what, {
      ...input,
      Select: 'COUNT',
      ExclusiveStartKey: start,
    });
    count += out.Count ?? 0;
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  return count;
}

/**
 * Newest-first items of partition `pk` strictly within (afterId, beforeId), at most `limit`,
 * skipping items whose `expiresAt` is at or below `minExpiresAt`. A key condition cannot say
 * "strictly between", so BETWEEN's two inclusive ends are dropped here; a filter applies after
 * Limit, so this pages on until it has `limit` items or the range ends.
 */
export async function pageRange(
  ctx: DynamoContext,
  what: string,
  table: string,
  pk: string,
  opts: {
    limit: number;
    afterId: string;
    beforeId?: string | undefined;
    minExpiresAt?: number | undefined;
    /** A further filter (an inbox tab), ANDed with the expiry filter. */
    filter?: { expression: string; names: Record<string, string>; values: Item } | undefined;
  },
): Promise<Item[]> {
  const { limit, afterId, beforeId } = opts;
  if (beforeId !== undefined && beforeId <= afterId) return [];
  const values: Item = { ':pk': pk, ':a': afterId };
  let condition = '#pk = :pk AND #sk > :a';
  if (beforeId !== undefined) {
    condition = '#pk = :pk AND #sk BETWEEN :a AND :b';
    values[':b'] = beforeId;
  }
  const names: Record<string, string> = { '#pk': 'pk', '#sk': 'sk' };
  let filter: string | undefined;
  if (opts.minExpiresAt !== undefined) {
    filter = '#exp > :exp';
    names['#exp'] = 'expiresAt';
    values[':exp'] = opts.minExpiresAt;
  }
  if (opts.filter !== undefined) {
    filter = filter === undefined ? opts.filter.expression : `${filter} AND (${opts.filter.expression})`;
    Object.assign(names, opts.filter.names);
    Object.assign(values, opts.filter.values);
  }
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const out = await query(ctx, what, {
      TableName: table,
      KeyConditionExpression: condition,
      FilterExpression: filter,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: false,
      // The two inclusive ends of BETWEEN may take two places.
      Limit: limit - items.length + (beforeId === undefined ? 0 : 2),
      ExclusiveStartKey: start,
    });
    for (const item of out.Items ?? []) {
      if (item.sk === afterId || item.sk === beforeId) continue;
      items.push(item);
      if (items.length === limit) return items;
    }
    start = out.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

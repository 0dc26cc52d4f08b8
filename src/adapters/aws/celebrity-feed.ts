import { DeleteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { authorPartition } from '../../domain/keys.ts';
import { expiresAtSeconds, INBOX_TTL_MS } from '../../domain/ttl.ts';
import type {
  Category,
  CelebrityPointer,
  NotificationId,
  TenantId,
  UserId,
  UserKey,
} from '../../domain/types.ts';
import type {
  ArrivalMark,
  ArrivalPage,
  CelebrityFeed,
  FeedPageOptions,
  PointerRef,
} from '../../ports/celebrity-feed.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import { validatePointer, validateRefs } from '../checks/celebrity-feed.ts';
import { requireArray, requireLimit, requireText, requireUser } from '../checks/input.ts';
import { parsePayload, payloadJson } from '../stored-payload.ts';
import { ArrivalLog } from './arrival-log.ts';
import { awsCall } from './errors.ts';
import {
  batchGet,
  batchPut,
  type CapacitySink,
  type DynamoContext,
  type Item,
  pageRange,
  query,
  reportCapacity,
} from './inbox-batch.ts';
import { distinctBy, expiryFloor } from './inbox-items.ts';
import type { RetryPolicy } from './retry.ts';

export interface DynamoCelebrityFeedOptions {
  readonly documents: DynamoDBDocumentClient;
  /** Physical name of the `celebrityFeed` table (tables.ts). */
  readonly tableName: string;
  /** Pointers expire this long after they were created. @default INBOX_TTL_MS (90 days) */
  readonly ttlMs?: number;
  /** Retries of unprocessed batch items and of throttled batch calls. */
  readonly retry?: RetryPolicy;
  /** Receives the capacity units every call consumed (the cost benchmark's meter). */
  readonly capacity?: CapacitySink;
  /** The clock that stamps arrival-log entries and decides which have settled. @default systemClock */
  readonly clock?: Clock;
  /**
   * Arrival-log entries younger than this are re-read by every catch-up, in case an older one
   * lands late: more than the clock skew between writers plus a slow write. @default 60 s
   */
  readonly arrivalSettleMs?: number;
}

/**
 * Celebrity pointers on DynamoDB. Each pointer is two items: one under pk `tenant#author`
 * (sk = id), so an author's feed is one newest-first Query, and a copy under pk
 * `tenant#ptr#<id>` (sk = author), so `get` by id is one single-item Query within the tenant and
 * needs no index (author ids never contain `#`, so the two never collide; ids are per event, and
 * two authors' pointers can share one only if their tenant, event id and time all agree).
 * Attributes are short (e eventId, t type, c category, o objectId, d data as JSON, ca createdAt)
 * and both expire by `expiresAt`.
 *
 * Every `put` also appends one entry per pointer to the tenant's arrival log (arrival-log.ts),
 * after the pointer, so a log entry never names a pointer that is not there yet.
 *
 * Cost per pointer: 3 write units (two items of at most 1 KB and a log entry) + 2 read units for
 * the existence checks, whatever the follower count; pointers are one per celebrity event, so
 * this is small next to one row per follower. `put` writes only pointers not stored yet, so a
 * repeat with other data changes nothing (but appends a repeated log entry, which is harmless).
 * A catch-up reads the log (~40 entries per read unit) and the pointers it copies (`getMany`: one
 * consistent read unit each).
 */
export class DynamoCelebrityFeed implements CelebrityFeed {
  readonly #ctx: DynamoContext;
  readonly #table: string;
  readonly #ttlMs: number;
  readonly #log: ArrivalLog;

  constructor(opts: DynamoCelebrityFeedOptions) {
    this.#ctx = { documents: opts.documents, capacity: opts.capacity, retry: opts.retry };
    this.#table = opts.tableName;
    this.#ttlMs = opts.ttlMs ?? INBOX_TTL_MS;
    this.#log = new ArrivalLog(this.#ctx, this.#table, {
      clock: opts.clock ?? systemClock,
      settleMs: opts.arrivalSettleMs ?? 60_000,
      ttlMs: this.#ttlMs,
    });
  }

  async put(pointers: readonly CelebrityPointer[]): Promise<void> {
    requireArray(pointers, 'pointers');
    pointers.forEach(validatePointer);
    if (pointers.length === 0) return;
    const distinct = distinctBy(pointers, (p) => `${authorPartition(p.tenantId, p.authorId)}\n${p.id}`);
    const items = distinct.flatMap((p) => {
      const shared = this.#item(p);
      return [
        { ...shared, pk: authorPartition(p.tenantId, p.authorId), sk: p.id },
        { ...shared, pk: byIdPartition(p.tenantId, p.id), sk: p.authorId },
      ];
    });
    // Both items are checked, and only missing ones written: a crash between the two leaves one,
    // and the retry completes the pair without touching the one already there.
    const existing = await batchGet(
      this.#ctx,
      'celebrity feed write',
      this.#table,
      items.map((item) => ({ pk: item.pk, sk: item.sk })),
      ['pk', 'sk'],
    );
    const have = new Set(existing.map((item) => `${item.pk}\n${item.sk}`));
    await batchPut(
      this.#ctx,
      'celebrity feed write',
      this.#table,
      items.filter((item) => !have.has(`${item.pk}\n${item.sk}`)),
    );
    await this.#log.append(distinct);
  }

  async page(author: UserKey, opts: FeedPageOptions): Promise<CelebrityPointer[]> {
    requireUser(author, 'author');
    requireLimit(opts?.limit);
    requireText(opts.afterId, 'afterId');
    if (opts.beforeId !== undefined) requireText(opts.beforeId, 'beforeId');
    const items = await pageRange(
      this.#ctx,
      'celebrity feed page',
      this.#table,
      authorPartition(author.tenantId, author.userId),
      {
        limit: opts.limit,
        afterId: opts.afterId,
        beforeId: opts.beforeId,
        minExpiresAt: expiryFloor(opts.afterId, this.#ttlMs),
      },
    );
    return items.map((item) => toPointer(author.tenantId, author.userId, item.sk as string, item));
  }

  async get(tenantId: TenantId, id: NotificationId): Promise<CelebrityPointer | undefined> {
    requireText(tenantId, 'tenantId');
    requireText(id, 'id');
    const out = await query(this.#ctx, 'celebrity feed get', {
      TableName: this.#table,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': 'pk' },
      ExpressionAttributeValues: { ':pk': byIdPartition(tenantId, id) },
      Limit: 1,
    });
    const item = out.Items?.[0];
    return item === undefined ? undefined : toPointer(tenantId, item.sk as string, id, item);
  }

  /**
   * Deletes the author's item first (what catch-up's `getMany` reads), then the copy by id (what
   * `get` reads): a retry after a crash between the two finishes the pair. 2 write units.
   */
  async remove(tenantId: TenantId, authorId: UserId, id: NotificationId): Promise<boolean> {
    requireText(tenantId, 'tenantId');
    requireText(authorId, 'authorId');
    requireText(id, 'id');
    const keys = [
      { pk: authorPartition(tenantId, authorId), sk: id },
      { pk: byIdPartition(tenantId, id), sk: authorId },
    ];
    let removed = false;
    for (const Key of keys) {
      const out = await awsCall('celebrity feed remove', () =>
        this.#ctx.documents.send(
          new DeleteCommand({
            TableName: this.#table,
            Key,
            ReturnValues: 'ALL_OLD',
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      reportCapacity(this.#ctx.capacity, 'write', out.ConsumedCapacity);
      if (out.Attributes !== undefined) removed = true;
    }
    return removed;
  }

  async getMany(tenantId: TenantId, refs: readonly PointerRef[]): Promise<CelebrityPointer[]> {
    requireText(tenantId, 'tenantId');
    validateRefs(refs);
    const keys = distinctBy(
      refs.map((r) => ({ pk: authorPartition(tenantId, r.authorId), sk: r.id })),
      (k) => `${k.pk}\n${k.sk}`,
    );
    if (keys.length === 0) return [];
    const found = await batchGet(this.#ctx, 'celebrity feed get many', this.#table, keys, POINTER_ATTRIBUTES);
    const skip = tenantId.length + 1;
    return found.map((item) => toPointer(tenantId, (item.pk as string).slice(skip), item.sk as string, item));
  }

  async arrivals(tenantId: TenantId, after: ArrivalMark | undefined, limit: number): Promise<ArrivalPage> {
    requireText(tenantId, 'tenantId');
    requireLimit(limit);
    if (after !== undefined) requireText(after, 'after');
    return this.#log.read(tenantId, after, limit);
  }

  async arrivalTail(tenantId: TenantId): Promise<ArrivalMark> {
    requireText(tenantId, 'tenantId');
    return this.#log.tail(tenantId);
  }

  /** The attributes both items of a pointer share. */
  #item(p: CelebrityPointer): Item {
    const item: Item = {
      e: p.eventId,
      t: p.type,
      c: p.category,
      ca: p.createdAt,
      expiresAt: expiresAtSeconds(p.createdAt, this.#ttlMs),
    };
    if (p.objectId !== undefined && p.objectId !== null) item.o = p.objectId;
    const data = payloadJson(p.data);
    if (data !== null) item.d = data;
    return item;
  }
}

/** What a pointer read returns (BatchGetItem needs them named). */
const POINTER_ATTRIBUTES = ['pk', 'sk', 'e', 't', 'c', 'o', 'd', 'ca'] as const;

/** Partition of a pointer's by-id copy. */
function byIdPartition(tenantId: TenantId, id: NotificationId): string {
  return `${tenantId}#ptr#${id}`;
}

function toPointer(tenantId: TenantId, authorId: string, id: string, item: Item): CelebrityPointer {
  const pointer: { -readonly [K in keyof CelebrityPointer]: CelebrityPointer[K] } = {
    tenantId,
    authorId,
    id,
    eventId: item.e as string,
    type: item.t as string,
    category: item.c as Category,
    createdAt: item.ca as number,
  };
  if (typeof item.o === 'string') pointer.objectId = item.o;
  const data = parsePayload(item.d);
  if (data !== undefined) pointer.data = data;
  return pointer;
}

import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { INBOX_TTL_MS } from '../../domain/ttl.ts';
import type { InboxRow, NotificationId, TenantId, UserKey } from '../../domain/types.ts';
import type { ArrivalMark } from '../../ports/celebrity-feed.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import type {
  CatchUpRange,
  EventRef,
  Inbox,
  InboxGroup,
  InboxPageOptions,
  ReadMark,
} from '../../ports/inbox.ts';
import { requireStatus } from '../checks/inbox-status.ts';
import { requireArray, requireInteger, requireLimit, requireText, requireUser } from '../checks/input.ts';
import { requireRef } from '../checks/retraction.ts';
import { mapLimit } from './concurrency.ts';
import { awsCall } from './errors.ts';
import {
  batchGet,
  batchPut,
  type CapacitySink,
  type DynamoContext,
  pageRange,
  queryAll,
  queryCount,
  reportCapacity,
} from './inbox-batch.ts';
import { InboxCatchUp } from './inbox-catch-up.ts';
import { UnreadCounter } from './inbox-counter.ts';
import { readGroup } from './inbox-group-read.ts';
import { DynamoGroups } from './inbox-groups.ts';
import {
  distinctBy,
  expiryFloor,
  rowFromItem,
  rowItem,
  rowsPk,
  validateMarks,
  validateRows,
} from './inbox-items.ts';
import { DynamoMarks, statusFilter } from './inbox-marks.ts';
import { DynamoRetractions } from './inbox-retract.ts';
import { conditional, readState, stateKey } from './inbox-state.ts';
import type { RetryPolicy } from './retry.ts';

/** How unread rows are counted. */
export const UnreadMode = { Gsi: 'gsi', Counter: 'counter' } as const;
export type UnreadMode = (typeof UnreadMode)[keyof typeof UnreadMode];

export interface DynamoInboxOptions {
  readonly documents: DynamoDBDocumentClient;
  /** Physical name of the `inbox` table (tables.ts). */
  readonly tableName: string;
  /**
   * `gsi`: unread rows carry the sparse `unread` index key, so a count is one COUNT query, and
   * every unread row costs a second write unit for its index entry. `counter`: no index entry
   * (one write unit per row); a per-user counter item, kept exact by the read path
   * (inbox-counter.ts). @default 'gsi'
   */
  readonly unread?: UnreadMode;
  /** Rows expire this long after they were created. @default INBOX_TTL_MS (90 days) */
  readonly ttlMs?: number;
  /** Retries of unprocessed batch items and of throttled batch calls. */
  readonly retry?: RetryPolicy;
  /** Receives the capacity units every call consumed (the cost benchmark's meter). */
  readonly capacity?: CapacitySink;
  /** Counter mode only: the clock that decides which rows are fresh. @default systemClock */
  readonly clock?: Clock;
  /**
   * Counter mode only: rows younger than this are always counted by a scan, never from the
   * counter, so a row being written can never land inside the counted range unseen. Must exceed
   * twice the clock skew between hosts plus twice a slow putMany. @default 60 s
   */
  readonly counterSettleMs?: number;
}

/** Concurrent single-item writes of one markRead / markAllRead. */
const ITEM_CONCURRENCY = 8;

/**
 * Users' inboxes on DynamoDB (item layout in inbox-items.ts). A page is one Query of the user's
 * partition, newest first. The unread count is either a COUNT query of the sparse `unread` GSI
 * (GSI mode) or a counter item (counter mode, inbox-counter.ts).
 *
 * Writes are idempotent and keep read state. BatchWriteItem cannot be conditional, so putMany
 * first asks which rows exist (BatchGetItem, consistent, keys only: 1 read unit per row up to
 * 4 KB) and writes only the missing ones (1 write unit per row of at most 1 KB, + 1 for the GSI
 * entry of an unread row in GSI mode). Fan-out costs 1 RCU + 2 WCU per notification in GSI mode,
 * 1 RCU + 1 WCU in counter mode. A conditional PutItem per row would close the one race left
 * (two deliveries of the same batch that both find a row missing, with the user marking it read
 * in between, leave it unread again) and save the read unit, but it was measured on 2026-12-08 at
 * ten times the fan-out CPU per row (0.66–0.84 ms against 0.06–0.07 ms, the same run on DynamoDB
 * Local): about 10 s more for a 9,999-follower author's fan-out on a 1,024 MB function, for
 * $0.06 per million rows on a provisioned table. Not done.
 *
 * Rows past their TTL are never returned: every read takes the TTL bound `afterId` as the lower
 * end of its key range (DynamoDB deletes expired items up to ~2 days late), and pages also
 * filter on `expiresAt` in case a row's createdAt disagrees with its id. Page reads and the GSI
 * are eventually consistent (on AWS a row can show up a moment after putMany returns).
 */
export class DynamoInbox implements Inbox {
  readonly #ctx: DynamoContext;
  readonly #table: string;
  readonly #ttlMs: number;
  readonly #clock: Clock;
  readonly #counter: UnreadCounter | undefined;
  readonly #catchUp: InboxCatchUp;
  readonly #groups: DynamoGroups;
  readonly #marks: DynamoMarks;
  readonly #retractions: DynamoRetractions;

  constructor(opts: DynamoInboxOptions) {
    this.#ctx = { documents: opts.documents, capacity: opts.capacity, retry: opts.retry };
    this.#table = opts.tableName;
    this.#ttlMs = opts.ttlMs ?? INBOX_TTL_MS;
    this.#clock = opts.clock ?? systemClock;
    this.#counter =
      (opts.unread ?? UnreadMode.Gsi) === UnreadMode.Counter
        ? new UnreadCounter(this.#ctx, this.#table, this.#clock, opts.counterSettleMs ?? 60_000)
        : undefined;
    this.#catchUp = new InboxCatchUp(this.#ctx, this.#table, this.#ttlMs, this.#counter !== undefined);
    this.#groups = new DynamoGroups({
      ctx: this.#ctx,
      table: this.#table,
      ttlMs: this.#ttlMs,
      indexed: this.#counter === undefined,
      clock: this.#clock,
    });
    this.#marks = new DynamoMarks(this.#ctx, this.#table, this.#counter);
    this.#retractions = new DynamoRetractions(this.#ctx, this.#table);
  }

  async putMany(rows: readonly InboxRow[]): Promise<void> {
    requireArray(rows, 'rows');
    validateRows(rows);
    if (rows.length === 0) return;
    const startedAt = this.#clock.now();
    const grouped = rows.filter((row) => row.groupKey !== undefined);
    if (grouped.length > 0) await this.#putGroups(grouped, startedAt);
    const plain = grouped.length === 0 ? rows : rows.filter((row) => row.groupKey === undefined);
    if (plain.length === 0) return;
    const distinct = distinctBy(plain, rowKey);
    const existing = await batchGet(
      this.#ctx,
      'inbox write',
      this.#table,
      distinct.map((row) => ({ pk: rowsPk(row), sk: row.id })),
      ['pk', 'sk'],
    );
    const have = new Set(existing.map((item) => `${item.pk}\n${item.sk}`));
    const missing = distinct.filter((row) => !have.has(rowKey(row)));
    const indexed = this.#counter === undefined;
    await batchPut(
      this.#ctx,
      'inbox write',
      this.#table,
      missing.map((row) => rowItem(row, this.#ttlMs, indexed)),
    );
    const counter = this.#counter;
    if (counter === undefined) return;
    // Late rows may land inside a user's counted range: reset those counters (see inbox-counter.ts).
    const slow = counter.tookTooLong(startedAt);
    const reset = distinct.filter((row) => !row.read && (slow || !counter.isFresh(row.id, startedAt)));
    const users = distinctBy(reset, (row) => rowsPk(row));
    await mapLimit(users, ITEM_CONCURRENCY, (user) => counter.reset(user));
  }

  /**
   * Aggregated rows (inbox-groups.ts). In counter mode, a group's old row leaving the counted
   * range, or a row becoming unread in place there, resets its user's counter, as a late row does.
   */
  async #putGroups(rows: readonly InboxRow[], startedAt: number): Promise<void> {
    const { moved } = await this.#groups.put(rows);
    const counter = this.#counter;
    if (counter === undefined) return;
    const slow = counter.tookTooLong(startedAt);
    const late = rows.filter((row) => slow || !counter.isFresh(row.id, startedAt));
    const reset = [
      ...moved.filter((m) => slow || !counter.isFresh(m.oldId, startedAt)).map((m) => m.user),
      ...late,
    ];
    await mapLimit(
      distinctBy(reset, (user) => rowsPk(user)),
      ITEM_CONCURRENCY,
      (user) => counter.reset(user),
    );
  }

  /** inbox-groups.ts; in counter mode a deleted row resets its user's counter (a rare write). */
  async retractFromGroup(
    user: UserKey,
    groupKey: string,
    actorId: string,
    eventId: string,
  ): Promise<boolean> {
    requireUser(user);
    requireText(groupKey, 'groupKey');
    requireText(actorId, 'actorId');
    requireText(eventId, 'eventId');
    const done = await this.#groups.retract(user, groupKey, actorId, eventId);
    if (done.deletedRow !== undefined && this.#counter !== undefined) await this.#counter.reset(user);
    return done.removed;
  }

  async page(user: UserKey, opts: InboxPageOptions): Promise<InboxRow[]> {
    requireUser(user);
    requireLimit(opts?.limit);
    requireText(opts.afterId, 'afterId');
    if (opts.beforeId !== undefined) requireText(opts.beforeId, 'beforeId');
    const items = await pageRange(this.#ctx, 'inbox page', this.#table, rowsPk(user), {
      limit: opts.limit,
      afterId: opts.afterId,
      beforeId: opts.beforeId,
      minExpiresAt: expiryFloor(opts.afterId, this.#ttlMs),
      filter: statusFilter(requireStatus(opts.status)),
    });
    return items.map((item) => rowFromItem(user, item));
  }

  async unreadCount(user: UserKey, afterId: NotificationId): Promise<number> {
    requireUser(user);
    requireText(afterId, 'afterId');
    if (this.#counter !== undefined) return this.#counter.count(user, afterId);
    return queryCount(this.#ctx, 'inbox unread count', {
      TableName: this.#table,
      IndexName: 'unread',
      KeyConditionExpression: '#upk = :pk AND #sk > :a',
      ExpressionAttributeNames: { '#upk': 'upk', '#sk': 'sk' },
      ExpressionAttributeValues: { ':pk': rowsPk(user), ':a': afterId },
    });
  }

  async markRead(user: UserKey, marks: readonly ReadMark[]): Promise<void> {
    requireUser(user);
    requireArray(marks, 'marks');
    validateMarks(marks);
    const rowIds = [...new Set(marks.map((mark) => mark.id))];
    if (rowIds.length === 0) return;
    if (this.#counter !== undefined) await this.#counter.markRows(user, rowIds);
    else await mapLimit(rowIds, ITEM_CONCURRENCY, (id) => this.#markRow(user, id, true));
  }

  /**
   * The watermark first (a catch-up that starts now writes pointers at or below it read), then one
   * UpdateItem per unread row up to `upToId`: found through the GSI in GSI mode; in counter mode by
   * a consistent query of the rows above the id up to which all are known read, after which the
   * rows flipped come off the counter (or it is reset, should anything have changed it meanwhile).
   * A retry after a failure redoes only what is still unread.
   */
  async markAllRead(user: UserKey, upToId: NotificationId): Promise<void> {
    requireUser(user);
    requireText(upToId, 'upToId');
    await this.#raiseWatermark(user, upToId);
    const counter = this.#counter;
    if (counter === undefined) {
      const unread = await queryAll(this.#ctx, 'inbox mark all read', {
        TableName: this.#table,
        IndexName: 'unread',
        KeyConditionExpression: '#upk = :pk AND #sk <= :up',
        ExpressionAttributeNames: { '#upk': 'upk', '#sk': 'sk' },
        ExpressionAttributeValues: { ':pk': rowsPk(user), ':up': upToId },
      });
      await mapLimit(unread, ITEM_CONCURRENCY, (item) => this.#markRow(user, item.sk as string, true));
      return;
    }
    const old = await readState(this.#ctx, this.#table, user);
    // Every row at or below `ru` is read already (inbox-state.ts).
    const from = old?.ru;
    if (from !== undefined && from >= upToId) return;
    const unread = await queryAll(this.#ctx, 'inbox mark all read', {
      TableName: this.#table,
      KeyConditionExpression:
        from === undefined ? '#pk = :pk AND #sk <= :up' : '#pk = :pk AND #sk BETWEEN :lo AND :up',
      FilterExpression: '#r = :f',
      ProjectionExpression: '#sk',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#r': 'r' },
      ExpressionAttributeValues: {
        ':pk': rowsPk(user),
        ':up': upToId,
        ':f': false,
        ...(from === undefined ? {} : { ':lo': from }),
      },
      ConsistentRead: true,
    });
    const flipped: NotificationId[] = [];
    await mapLimit(unread, ITEM_CONCURRENCY, async (item) => {
      if (await this.#markRow(user, item.sk as string, false)) flipped.push(item.sk as string);
    });
    await counter.flippedRead(user, old, upToId, flipped);
  }

  async has(user: UserKey, id: NotificationId): Promise<boolean> {
    requireUser(user);
    requireText(id, 'id');
    const out = await awsCall('inbox has', () =>
      this.#ctx.documents.send(
        new GetCommand({
          TableName: this.#table,
          Key: { pk: rowsPk(user), sk: id },
          ConsistentRead: true,
          ProjectionExpression: '#sk',
          ExpressionAttributeNames: { '#sk': 'sk' },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    reportCapacity(this.#ctx.capacity, 'read', out.ConsumedCapacity);
    return out.Item !== undefined;
  }

  async catchUpMark(user: UserKey): Promise<ArrivalMark | undefined> {
    requireUser(user);
    return (await readState(this.#ctx, this.#table, user))?.cu;
  }

  materialise(user: UserKey, rows: readonly InboxRow[], range: CatchUpRange): Promise<number> {
    return this.#catchUp.materialise(user, rows, range);
  }

  /** inbox-marks.ts. */
  async markUnread(user: UserKey, ids: readonly NotificationId[]): Promise<void> {
    await this.#marks.markUnread(user, checkedIds(user, ids));
  }

  async archive(user: UserKey, ids: readonly NotificationId[]): Promise<void> {
    await this.#marks.archive(user, checkedIds(user, ids));
  }

  async unarchive(user: UserKey, ids: readonly NotificationId[]): Promise<void> {
    await this.#marks.unarchive(user, checkedIds(user, ids));
  }

  async markSeen(user: UserKey, upToId: NotificationId): Promise<void> {
    requireUser(user);
    requireText(upToId, 'upToId');
    await this.#marks.markSeen(user, upToId);
  }

  async seenMark(user: UserKey): Promise<NotificationId | undefined> {
    requireUser(user);
    return this.#marks.seenMark(user);
  }

  async unseenCount(user: UserKey, afterId: NotificationId, cap: number): Promise<number> {
    requireUser(user);
    requireText(afterId, 'afterId');
    requireLimit(cap, 'cap');
    return this.#marks.unseenCount(user, afterId, cap);
  }

  /** inbox-retract.ts. */
  async recordRetraction(tenantId: TenantId, ref: EventRef, expiresAt: number): Promise<void> {
    requireText(tenantId, 'tenantId');
    requireRef(ref, 'ref');
    requireInteger(expiresAt, 'expiresAt', 0, Number.MAX_SAFE_INTEGER);
    await this.#retractions.record(tenantId, ref, expiresAt);
  }

  async retractedAmong(tenantId: TenantId, refs: readonly EventRef[]): Promise<Set<string>> {
    requireText(tenantId, 'tenantId');
    requireArray(refs, 'refs');
    for (const [i, ref] of refs.entries()) requireRef(ref, `refs[${i}]`);
    return this.#retractions.among(tenantId, refs);
  }

  /**
   * inbox-retract.ts. In counter mode the plain rows among the ids are first marked read the exact way markRead does
   * (off the counter in one transaction with it), then deleted: a crash in between leaves read
   * rows, whose delete on the retry changes no count.
   */
  async removeRows(user: UserKey, ids: readonly NotificationId[]): Promise<number> {
    requireUser(user);
    requireArray(ids, 'ids');
    for (const [i, id] of ids.entries()) requireText(id, `ids[${i}]`);
    const distinct = [...new Set(ids)];
    if (distinct.length === 0) return 0;
    if (this.#counter === undefined) return this.#retractions.remove(user, distinct);
    // Only plain rows: markRows would mark an aggregated item read too.
    const plain = await this.#retractions.plainRows(user, distinct);
    if (plain.length === 0) return 0;
    await this.#counter.markRows(user, plain);
    return this.#retractions.remove(user, plain);
  }

  /** Marks one row read if it is an unread row of this user (true); anything else is a no-op. */
  async #markRow(user: UserKey, id: NotificationId, indexed: boolean): Promise<boolean> {
    return conditional('inbox mark read', async () => {
      const out = await this.#ctx.documents.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: rowsPk(user), sk: id },
          // Dropping `upk` takes the row out of the sparse index (a GSI delete: one more write unit).
          UpdateExpression: indexed ? 'SET #r = :t REMOVE #upk' : 'SET #r = :t',
          // Never creates an item: a missing row (deleted by TTL, say) fails the check.
          ConditionExpression: '#r = :f',
          ExpressionAttributeNames: indexed ? { '#r': 'r', '#upk': 'upk' } : { '#r': 'r' },
          ExpressionAttributeValues: { ':t': true, ':f': false },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      reportCapacity(this.#ctx.capacity, 'write', out.ConsumedCapacity);
    });
  }

  /** Stores `upToId` as the watermark unless a newer one is there already. */
  async #raiseWatermark(user: UserKey, upToId: NotificationId): Promise<void> {
    await conditional('inbox mark all read', async () => {
      const out = await this.#ctx.documents.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: stateKey(user),
          UpdateExpression: 'SET #w = :w',
          ConditionExpression: 'attribute_not_exists(#w) OR #w < :w',
          ExpressionAttributeNames: { '#w': 'w' },
          ExpressionAttributeValues: { ':w': upToId },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      reportCapacity(this.#ctx.capacity, 'write', out.ConsumedCapacity);
    });
  }

  /** inbox-group-read.ts. */
  async group(user: UserKey, groupKey: string): Promise<InboxGroup | undefined> {
    requireUser(user);
    requireText(groupKey, 'groupKey');
    return readGroup(this.#ctx, this.#table, user, groupKey);
  }
}

/** The distinct ids, checked. */
function checkedIds(user: UserKey, ids: readonly NotificationId[]): NotificationId[] {
  requireUser(user);
  requireArray(ids, 'ids');
  ids.forEach((id, i) => {
    requireText(id, `ids[${i}]`);
  });
  return [...new Set(ids)];
}

/** Identity of a row within a batch (pk has no newline). */
function rowKey(row: InboxRow): string {
  return `${rowsPk(row)}\n${row.id}`;
}

import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { NotificationId, UserKey } from '../../domain/types.ts';
import type { InboxStatus } from '../../ports/inbox.ts';
import { mapLimit } from './concurrency.ts';
import { awsCall } from './errors.ts';
import { batchGet, type DynamoContext, type Item, query, reportCapacity } from './inbox-batch.ts';
import type { UnreadCounter } from './inbox-counter.ts';
import { rowsPk } from './inbox-items.ts';
import {
  conditional,
  inRange,
  optimistic,
  readState,
  stateKey,
  type TransactItems,
  versionCondition,
} from './inbox-state.ts';
import { chunks } from './retry.ts';

/** Concurrent single-item writes of one call. */
const ITEM_CONCURRENCY = 8;

/** A page filter: the condition on a row item beside the key range, with its names and values. */
export interface RowFilter {
  readonly expression: string;
  readonly names: Record<string, string>;
  readonly values: Item;
}

/**
 * The filter of a tab. A filter is applied after the key range is read, so a page of Unread or
 * Archived pays for the rows it skips (1 read unit per 4 KB read, eventually consistent: half):
 * cheap while the tab is not rare among the rows, up to a read of the user's whole 90-day window
 * when it is (an empty Archived tab, say).
 */
export function statusFilter(status: InboxStatus): RowFilter {
  switch (status) {
    case 'unread':
      return { expression: '#r = :f', names: { '#r': 'r' }, values: { ':f': false } };
    case 'archived':
      return { expression: '#ar = :t', names: { '#ar': 'ar' }, values: { ':t': true } };
    default:
      return { expression: 'attribute_not_exists(#ar)', names: { '#ar': 'ar' }, values: {} };
  }
}

/**
 * Mark unread, archive, unarchive and the seen watermark on DynamoDB. A row carries `ar = true`
 * while archived, and an archived row is always read (`r = true`, no `upk`), so the unread count
 * needs no new rule: archiving is a read mark, un-reading takes the row out of the archive.
 *
 * GSI mode: one conditional UpdateItem per row, skipped by its condition when the row is in the
 * target state already (idempotent; a missing row is never created). Counter mode: an archive
 * marks the rows read through the counter first (one transaction with the state, as markRead),
 * then sets `ar`; a mark unread flips the rows and adds the counted ones to `n` in one
 * transaction conditioned on the state's version, and forgets `lu` and `ru` (bounds an unread
 * row below them would break). The seen watermark `sn` sits on the user's state item.
 */
export class DynamoMarks {
  readonly #ctx: DynamoContext;
  readonly #table: string;
  readonly #counter: UnreadCounter | undefined;

  constructor(ctx: DynamoContext, table: string, counter: UnreadCounter | undefined) {
    this.#ctx = ctx;
    this.#table = table;
    this.#counter = counter;
  }

  async markUnread(user: UserKey, ids: readonly NotificationId[]): Promise<void> {
    if (this.#counter === undefined) {
      await mapLimit(ids, ITEM_CONCURRENCY, (id) =>
        this.#update(user, id, 'inbox mark unread', {
          UpdateExpression: 'SET #r = :f, #upk = :pk REMOVE #ar',
          ConditionExpression: 'attribute_exists(#sk) AND (#r = :t OR attribute_exists(#ar))',
          ExpressionAttributeNames: { '#r': 'r', '#upk': 'upk', '#ar': 'ar', '#sk': 'sk' },
          ExpressionAttributeValues: { ':f': false, ':t': true, ':pk': rowsPk(user) },
        }),
      );
      return;
    }
    // A transaction holds 100 items: 99 rows and the state.
    for (const part of chunks(ids, 99)) await this.#unreadCounted(user, part);
  }

  async archive(user: UserKey, ids: readonly NotificationId[]): Promise<void> {
    const counter = this.#counter;
    if (counter === undefined) {
      await mapLimit(ids, ITEM_CONCURRENCY, (id) =>
        this.#update(user, id, 'inbox archive', {
          UpdateExpression: 'SET #r = :t, #ar = :t REMOVE #upk',
          ConditionExpression: 'attribute_exists(#sk) AND (#r = :f OR attribute_not_exists(#ar))',
          ExpressionAttributeNames: { '#r': 'r', '#ar': 'ar', '#sk': 'sk', '#upk': 'upk' },
          ExpressionAttributeValues: { ':f': false, ':t': true },
        }),
      );
      return;
    }
    // Read first, through the counter; `ar` only on a row still read, so a concurrent mark unread
    // in between wins rather than a flip the counter never saw.
    await counter.markRows(user, ids);
    await mapLimit(ids, ITEM_CONCURRENCY, (id) =>
      this.#update(user, id, 'inbox archive', {
        UpdateExpression: 'SET #ar = :t',
        ConditionExpression: '#r = :t AND attribute_not_exists(#ar)',
        ExpressionAttributeNames: { '#r': 'r', '#ar': 'ar' },
        ExpressionAttributeValues: { ':t': true },
      }),
    );
  }

  async unarchive(user: UserKey, ids: readonly NotificationId[]): Promise<void> {
    await mapLimit(ids, ITEM_CONCURRENCY, (id) =>
      this.#update(user, id, 'inbox unarchive', {
        UpdateExpression: 'REMOVE #ar',
        ConditionExpression: 'attribute_exists(#ar)',
        ExpressionAttributeNames: { '#ar': 'ar' },
      }),
    );
  }

  /** Raises `sn` on the state item; a lower or equal mark fails the condition and changes nothing. */
  async markSeen(user: UserKey, upToId: NotificationId): Promise<void> {
    await conditional('inbox mark seen', async () => {
      const out = await this.#ctx.documents.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: stateKey(user),
          UpdateExpression: 'SET #sn = :sn',
          ConditionExpression: 'attribute_not_exists(#sn) OR #sn < :sn',
          ExpressionAttributeNames: { '#sn': 'sn' },
          ExpressionAttributeValues: { ':sn': upToId },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      reportCapacity(this.#ctx.capacity, 'write', out.ConsumedCapacity);
    });
  }

  /** One consistent GetItem of the state item's `sn` (1 read unit). */
  async seenMark(user: UserKey): Promise<NotificationId | undefined> {
    const out = await awsCall('inbox seen mark', () =>
      this.#ctx.documents.send(
        new GetCommand({
          TableName: this.#table,
          Key: stateKey(user),
          ConsistentRead: true,
          ProjectionExpression: '#sn',
          ExpressionAttributeNames: { '#sn': 'sn' },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    reportCapacity(this.#ctx.capacity, 'read', out.ConsumedCapacity);
    const sn = out.Item?.sn;
    return typeof sn === 'string' ? sn : undefined;
  }

  /**
   * The state's GetItem, then a COUNT Query of the rows above max(afterId, sn), newest first,
   * `Limit` = the rows still wanted: at most about `cap` rows read (more only when archived rows
   * sit above the watermark, which the filter skips after reading them).
   */
  async unseenCount(user: UserKey, afterId: NotificationId, cap: number): Promise<number> {
    const seen = await this.seenMark(user);
    const from = seen !== undefined && seen > afterId ? seen : afterId;
    let count = 0;
    let start: Item | undefined;
    do {
      const out = await query(this.#ctx, 'inbox unseen count', {
        TableName: this.#table,
        KeyConditionExpression: '#pk = :pk AND #sk > :from',
        FilterExpression: 'attribute_not_exists(#ar)',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#ar': 'ar' },
        ExpressionAttributeValues: { ':pk': rowsPk(user), ':from': from },
        ScanIndexForward: false,
        Select: 'COUNT',
        Limit: cap - count,
        ExclusiveStartKey: start,
      });
      count += out.Count ?? 0;
      start = out.LastEvaluatedKey;
    } while (start !== undefined && count < cap);
    return Math.min(count, cap);
  }

  /** Counter mode: flips the rows to unread and adds the counted ones to `n`, atomically. */
  async #unreadCounted(user: UserKey, ids: readonly NotificationId[]): Promise<void> {
    await optimistic(this.#ctx, 'inbox mark unread', async () => {
      const old = await readState(this.#ctx, this.#table, user);
      const rows = await batchGet(
        this.#ctx,
        'inbox mark unread',
        this.#table,
        ids.map((sk) => ({ pk: rowsPk(user), sk })),
        ['sk', 'r', 'ar'],
      );
      const changed = rows.filter((row) => row.r === true || row.ar === true);
      if (changed.length === 0) return true;
      const counted = changed.filter((row) => row.r === true && inRange(old, row.sk as string)).length;
      const items: TransactItems = changed.map((row) => ({
        Update: {
          TableName: this.#table,
          Key: { pk: rowsPk(user), sk: row.sk as string },
          UpdateExpression: 'SET #r = :f REMOVE #ar',
          ConditionExpression: '#r = :was',
          ExpressionAttributeNames: { '#r': 'r', '#ar': 'ar' },
          ExpressionAttributeValues: { ':f': false, ':was': row.r === true },
        },
      }));
      const condition = versionCondition(old);
      items.push({
        Update: {
          TableName: this.#table,
          Key: stateKey(user),
          UpdateExpression: 'SET #v = :v1 ADD #n :plus REMOVE #lu, #ru',
          ...condition,
          ExpressionAttributeNames: { ...condition.ExpressionAttributeNames, '#lu': 'lu', '#ru': 'ru' },
          ExpressionAttributeValues: { ...condition.ExpressionAttributeValues, ':plus': counted },
        },
      });
      return conditional('inbox mark unread', async () => {
        const out = await this.#ctx.documents.send(
          new TransactWriteCommand({ TransactItems: items, ReturnConsumedCapacity: 'TOTAL' }),
        );
        reportCapacity(this.#ctx.capacity, 'write', out.ConsumedCapacity);
      });
    });
  }

  /** One conditional UpdateItem of a row; a failed condition (nothing to change) is no error. */
  async #update(
    user: UserKey,
    id: NotificationId,
    what: string,
    input: {
      UpdateExpression: string;
      ConditionExpression: string;
      ExpressionAttributeNames: Record<string, string>;
      ExpressionAttributeValues?: Item;
    },
  ): Promise<void> {
    await conditional(what, async () => {
      const out = await this.#ctx.documents.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: rowsPk(user), sk: id },
          ...input,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      reportCapacity(this.#ctx.capacity, 'write', out.ConsumedCapacity);
    });
  }
}

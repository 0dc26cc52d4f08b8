import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isUlid, maxUlidAt, ulidTime } from '../../domain/ids.ts';
import type { NotificationId, UserKey } from '../../domain/types.ts';
import type { Clock } from '../../ports/clock.ts';
import { awsCall } from './errors.ts';
import { batchGet, type DynamoContext, type Item, query, queryAll, reportCapacity } from './inbox-batch.ts';
import { rowsPk } from './inbox-items.ts';
import {
  conditional,
  type InboxState,
  inRange,
  lowerBound,
  optimistic,
  readState,
  stateKey,
  type TransactItems,
  versionCondition,
} from './inbox-state.ts';
import { chunks } from './retry.ts';

/**
 * Rows above the counted range a count reads before it folds them in (and writes): a count that
 * finds fewer writes nothing.
 */
const FOLD_AT = 50;
/** Rows read past the TTL bound, looking for the lowest unread one, when the floor moves. */
const LOOKAHEAD = 100;

/**
 * The counter mode's unread count: no `upk`, so no GSI entry and one write unit per row written
 * (GSI mode: two). The read path pays instead.
 *
 * The user's state item (inbox-state.ts) holds `n`, the number of unread rows with id in the
 * counted range (`fl`, `to`], a version `v` that every change bumps, and `lu`, a lower bound of
 * the unread ids in the range. That invariant is all the design rests on, and every writer keeps
 * it:
 *
 * - unreadCount reads the state, counts the rows above `to`, and, only when one of the unread
 *   rows in the range may have passed the caller's TTL bound (the bound reached `lu`), reads the
 *   rows leaving the window and moves `fl` up. Once FOLD_AT rows above `to` are older than
 *   `now - settleMs`, it folds them into the range; it stores on condition that `v` is unchanged
 *   (optimistic; retried on conflict). A count with nothing to fold or move writes nothing.
 *   `to` never passes `now - settleMs`, so a row written now always lands above `to`.
 * - putMany writes "fresh" rows (id time within settleMs/2 of now) without touching the counter:
 *   they land above `to` and are counted by the next scan. A late row (an older id: a retried or
 *   lagging batch) may land inside the counted range, so putMany resets the counter of its user
 *   after writing it (`reset`: empty range, `v` bumped); so does a putMany that took longer than
 *   settleMs/2. A retried batch resets again even when its rows exist already, which covers a
 *   crash between the write and the reset.
 * - a catch-up writes its rows and adds the unread ones inside the range to `n` in ONE
 *   transaction that checks `v` (inbox-catch-up.ts).
 * - markRead flips `r` and decrements `n` (if the row is counted) in ONE transaction that also
 *   checks `v`: a row read and counted in between by a concurrent unreadCount is thus never lost
 *   nor subtracted twice. markAllRead flips rows one by one, then takes the counted ones off `n`
 *   on condition that `v` did not move meanwhile, and resets otherwise.
 *
 * Exactness assumes the clocks of writers and readers agree to well within settleMs/2.
 *
 * Costs: unreadCount = one consistent GetItem + one consistent Query of the rows newer than `to`
 * (at most about FOLD_AT rows plus the last settleMs of rows), + now and then a Query of the rows
 * leaving the window and one UpdateItem. markRead of k rows = a consistent read of the state and
 * the rows + one transaction of k + 1 items (2 write units each). A reset = 1 write unit, and the
 * next count re-reads the user's whole window.
 */
export class UnreadCounter {
  readonly #ctx: DynamoContext;
  readonly #table: string;
  readonly #clock: Clock;
  readonly #settleMs: number;

  constructor(ctx: DynamoContext, table: string, clock: Clock, settleMs: number) {
    this.#ctx = ctx;
    this.#table = table;
    this.#clock = clock;
    this.#settleMs = settleMs;
  }

  /** True when a row with this id, written from a putMany started at `startedAt`, needs no reset. */
  isFresh(id: NotificationId, startedAt: number): boolean {
    return isUlid(id) && ulidTime(id) > startedAt - this.#settleMs / 2;
  }

  /** True when a putMany started at `startedAt` took too long for its fresh rows to stay safe. */
  tookTooLong(startedAt: number): boolean {
    return this.#clock.now() - startedAt >= this.#settleMs / 2;
  }

  async count(user: UserKey, afterId: NotificationId): Promise<number> {
    return optimistic(this.#ctx, 'inbox unread count', async () => {
      const cap = maxUlidAt(Math.max(0, this.#clock.now() - this.#settleMs));
      // A bound inside the settle window (never a TTL bound): count directly, store nothing.
      if (afterId >= cap) return countUnread(await this.#rowsAbove(user, afterId));
      const old = await readState(this.#ctx, this.#table, user);
      let n = 0;
      let fl = afterId;
      let to = afterId;
      let lu: string | undefined;
      // Nothing counted yet, or the whole range expired: start over from the bound.
      let store = old?.to === undefined || old.fl === undefined || afterId >= old.to;
      if (!store && old?.to !== undefined && old.fl !== undefined) {
        n = old.n;
        fl = old.fl;
        to = old.to;
        lu = old.lu;
        if (afterId > fl && n > 0 && (lu === undefined || afterId >= lu)) {
          // An unread row of the range may have left the window.
          const left = await this.#leaving(user, fl, afterId, to);
          n -= left.gone;
          lu = left.lowest;
          fl = afterId;
          store = true;
        } else if (afterId < fl) {
          // An older bound than the range's (a caller's clock behind): count the rows in between.
          n += await this.#unreadIn(user, afterId, fl);
          fl = afterId;
          lu = undefined;
          store = true;
        }
      }
      const above = await this.#rowsAbove(user, to);
      const settled = above.filter((row) => (row.sk as string) <= cap);
      if (store || settled.length >= FOLD_AT) {
        const unread = settled.filter((row) => row.r !== true).map((row) => row.sk as string);
        const next = {
          n: n + unread.length,
          fl,
          to: settled.length > 0 ? (settled.at(-1)!.sk as string) : to,
          lu: lowerBound({ ...emptyState, n, lu }, unread),
        };
        if (!(await this.#store(user, old, next))) return undefined;
        return next.n + above.length - settled.length - countRead(above.slice(settled.length));
      }
      return n + above.length - countRead(above);
    });
  }

  /** Marks these rows read and takes the counted ones off the count, atomically (see class). */
  async markRows(user: UserKey, ids: readonly NotificationId[]): Promise<void> {
    // A transaction holds 100 items: 99 rows and the state.
    for (const part of chunks(ids, 99)) {
      await optimistic(this.#ctx, 'inbox mark read', async () => {
        const old = await readState(this.#ctx, this.#table, user);
        const rows = await batchGet(
          this.#ctx,
          'inbox mark read',
          this.#table,
          part.map((sk) => ({ pk: rowsPk(user), sk })),
          ['sk', 'r'],
        );
        const unread = rows.filter((row) => row.r !== true).map((row) => row.sk as string);
        if (unread.length === 0) return true;
        const counted = unread.filter((id) => inRange(old, id)).length;
        const items: TransactItems = unread.map((sk) => ({
          Update: {
            TableName: this.#table,
            Key: { pk: rowsPk(user), sk },
            UpdateExpression: 'SET #r = :t',
            ConditionExpression: '#r = :f',
            ExpressionAttributeNames: { '#r': 'r' },
            ExpressionAttributeValues: { ':t': true, ':f': false },
          },
        }));
        const condition = versionCondition(old);
        items.push({
          Update: {
            TableName: this.#table,
            Key: stateKey(user),
            UpdateExpression: 'SET #v = :v1 ADD #n :minus',
            ...condition,
            ExpressionAttributeValues: { ...condition.ExpressionAttributeValues, ':minus': -counted },
          },
        });
        return this.#transact('inbox mark read', items);
      });
    }
  }

  /**
   * After markAllRead flipped `flipped` rows up to `upToId` one by one, from a state read as
   * `old`: takes the counted ones off `n` and records that every row up to min(upToId, to) is
   * read, if nothing changed the state meanwhile; else forgets the count (reset).
   */
  async flippedRead(
    user: UserKey,
    old: InboxState | undefined,
    upToId: NotificationId,
    flipped: readonly NotificationId[],
  ): Promise<void> {
    if (old?.fl === undefined || old.to === undefined) return;
    const n = old.n - flipped.filter((id) => inRange(old, id)).length;
    const ru = upToId < old.to ? upToId : old.to;
    const condition = versionCondition(old);
    const stored = await conditional('inbox mark all read', async () => {
      const out = await this.#ctx.documents.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: stateKey(user),
          UpdateExpression: `SET #v = :v1, #n = :n, #ru = :ru${n === 0 ? ', #lu = :to' : ''}`,
          ...condition,
          ExpressionAttributeNames: {
            ...condition.ExpressionAttributeNames,
            '#ru': 'ru',
            ...(n === 0 ? { '#lu': 'lu' } : {}),
          },
          ExpressionAttributeValues: {
            ...condition.ExpressionAttributeValues,
            ':n': n,
            ':ru': old.ru !== undefined && old.ru > ru ? old.ru : ru,
            ...(n === 0 ? { ':to': old.to } : {}),
          },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      reportCapacity(this.#ctx.capacity, 'write', out.ConsumedCapacity);
    });
    if (!stored) await this.reset(user);
  }

  /** Forgets what was counted (empty range, `v` bumped): always safe, the next count re-reads. */
  async reset(user: UserKey): Promise<void> {
    const out = await awsCall('inbox unread reset', () =>
      this.#ctx.documents.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: stateKey(user),
          UpdateExpression: 'SET #v = if_not_exists(#v, :zero) + :one, #n = :zero REMOVE #fl, #to, #lu, #ru',
          ExpressionAttributeNames: {
            '#v': 'v',
            '#n': 'n',
            '#fl': 'fl',
            '#to': 'to',
            '#lu': 'lu',
            '#ru': 'ru',
          },
          ExpressionAttributeValues: { ':zero': 0, ':one': 1 },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    reportCapacity(this.#ctx.capacity, 'write', out.ConsumedCapacity);
  }

  /** Stores the new counter if nobody changed the state since `old` was read. */
  async #store(
    user: UserKey,
    old: InboxState | undefined,
    next: { n: number; fl: string; to: string; lu: string | undefined },
  ): Promise<boolean> {
    const condition = versionCondition(old);
    return conditional('inbox unread counter write', async () => {
      const out = await this.#ctx.documents.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: stateKey(user),
          UpdateExpression: `SET #v = :v1, #n = :n, #fl = :fl, #to = :to${next.lu === undefined ? ' REMOVE #lu' : ', #lu = :lu'}`,
          ConditionExpression: condition.ConditionExpression,
          ExpressionAttributeNames: {
            ...condition.ExpressionAttributeNames,
            '#fl': 'fl',
            '#to': 'to',
            '#lu': 'lu',
          },
          ExpressionAttributeValues: {
            ...condition.ExpressionAttributeValues,
            ':n': next.n,
            ':fl': next.fl,
            ':to': next.to,
            ...(next.lu === undefined ? {} : { ':lu': next.lu }),
          },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      reportCapacity(this.#ctx.capacity, 'write', out.ConsumedCapacity);
    });
  }

  /**
   * Unread rows with id in (fl, afterId], and a lower bound of the unread ids above `afterId`:
   * the first unread row found within LOOKAHEAD rows past it, else the last row read, else `to`.
   */
  async #leaving(
    user: UserKey,
    fl: string,
    afterId: string,
    to: string,
  ): Promise<{ gone: number; lowest: string | undefined }> {
    let gone = 0;
    let past = 0;
    let start: Item | undefined;
    do {
      const out = await query(this.#ctx, 'inbox unread scan', {
        ...this.#between(user, fl, to),
        Limit: LOOKAHEAD,
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      });
      for (const row of out.Items ?? []) {
        const sk = row.sk as string;
        if (sk === fl) continue;
        if (sk <= afterId) {
          if (row.r !== true) gone++;
        } else if (row.r !== true) {
          return { gone, lowest: sk };
        } else if (++past >= LOOKAHEAD) {
          return { gone, lowest: sk };
        }
      }
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    // The range is read to its end: no unread row in (afterId, to].
    return { gone, lowest: to };
  }

  /** Unread rows with id in (lo, hi]. */
  async #unreadIn(user: UserKey, lo: string, hi: string): Promise<number> {
    const rows = await queryAll(this.#ctx, 'inbox unread scan', this.#between(user, lo, hi));
    return rows.filter((row) => row.sk !== lo && row.r !== true).length;
  }

  /** A consistent Query of the ids and read flags of rows with id in [lo, hi]. */
  #between(user: UserKey, lo: string, hi: string) {
    return {
      TableName: this.#table,
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
      ProjectionExpression: '#sk, #r',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#r': 'r' },
      ExpressionAttributeValues: { ':pk': rowsPk(user), ':lo': lo, ':hi': hi },
      ConsistentRead: true,
    };
  }

  /** Ids and read flags of rows with id above `to`, oldest first. */
  async #rowsAbove(user: UserKey, to: string): Promise<Item[]> {
    return queryAll(this.#ctx, 'inbox unread scan', {
      TableName: this.#table,
      KeyConditionExpression: '#pk = :pk AND #sk > :to',
      ProjectionExpression: '#sk, #r',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#r': 'r' },
      ExpressionAttributeValues: { ':pk': rowsPk(user), ':to': to },
      ConsistentRead: true,
    });
  }

  /** Sends a transaction; false when it was cancelled (a condition failed: read again). */
  async #transact(what: string, items: TransactItems): Promise<boolean> {
    return conditional(what, async () => {
      const out = await this.#ctx.documents.send(
        new TransactWriteCommand({ TransactItems: items, ReturnConsumedCapacity: 'TOTAL' }),
      );
      reportCapacity(this.#ctx.capacity, 'write', out.ConsumedCapacity);
    });
  }
}

/** A state with nothing but what `lowerBound` looks at. */
const emptyState: InboxState = {
  v: undefined,
  n: 0,
  fl: undefined,
  to: undefined,
  lu: undefined,
  ru: undefined,
  cu: undefined,
  w: undefined,
};

function countUnread(rows: readonly Item[]): number {
  return rows.filter((row) => row.r !== true).length;
}

function countRead(rows: readonly Item[]): number {
  return rows.filter((row) => row.r === true).length;
}

import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '../../domain/errors.ts';
import { isUlid, maxUlidAt, ulidTime } from '../../domain/ids.ts';
import type { NotificationId, UserKey } from '../../domain/types.ts';
import { fullJitter } from '../../lib/backoff.ts';
import { sleep as realSleep } from '../../lib/sleep.ts';
import type { Clock } from '../../ports/clock.ts';
import { awsCall, awsErrorName, translateAwsError } from './errors.ts';
import { batchGet, type DynamoContext, type Item, queryAll, reportCapacity } from './inbox-batch.ts';
import { Meta, metaPk, rowsPk } from './inbox-items.ts';
import { chunks } from './retry.ts';

/**
 * The counter mode's unread count: no `upk`, so no GSI entry and one write unit per row written
 * (GSI mode: two). The read path pays instead.
 *
 * One item per user (pk `tenant#user#meta`, sk `unread`) holds `n`, the number of unread rows
 * with id in the counted range (`fl`, `to`], and a version `v` that every change bumps. That
 * invariant is all the design rests on, and every writer keeps it:
 *
 * - unreadCount reads the counter, moves `fl` to the caller's TTL bound (subtracting unread rows
 *   that left the window, or adding rows below an older floor), counts rows above `to`, and
 *   stores the result on condition that `v` is unchanged (optimistic; retried on conflict).
 *   `to` never passes `now - settleMs`, so a row written now always lands above `to`.
 * - putMany writes "fresh" rows (id time within settleMs/2 of now) without touching the counter:
 *   they land above `to` and are counted by the next scan. A late row (an older id: a retried or
 *   lagging batch) may land inside the counted range, so putMany resets the counter of its user
 *   after writing it (`reset`: empty range, `v` bumped); so does a putMany that took longer than
 *   settleMs/2. A retried batch resets again even when its rows exist already, which covers a
 *   crash between the write and the reset.
 * - markRead flips `r` and decrements `n` (if the row is counted) in ONE transaction that also
 *   checks `v`: a row read and counted in between by a concurrent unreadCount is thus never lost
 *   nor subtracted twice. markAllRead marks rows one by one and then resets.
 *
 * Exactness assumes the clocks of writers and readers agree to well within settleMs/2.
 *
 * Costs: unreadCount = one consistent GetItem + consistent Queries over rows newer than `to`
 * (the last settleMs of rows) and rows that left the window since the last count, + at most one
 * UpdateItem when something changed. markRead of k rows = a consistent read of the counter and the
 * rows + one transaction of k + 1 items (2 write units each). A reset = 1 write unit, and the next
 * count re-reads the user's whole window.
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
    return this.#optimistic('inbox unread count', async () => {
      const cap = maxUlidAt(Math.max(0, this.#clock.now() - this.#settleMs));
      const old = await this.#read(user);
      let n = 0;
      let fl = afterId;
      let to = afterId;
      if (old?.to !== undefined && old.fl !== undefined && afterId < old.to) {
        n = old.n;
        fl = old.fl;
        to = old.to;
        if (afterId > fl) n -= await this.#unreadIn(user, fl, afterId);
        else if (afterId < fl) n += await this.#unreadIn(user, afterId, fl);
        fl = afterId;
      }
      // Ids are strings: no Math.max.
      let newTo = to;
      if (cap > newTo) newTo = cap;
      let fresh = 0;
      let advanced = false;
      for (const row of await this.#rowsAbove(user, to)) {
        const unread = row.r !== true;
        if ((row.sk as string) <= newTo) {
          advanced = true;
          if (unread) n++;
        } else if (unread) fresh++;
      }
      const changed = advanced || n !== (old?.n ?? 0) || (old?.to !== undefined && fl !== old.fl);
      if (changed && !(await this.#store(user, old, { n, fl, to: newTo }))) return undefined;
      return n + fresh;
    });
  }

  /** Marks these rows read and takes the counted ones off the count, atomically (see class). */
  async markRows(user: UserKey, ids: readonly NotificationId[]): Promise<void> {
    // A transaction holds 100 items: 99 rows and the counter.
    for (const part of chunks(ids, 99)) {
      await this.#optimistic('inbox mark read', async () => {
        const old = await this.#read(user);
        const rows = await batchGet(
          this.#ctx,
          'inbox mark read',
          this.#table,
          part.map((sk) => ({ pk: rowsPk(user), sk })),
          ['sk', 'r'],
        );
        const unread = rows.filter((row) => row.r !== true).map((row) => row.sk as string);
        if (unread.length === 0) return true;
        const counted =
          old?.to === undefined || old.fl === undefined
            ? 0
            : unread.filter((id) => id > old.fl! && id <= old.to!).length;
        const items = unread.map((sk) => ({
          Update: {
            TableName: this.#table,
            Key: { pk: rowsPk(user), sk },
            UpdateExpression: 'SET #r = :t',
            ConditionExpression: '#r = :f',
            ExpressionAttributeNames: { '#r': 'r' },
            ExpressionAttributeValues: { ':t': true, ':f': false },
          },
        }));
        const counter = {
          Update: {
            TableName: this.#table,
            Key: { pk: metaPk(user), sk: Meta.Counter },
            UpdateExpression: 'SET #v = :v1 ADD #n :minus',
            ...versionCondition(old),
          },
        };
        counter.Update.ExpressionAttributeValues[':minus'] = -counted;
        return this.#transact('inbox mark read', [...items, counter]);
      });
    }
  }

  /** Forgets what was counted (empty range, `v` bumped): always safe, the next count re-reads. */
  async reset(user: UserKey): Promise<void> {
    const out = await awsCall('inbox unread reset', () =>
      this.#ctx.documents.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: metaPk(user), sk: Meta.Counter },
          UpdateExpression: 'SET #v = if_not_exists(#v, :zero) + :one, #n = :zero REMOVE #fl, #to',
          ExpressionAttributeNames: { '#v': 'v', '#n': 'n', '#fl': 'fl', '#to': 'to' },
          ExpressionAttributeValues: { ':zero': 0, ':one': 1 },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    reportCapacity(this.#ctx.capacity, 'write', out.ConsumedCapacity);
  }

  async #read(user: UserKey): Promise<CounterState | undefined> {
    const out = await awsCall('inbox unread counter read', () =>
      this.#ctx.documents.send(
        new GetCommand({
          TableName: this.#table,
          Key: { pk: metaPk(user), sk: Meta.Counter },
          ConsistentRead: true,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    reportCapacity(this.#ctx.capacity, 'read', out.ConsumedCapacity);
    const item = out.Item;
    if (item === undefined) return undefined;
    return {
      v: item.v as number,
      n: (item.n as number | undefined) ?? 0,
      fl: item.fl as string | undefined,
      to: item.to as string | undefined,
    };
  }

  /** Stores the new counter if nobody changed it since `old` was read. */
  async #store(
    user: UserKey,
    old: CounterState | undefined,
    next: { n: number; fl: string; to: string },
  ): Promise<boolean> {
    const condition = versionCondition(old);
    try {
      const out = await this.#ctx.documents.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: metaPk(user), sk: Meta.Counter },
          UpdateExpression: 'SET #v = :v1, #n = :n, #fl = :fl, #to = :to',
          ConditionExpression: condition.ConditionExpression,
          ExpressionAttributeNames: { ...condition.ExpressionAttributeNames, '#fl': 'fl', '#to': 'to' },
          ExpressionAttributeValues: {
            ...condition.ExpressionAttributeValues,
            ':n': next.n,
            ':fl': next.fl,
            ':to': next.to,
          },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      reportCapacity(this.#ctx.capacity, 'write', out.ConsumedCapacity);
      return true;
    } catch (err) {
      if (awsErrorName(err) === 'ConditionalCheckFailedException') return false;
      throw translateAwsError(err, 'inbox unread counter write');
    }
  }

  /** Unread rows with id in (lo, hi]. */
  async #unreadIn(user: UserKey, lo: string, hi: string): Promise<number> {
    const rows = await queryAll(this.#ctx, 'inbox unread scan', {
      TableName: this.#table,
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
      ProjectionExpression: '#sk, #r',
      ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#r': 'r' },
      ExpressionAttributeValues: { ':pk': rowsPk(user), ':lo': lo, ':hi': hi },
      ConsistentRead: true,
    });
    return rows.filter((row) => row.sk !== lo && row.r !== true).length;
  }

  /** Ids and read flags of rows with id above `to`. */
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
  async #transact(what: string, items: NonNullable<TransactItems>): Promise<boolean> {
    try {
      const out = await this.#ctx.documents.send(
        new TransactWriteCommand({ TransactItems: items, ReturnConsumedCapacity: 'TOTAL' }),
      );
      reportCapacity(this.#ctx.capacity, 'write', out.ConsumedCapacity);
      return true;
    } catch (err) {
      const name = awsErrorName(err);
      if (name === 'TransactionCanceledException' || name === 'TransactionConflictException') return false;
      throw translateAwsError(err, what);
    }
  }

  /** Runs `attempt` until it returns a value (undefined or false = lost a race; try again). */
  async #optimistic<T>(what: string, attempt: () => Promise<T | undefined | false>): Promise<T> {
    const retry = this.#ctx.retry ?? {};
    const sleep = retry.sleep ?? realSleep;
    const max = OPTIMISTIC_ATTEMPTS;
    for (let i = 1; i <= max; i++) {
      const result = await attempt();
      if (result !== undefined && result !== false) return result;
      await sleep(
        fullJitter(i, { baseMs: retry.baseDelayMs ?? 10, capMs: retry.maxDelayMs ?? 500 }, retry.random),
      );
    }
    throw new StoreUnavailableError(`${what}: the counter kept changing, gave up after ${max} attempts`);
  }
}

/** Races lost in a row before giving up: each needs a concurrent change to the same user's counter. */
const OPTIMISTIC_ATTEMPTS = 10;

type TransactItems = ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems'];

/** The counter item as stored; `to` and `fl` are absent when nothing is counted. */
interface CounterState {
  readonly v: number;
  readonly n: number;
  readonly fl: string | undefined;
  readonly to: string | undefined;
}

/** Condition "the counter is still at the version read", and the next version as `:v1`. */
function versionCondition(old: CounterState | undefined): {
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
} {
  return old === undefined
    ? {
        ConditionExpression: 'attribute_not_exists(#v)',
        ExpressionAttributeNames: { '#v': 'v', '#n': 'n' },
        ExpressionAttributeValues: { ':v1': 1 },
      }
    : {
        ConditionExpression: '#v = :v0',
        ExpressionAttributeNames: { '#v': 'v', '#n': 'n' },
        ExpressionAttributeValues: { ':v0': old.v, ':v1': old.v + 1 },
      };
}

import { TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { CatchUpConflictError, ValidationError } from '../../domain/errors.ts';
import type { InboxRow, UserKey } from '../../domain/types.ts';
import type { CatchUpRange } from '../../ports/inbox.ts';
import { requireArray, requireText, requireUser } from '../checks/input.ts';
import { batchGet, type DynamoContext, type Item, reportCapacity } from './inbox-batch.ts';
import { distinctBy, rowItem, rowsPk, validateRows } from './inbox-items.ts';
import {
  conditional,
  type InboxState,
  inRange,
  lowerBound,
  optimistic,
  readState,
  stateKey,
  type TransactItems,
} from './inbox-state.ts';
import { chunks } from './retry.ts';

/** Rows per transaction: TransactWriteItems holds 100 items, one is the state item. */
const ROWS_PER_TRANSACTION = 99;

/**
 * Writes a catch-up's rows into a user's inbox and moves their catch-up mark (Inbox.materialise).
 *
 * The rows not there yet (a consistent BatchGetItem of their keys first, 1 read unit each) go in
 * transactions of up to 99 rows plus the user's state item: each row conditioned on not existing,
 * the state on the version, catch-up mark and read watermark read; the last transaction also
 * moves the mark. In counter mode the state update adds the new unread rows that fall inside the
 * counted range to `n`, in the same transaction, so a concurrent count can never see a row
 * without its count or the reverse. A cancelled transaction (a row written meanwhile, the state
 * changed) is read again and retried; a mark that moved means another catch-up ran, and throws
 * CatchUpConflictError. A failure between two transactions leaves rows the retry finds and skips.
 *
 * Cost: 2 write units per row (a transactional write), + 1 for its `unread` index entry in GSI
 * mode; + 2 per transaction for the state item; a catch-up with nothing to copy that moves the
 * mark is one conditional UpdateItem (1 write unit). BatchWriteItem would write a row for 1 unit
 * but cannot be conditional, and one path for both modes keeps the mark, the count and a
 * concurrent mark-all-read exact.
 */
export class InboxCatchUp {
  readonly #ctx: DynamoContext;
  readonly #table: string;
  readonly #ttlMs: number;
  readonly #counted: boolean;

  constructor(ctx: DynamoContext, table: string, ttlMs: number, counted: boolean) {
    this.#ctx = ctx;
    this.#table = table;
    this.#ttlMs = ttlMs;
    this.#counted = counted;
  }

  async materialise(user: UserKey, rows: readonly InboxRow[], range: CatchUpRange): Promise<number> {
    requireUser(user);
    requireArray(rows, 'rows');
    validateRows(rows);
    requireText(range?.to, 'range.to');
    if (range.from !== undefined) requireText(range.from, 'range.from');
    rows.forEach((row, i) => {
      if (row.tenantId !== user.tenantId || row.userId !== user.userId) {
        throw new ValidationError([{ path: `rows[${i}]`, message: 'is not a row of this user' }]);
      }
    });
    const distinct = distinctBy(rows, (row) => row.id);
    let written = 0;
    return optimistic(this.#ctx, 'inbox catch-up', async () => {
      let state = await readState(this.#ctx, this.#table, user);
      if (state?.cu !== range.from)
        throw new CatchUpConflictError('the catch-up mark moved: another catch-up ran');
      const existing = await batchGet(
        this.#ctx,
        'inbox catch-up',
        this.#table,
        distinct.map((row) => ({ pk: rowsPk(row), sk: row.id })),
        ['sk'],
      );
      const have = new Set(existing.map((item) => item.sk as string));
      const missing = distinct.filter((row) => !have.has(row.id));
      if (missing.length === 0) return (await this.#moveMark(user, state, range)) ? written : undefined;
      const parts = chunks(missing, ROWS_PER_TRANSACTION);
      for (const [i, part] of parts.entries()) {
        const last = i === parts.length - 1;
        const next = await this.#transact(user, state, part, last ? range : undefined);
        if (next === undefined) return undefined;
        written += part.length;
        state = next;
      }
      return written;
    });
  }

  /**
   * One transaction of `rows` and the state update; the state as it is afterwards, or undefined
   * when the transaction was cancelled. `range` moves the mark too.
   */
  async #transact(
    user: UserKey,
    state: InboxState | undefined,
    rows: readonly InboxRow[],
    range: CatchUpRange | undefined,
  ): Promise<InboxState | undefined> {
    const items: TransactItems = [];
    const unreadInRange: string[] = [];
    for (const row of rows) {
      const read = state?.w !== undefined && row.id <= state.w;
      items.push({
        Put: {
          TableName: this.#table,
          Item: rowItem({ ...row, read }, this.#ttlMs, !this.#counted),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': 'pk' },
        },
      });
      if (this.#counted && !read && inRange(state, row.id)) unreadInRange.push(row.id);
    }
    const update = stateUpdate(state, range, this.#counted ? unreadInRange : []);
    items.push({ Update: { TableName: this.#table, Key: stateKey(user), ...update.input } });
    const ok = await conditional('inbox catch-up', async () => {
      const out = await this.#ctx.documents.send(
        new TransactWriteCommand({ TransactItems: items, ReturnConsumedCapacity: 'TOTAL' }),
      );
      reportCapacity(this.#ctx.capacity, 'write', out.ConsumedCapacity);
    });
    return ok ? update.after : undefined;
  }

  /** Moves the mark alone (nothing to copy): one conditional UpdateItem. */
  async #moveMark(user: UserKey, state: InboxState | undefined, range: CatchUpRange): Promise<boolean> {
    const update = stateUpdate(state, range, []);
    return conditional('inbox catch-up', async () => {
      const out = await this.#ctx.documents.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: stateKey(user),
          ...update.input,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      reportCapacity(this.#ctx.capacity, 'write', out.ConsumedCapacity);
    });
  }
}

/**
 * The state update of one catch-up step: version bumped, the counted unread rows added to `n`
 * (and `lu` lowered), the mark moved when `range` is given; conditioned on the version, the mark
 * and the watermark read, so a concurrent count, catch-up or mark-all-read makes it fail.
 */
function stateUpdate(
  state: InboxState | undefined,
  range: CatchUpRange | undefined,
  unreadInRange: readonly string[],
): { input: Item & { UpdateExpression: string }; after: InboxState } {
  const names: Record<string, string> = { '#v': 'v', '#cu': 'cu', '#w': 'w' };
  const values: Record<string, unknown> = { ':v1': (state?.v ?? 0) + 1 };
  const conditions = [state?.v === undefined ? 'attribute_not_exists(#v)' : '#v = :v0'];
  if (state?.v !== undefined) values[':v0'] = state.v;
  conditions.push(state?.cu === undefined ? 'attribute_not_exists(#cu)' : '#cu = :from');
  if (state?.cu !== undefined) values[':from'] = state.cu;
  conditions.push(state?.w === undefined ? 'attribute_not_exists(#w)' : '#w = :w');
  if (state?.w !== undefined) values[':w'] = state.w;
  const sets = ['#v = :v1'];
  if (range !== undefined) {
    sets.push('#cu = :to');
    values[':to'] = range.to;
  }
  let add = '';
  const lu = lowerBound(state, unreadInRange);
  if (unreadInRange.length > 0) {
    names['#n'] = 'n';
    values[':k'] = unreadInRange.length;
    add = ' ADD #n :k';
    if (lu !== undefined && lu !== state?.lu) {
      names['#lu'] = 'lu';
      values[':lu'] = lu;
      sets.push('#lu = :lu');
    }
  }
  const after: InboxState = {
    v: (state?.v ?? 0) + 1,
    n: (state?.n ?? 0) + unreadInRange.length,
    fl: state?.fl,
    to: state?.to,
    lu: unreadInRange.length > 0 ? lu : state?.lu,
    ru: state?.ru,
    cu: range === undefined ? state?.cu : range.to,
    w: state?.w,
  };
  return {
    input: {
      UpdateExpression: `SET ${sets.join(', ')}${add}`,
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
    after,
  };
}

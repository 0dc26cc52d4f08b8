import { GetCommand, type TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '../../domain/errors.ts';
import type { UserKey } from '../../domain/types.ts';
import { fullJitter } from '../../lib/backoff.ts';
import { sleep as realSleep } from '../../lib/sleep.ts';
import { awsCall, awsErrorName, translateAwsError } from './errors.ts';
import { type DynamoContext, reportCapacity } from './inbox-batch.ts';
import { metaPk } from './inbox-items.ts';

/**
 * A user's one state item (pk `tenant#user#meta`, sk `state`), so that a read of the inbox reads
 * everything it needs with one GetItem: the catch-up mark, the read watermark and, in counter
 * mode, the unread counter. `v` is a version every change of the counter or the mark bumps, and
 * every such change is conditioned on the version read (optimistic concurrency).
 */
export interface InboxState {
  /** Absent until something versioned was written. */
  readonly v: number | undefined;
  /** Counter mode: unread rows with id in (fl, to]; 0 when no range is counted. */
  readonly n: number;
  readonly fl: string | undefined;
  readonly to: string | undefined;
  /**
   * Counter mode: no unread row of (fl, to] has an id below this (a lower bound; absent when
   * none is known). A count whose TTL bound is below it needs no read of rows leaving the window.
   */
  readonly lu: string | undefined;
  /**
   * Counter mode: every row with an id at or below this is read (set by markAllRead, never above
   * `to`, so a row written later below it is a late row and resets the counter, which drops it).
   * markAllRead starts its query of unread rows here.
   */
  readonly ru: string | undefined;
  /** The catch-up mark in the tenant's arrival log. */
  readonly cu: string | undefined;
  /** The read watermark (mark-all-read). */
  readonly w: string | undefined;
}

/** Sort key of the state item. */
export const STATE_SK = 'state';

/** The state item's key. */
export function stateKey(user: UserKey): { pk: string; sk: string } {
  return { pk: metaPk(user), sk: STATE_SK };
}

/** The state item, read strongly consistent (1 read unit); undefined when there is none. */
export async function readState(
  ctx: DynamoContext,
  table: string,
  user: UserKey,
): Promise<InboxState | undefined> {
  const out = await awsCall('inbox state read', () =>
    ctx.documents.send(
      new GetCommand({
        TableName: table,
        Key: stateKey(user),
        ConsistentRead: true,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    ),
  );
  reportCapacity(ctx.capacity, 'read', out.ConsumedCapacity);
  const item = out.Item;
  if (item === undefined) return undefined;
  return {
    v: item.v as number | undefined,
    n: (item.n as number | undefined) ?? 0,
    fl: item.fl as string | undefined,
    to: item.to as string | undefined,
    lu: item.lu as string | undefined,
    ru: item.ru as string | undefined,
    cu: item.cu as string | undefined,
    w: item.w as string | undefined,
  };
}

/** A condition and the names and values it uses, to merge into an update. */
export interface Condition {
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, unknown>;
}

/** Condition "the state is still at the version read", and the next version as `:v1`. */
export function versionCondition(old: InboxState | undefined): Condition {
  return old?.v === undefined
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

/** True when the counter of `state` counts a range, and `id` lies in it. */
export function inRange(state: InboxState | undefined, id: string): boolean {
  return state?.fl !== undefined && state.to !== undefined && id > state.fl && id <= state.to;
}

/**
 * The lowest-unread bound after unread rows `added` joined the counted range: their smallest id
 * when nothing was counted before, the smaller of the two when a bound was known, unknown otherwise.
 */
export function lowerBound(state: InboxState | undefined, added: readonly string[]): string | undefined {
  let low: string | undefined;
  for (const id of added) if (low === undefined || id < low) low = id;
  const counted = state?.n ?? 0;
  if (low === undefined) return counted === 0 ? undefined : state?.lu;
  // The rows added are then the only unread ones in the range.
  if (counted === 0) return low;
  if (state?.lu === undefined) return undefined;
  return low < state.lu ? low : state.lu;
}

export type TransactItems = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>;

/** Races lost in a row before giving up: each needs a concurrent change to the same user's state. */
const OPTIMISTIC_ATTEMPTS = 10;

/** Runs `attempt` until it returns a value (undefined or false = lost a race; try again). */
export async function optimistic<T>(
  ctx: DynamoContext,
  what: string,
  attempt: () => Promise<T | undefined | false>,
): Promise<T> {
  const retry = ctx.retry ?? {};
  const sleep = retry.sleep ?? realSleep;
  for (let i = 1; i <= OPTIMISTIC_ATTEMPTS; i++) {
    const result = await attempt();
    if (result !== undefined && result !== false) return result;
    await sleep(
      fullJitter(i, { baseMs: retry.baseDelayMs ?? 10, capMs: retry.maxDelayMs ?? 500 }, retry.random),
    );
  }
  throw new StoreUnavailableError(
    `${what}: the state kept changing, gave up after ${OPTIMISTIC_ATTEMPTS} attempts`,
  );
}

/** Sends one conditional write; false when its condition failed or its transaction was cancelled. */
export async function conditional(what: string, send: () => Promise<unknown>): Promise<boolean> {
  try {
    await send();
    return true;
  } catch (err) {
    const name = awsErrorName(err);
    if (
      name === 'ConditionalCheckFailedException' ||
      name === 'TransactionCanceledException' ||
      name === 'TransactionConflictException'
    ) {
      return false;
    }
    throw translateAwsError(err, what);
  }
}

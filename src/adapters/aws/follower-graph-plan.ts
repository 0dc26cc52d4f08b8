import type { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../domain/errors.ts';
import { authorPartition } from '../../domain/keys.ts';
import type { FollowEdge } from '../../domain/types.ts';
import { requireText } from '../embedded/sql-support.ts';
import { awsErrorName } from './errors.ts';

/**
 * The pure part of DynamoFollowerGraph's writes: which edges a call names, and how one author's
 * edge writes are cut into transactions. No I/O here.
 */

/** Sort key of an edge item: `f#<follower>`. */
export const EDGE = 'f#';
/** TransactWriteItems holds at most 100 items; one is kept for the author's count item. */
const TX_ITEMS = 99;
/** Cancellation reasons after which the same transaction, re-planned from a fresh read, may pass. */
const TRANSIENT_REASONS = new Set([
  'None',
  'ConditionalCheckFailed',
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

/** One item of a TransactWriteItems call, as the DocumentClient takes it. */
export type TxItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number];

/** One edge a call names, `alerts` resolved (absent means off). */
export interface Wanted {
  readonly tenantId: string;
  readonly authorId: string;
  readonly followerId: string;
  readonly alerts: boolean;
}

/** The writes of one edge, planned from its current state; `delta` is its effect on the count. */
export interface EdgeWrite {
  readonly edge: Wanted;
  readonly items: TxItem[];
  readonly delta: number;
}

/** `pk` and `sk` of the edge, joined: the identity of an edge across calls and reads. */
export function edgeId(edge: Wanted): string {
  return `${authorPartition(edge.tenantId, edge.authorId)}\n${EDGE}${edge.followerId}`;
}

/** One entry per edge, the last one winning, so a repeated edge in one call counts once. */
export function dedupe(edges: readonly (Omit<FollowEdge, 'alerts'> & { alerts?: boolean })[]): Wanted[] {
  const byId = new Map<string, Wanted>();
  for (const e of edges) {
    const wanted = {
      tenantId: e.tenantId,
      authorId: e.authorId,
      followerId: e.followerId,
      alerts: e.alerts === true,
    };
    byId.set(edgeId(wanted), wanted);
  }
  return [...byId.values()];
}

/** One author's edge writes in transactions of at most TX_ITEMS items (plus the count item). */
export function transactions(writes: readonly EdgeWrite[]): EdgeWrite[][] {
  const out: EdgeWrite[][] = [];
  let current: EdgeWrite[] = [];
  let size = 0;
  for (const write of writes) {
    if (size + write.items.length > TX_ITEMS) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(write);
    size += write.items.length;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** True when sending the transaction again, re-planned from a fresh read, may succeed. */
export function isTransientCancellation(err: unknown): boolean {
  const name = awsErrorName(err);
  if (name === 'TransactionConflictException' || name === 'TransactionInProgressException') return true;
  if (name !== 'TransactionCanceledException') return false;
  const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.every((r) => TRANSIENT_REASONS.has(r.Code ?? 'None'));
}

/** Runs `fn` over `items`, at most `limit` at a time; waits for all, then throws the first failure. */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length && errors.length === 0) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
}

/** Throws a ValidationError naming the first bad field of edge `i`. */
export function validateEdge(edge: Omit<FollowEdge, 'alerts'> & { alerts?: unknown }, i: number): void {
  requireText(edge?.tenantId, `edges[${i}].tenantId`);
  requireText(edge.authorId, `edges[${i}].authorId`);
  requireText(edge.followerId, `edges[${i}].followerId`);
  if (edge.alerts !== undefined && typeof edge.alerts !== 'boolean') {
    throw new ValidationError([{ path: `edges[${i}].alerts`, message: 'must be a boolean' }]);
  }
}

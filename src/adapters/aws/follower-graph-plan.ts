import type { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { authorPartition } from '../../domain/keys.ts';
import type { FollowEdge } from '../../domain/types.ts';

/**
 * The pure part of DynamoFollowerGraph's writes: which edges a call names, and how one author's
 * edge writes are cut into transactions. No I/O here.
 */

/** Sort key of an edge item: `f#<follower>`. */
export const EDGE = 'f#';
/** TransactWriteItems holds at most 100 items; one is kept for the author's count item. */
const TX_ITEMS = 99;
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

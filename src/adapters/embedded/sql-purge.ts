import type { StatementSync } from 'node:sqlite';
import type { EmbeddedDb } from './db.ts';
import { storeStep } from './store-step.ts';

/** How a purge of expired rows proceeds. */
export interface PurgeOptions {
  /** Rows deleted (and partitions visited) per transaction, so writers are never held up long. @default 1000 */
  readonly batchSize?: number;
}

interface PartitionHead {
  readonly tenant_id: string;
  readonly part: string;
  readonly id: string;
}

/**
 * Deletes rows with `id <= bound` from a table keyed (tenant_id, <partition column>, id), the way
 * DynamoDB's TTL deletes expired items: eventually, in the background, in bounded batches.
 * Expired rows are the oldest of each partition, so each partition is one key-range delete; the
 * partitions are walked by seeking past the previous one, so no index beyond the key is needed.
 * Resolves with the number of rows deleted.
 */
export async function purgeOlderThan(
  db: EmbeddedDb,
  table: string,
  partitionColumn: string,
  bound: string,
  opts: PurgeOptions = {},
): Promise<number> {
  const batchSize = Math.max(1, Math.floor(opts.batchSize ?? 1000));
  const statements = storeStep(`purge ${table}`, () => ({
    head: db.sqlite.prepare(
      `SELECT tenant_id, ${partitionColumn} AS part, id FROM ${table}
       WHERE (tenant_id, ${partitionColumn}) > (?, ?)
       ORDER BY tenant_id, ${partitionColumn}, id LIMIT 1`,
    ),
    remove: db.sqlite.prepare(
      `DELETE FROM ${table} WHERE tenant_id = ? AND ${partitionColumn} = ? AND id IN (
         SELECT id FROM ${table} WHERE tenant_id = ? AND ${partitionColumn} = ? AND id <= ?
         ORDER BY id LIMIT ?)`,
    ),
  }));
  const cursor = { tenant: '', part: '' };
  let deleted = 0;
  for (;;) {
    const round = storeStep(`purge ${table}`, () =>
      db.transaction(() => purgeRound(statements.head, statements.remove, cursor, bound, batchSize)),
    );
    deleted += round.deleted;
    if (round.finished) return deleted;
    // Let other work (fan-out, reads) run between batches.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

function purgeRound(
  head: StatementSync,
  remove: StatementSync,
  cursor: { tenant: string; part: string },
  bound: string,
  batchSize: number,
): { deleted: number; finished: boolean } {
  let deleted = 0;
  for (let visited = 0; visited < batchSize && deleted < batchSize; visited++) {
    const next = head.get(cursor.tenant, cursor.part) as PartitionHead | undefined;
    if (next === undefined) return { deleted, finished: true };
    if (next.id <= bound) {
      const budget = batchSize - deleted;
      const removed = Number(
        remove.run(next.tenant_id, next.part, next.tenant_id, next.part, bound, budget).changes,
      );
      deleted += removed;
      // A full budget may have left expired rows in this partition: visit it again next round.
      if (removed === budget) return { deleted, finished: false };
    }
    cursor.tenant = next.tenant_id;
    cursor.part = next.part;
  }
  return { deleted, finished: false };
}

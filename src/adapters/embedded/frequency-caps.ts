import type { StatementSync } from 'node:sqlite';
import { type Clock, systemClock } from '../../ports/clock.ts';
import { CapAnswer, type CapRequest, type FrequencyCaps } from '../../ports/frequency-caps.ts';
import { checkCapRequests } from '../checks/frequency-caps.ts';
import type { EmbeddedDb } from './db.ts';
import { storeStep } from './store-step.ts';

export interface EmbeddedFrequencyCapsOptions {
  readonly db: EmbeddedDb;
  /** Windows are judged by this clock. @default systemClock */
  readonly clock?: Clock;
}

/**
 * Frequency caps on SQLite: one row per place taken, (tenant, user, window name, slot) with the
 * time it was taken and the time it leaves its window. A take is one transaction over the whole
 * call (node:sqlite runs it to completion, so no other take interleaves): per request, drop the
 * places that left each window, grant at once when the slot already holds one, else count each
 * window and take a place in all of them or in none.
 */
export class EmbeddedFrequencyCaps implements FrequencyCaps {
  readonly #db: EmbeddedDb;
  readonly #clock: Clock;
  readonly #s: Record<'expire' | 'held' | 'count' | 'take' | 'purge', StatementSync>;

  constructor(opts: EmbeddedFrequencyCapsOptions) {
    this.#db = opts.db;
    this.#clock = opts.clock ?? systemClock;
    const sqlite = opts.db.sqlite;
    this.#s = storeStep('frequency caps setup', () => {
      sqlite.exec(`
        CREATE TABLE IF NOT EXISTS frequency_cap_places (
          tenant_id TEXT NOT NULL,
          user_id TEXT NOT NULL,
          bucket TEXT NOT NULL,
          slot TEXT NOT NULL,
          at INTEGER NOT NULL,
          expires_at INTEGER NOT NULL,
          PRIMARY KEY (tenant_id, user_id, bucket, slot)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS frequency_cap_places_at ON frequency_cap_places (tenant_id, user_id, bucket, at);
        CREATE INDEX IF NOT EXISTS frequency_cap_places_expiry ON frequency_cap_places (expires_at);
      `);
      return {
        expire: sqlite.prepare(
          'DELETE FROM frequency_cap_places WHERE tenant_id = ? AND user_id = ? AND bucket = ? AND at <= ?',
        ),
        held: sqlite.prepare(
          'SELECT 1 FROM frequency_cap_places WHERE tenant_id = ? AND user_id = ? AND bucket = ? AND slot = ?',
        ),
        count: sqlite.prepare(
          'SELECT count(*) AS n FROM frequency_cap_places WHERE tenant_id = ? AND user_id = ? AND bucket = ?',
        ),
        take: sqlite.prepare(
          `INSERT INTO frequency_cap_places (tenant_id, user_id, bucket, slot, at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
        ),
        purge: sqlite.prepare(
          `DELETE FROM frequency_cap_places WHERE (tenant_id, user_id, bucket, slot) IN (
             SELECT tenant_id, user_id, bucket, slot FROM frequency_cap_places WHERE expires_at <= ? LIMIT ?)`,
        ),
      };
    });
  }

  async take(requests: readonly CapRequest[]): Promise<CapAnswer[]> {
    checkCapRequests(requests);
    if (requests.length === 0) return [];
    const { expire, held, count, take } = this.#s;
    return storeStep('frequency caps take', () => {
      const now = this.#clock.now();
      return this.#db.transaction(() =>
        requests.map(({ tenantId, userId, slotId, buckets }) => {
          for (const b of buckets) expire.run(tenantId, userId, b.name, now - b.windowMs);
          if (buckets.some((b) => held.get(tenantId, userId, b.name, slotId) !== undefined)) {
            return CapAnswer.Granted;
          }
          const full = buckets.some(
            (b) => (count.get(tenantId, userId, b.name) as { n: number }).n >= b.limit,
          );
          if (full) return CapAnswer.Capped;
          for (const b of buckets) take.run(tenantId, userId, b.name, slotId, now, now + b.windowMs);
          return CapAnswer.Granted;
        }),
      );
    });
  }

  /**
   * Deletes places that left their window by `now`, at most `batchSize` per transaction: the
   * places of users who got no push since (a take drops its own user's old places itself).
   */
  async purgeExpired(now: number, opts: { readonly batchSize?: number } = {}): Promise<number> {
    const batchSize = opts.batchSize ?? 1_000;
    let total = 0;
    for (;;) {
      const deleted = storeStep('frequency caps purge', () =>
        this.#db.transaction(() => Number(this.#s.purge.run(now, batchSize).changes)),
      );
      total += deleted;
      if (deleted < batchSize) return total;
      // Lets the event loop serve other work between batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { NotificationId, TenantId, UserKey } from '../../domain/types.ts';
import type { EventRef } from '../../ports/inbox.ts';

/**
 * Retraction in the embedded inbox: tombstones of retracted events, and the removal of rows.
 *
 * `inbox_retractions` holds one row per (tenant, retracted event id, its actor) with its expiry; `purge`
 * deletes the expired ones. Removing a row is a plain DELETE of a row that is not an aggregated
 * item: the delete trigger of inbox-schema.ts takes an unread row off its user's counter in the
 * same statement, so unread counts stay exact.
 */
export class EmbeddedRetractions {
  readonly #s: Record<'record' | 'among' | 'remove' | 'purge', StatementSync>;

  constructor(sqlite: DatabaseSync) {
    sqlite.exec(`
      CREATE TABLE IF NOT EXISTS inbox_retractions (
        tenant_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, event_id, actor_id)
      ) WITHOUT ROWID;
    `);
    this.#s = {
      record: sqlite.prepare(
        `INSERT INTO inbox_retractions (tenant_id, event_id, actor_id, expires_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (tenant_id, event_id, actor_id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)`,
      ),
      // CROSS JOIN keeps json_each outside: one key look-up per id.
      among: sqlite.prepare(
        `SELECT r.event_id AS id FROM json_each(?) j CROSS JOIN inbox_retractions r
         WHERE r.tenant_id = ? AND r.event_id = j.value ->> 0 AND r.actor_id = j.value ->> 1`,
      ),
      remove: sqlite.prepare(
        'DELETE FROM inbox_rows WHERE tenant_id = ? AND user_id = ? AND id = ? AND group_key IS NULL',
      ),
      purge: sqlite.prepare('DELETE FROM inbox_retractions WHERE expires_at <= ?'),
    };
  }

  record(tenantId: TenantId, ref: EventRef, expiresAt: number): void {
    this.#s.record.run(tenantId, ref.eventId, ref.actorId, expiresAt);
  }

  among(tenantId: TenantId, refs: readonly EventRef[]): Set<string> {
    if (refs.length === 0) return new Set();
    const pairs = JSON.stringify(refs.map((r) => [r.eventId, r.actorId]));
    const rows = this.#s.among.all(pairs, tenantId) as { id: string }[];
    return new Set(rows.map((r) => r.id));
  }

  /** Inside the caller's transaction. */
  remove(user: UserKey, ids: readonly NotificationId[]): number {
    let removed = 0;
    for (const id of new Set(ids))
      removed += Number(this.#s.remove.run(user.tenantId, user.userId, id).changes);
    return removed;
  }

  /** Deletes the tombstones expired at `now`; resolves with how many. */
  purge(now: number): number {
    return Number(this.#s.purge.run(now).changes);
  }
}

import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { NotificationId, UserKey } from '../../domain/types.ts';

/**
 * What the embedded inbox's tabs and badge need on top of `inbox_rows` and `inbox_state`: an
 * `archived` flag per row (archived rows are always read, so the unread counter's triggers see an
 * archive as a read flip and stay exact with no code of their own), a partial index of archived
 * rows for the Archived tab, and the per-user seen watermark. Adds the columns to an older data
 * file in place.
 */
export function createMarksSchema(sqlite: DatabaseSync): void {
  const rows = sqlite.prepare('PRAGMA table_info(inbox_rows)').all() as { name: string }[];
  if (!rows.some((c) => c.name === 'archived'))
    sqlite.exec('ALTER TABLE inbox_rows ADD COLUMN archived INTEGER NOT NULL DEFAULT 0');
  const state = sqlite.prepare('PRAGMA table_info(inbox_state)').all() as { name: string }[];
  if (!state.some((c) => c.name === 'seen')) sqlite.exec('ALTER TABLE inbox_state ADD COLUMN seen TEXT');
  sqlite.exec(
    'CREATE INDEX IF NOT EXISTS inbox_archived ON inbox_rows (tenant_id, user_id, id) WHERE archived = 1',
  );
}

/**
 * Mark unread, archive, unarchive and the seen watermark on SQLite, one statement per id inside
 * the caller's transaction. Each statement changes only a row that is not in the target state
 * already, so every call is idempotent and the counter triggers count each change once.
 */
export class EmbeddedMarks {
  readonly #s: Record<'unread' | 'archive' | 'unarchive' | 'seen' | 'seenMark' | 'unseen', StatementSync>;

  constructor(sqlite: DatabaseSync) {
    this.#s = {
      unread: sqlite.prepare(
        `UPDATE inbox_rows SET read = 0, archived = 0
         WHERE tenant_id = ? AND user_id = ? AND id = ? AND (read = 1 OR archived = 1)`,
      ),
      archive: sqlite.prepare(
        `UPDATE inbox_rows SET read = 1, archived = 1
         WHERE tenant_id = ? AND user_id = ? AND id = ? AND (read = 0 OR archived = 0)`,
      ),
      unarchive: sqlite.prepare(
        'UPDATE inbox_rows SET archived = 0 WHERE tenant_id = ? AND user_id = ? AND id = ? AND archived = 1',
      ),
      seen: sqlite.prepare(
        `INSERT INTO inbox_state (tenant_id, user_id, seen) VALUES (?, ?, ?)
         ON CONFLICT (tenant_id, user_id) DO UPDATE SET seen = excluded.seen
         WHERE seen IS NULL OR excluded.seen > seen`,
      ),
      seenMark: sqlite.prepare('SELECT seen FROM inbox_state WHERE tenant_id = ? AND user_id = ?'),
      // The inner LIMIT bounds the rows read, however many are unseen.
      unseen: sqlite.prepare(
        `SELECT count(*) AS n FROM (SELECT 1 FROM inbox_rows
           WHERE tenant_id = ? AND user_id = ? AND id > ? AND archived = 0 LIMIT CAST(? AS INTEGER))`,
      ),
    };
  }

  /** Applies one mark to each id; caller holds the transaction. */
  mark(kind: 'unread' | 'archive' | 'unarchive', user: UserKey, ids: readonly NotificationId[]): void {
    const statement = this.#s[kind];
    for (const id of ids) statement.run(user.tenantId, user.userId, id);
  }

  markSeen(user: UserKey, upToId: NotificationId): void {
    this.#s.seen.run(user.tenantId, user.userId, upToId);
  }

  seenMark(user: UserKey): NotificationId | undefined {
    const row = this.#s.seenMark.get(user.tenantId, user.userId) as { seen: string | null } | undefined;
    return row?.seen ?? undefined;
  }

  unseenCount(user: UserKey, afterId: NotificationId, cap: number): number {
    const seen = this.seenMark(user);
    const from = seen !== undefined && seen > afterId ? seen : afterId;
    return (this.#s.unseen.get(user.tenantId, user.userId, from, cap) as { n: number }).n;
  }
}

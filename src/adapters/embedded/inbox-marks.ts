import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { NotificationId, UserKey } from '../../domain/types.ts';
import { requireArray, requireLimit, requireText, requireUser } from '../checks/input.ts';
import type { EmbeddedDb } from './db.ts';
import { storeStep } from './store-step.ts';

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
 * The Unread and Archived tabs' pages, and mark unread, archive, unarchive and the seen watermark
 * on SQLite, one statement per id inside
 * the caller's transaction. Each statement changes only a row that is not in the target state
 * already, so every call is idempotent and the counter triggers count each change once.
 */
export class EmbeddedMarks {
  readonly #s: Record<'unread' | 'archive' | 'unarchive' | 'seen' | 'seenMark' | 'unseen', StatementSync>;
  readonly #pages: Record<
    'unread' | 'archived',
    { readonly top: StatementSync; readonly before: StatementSync }
  >;

  readonly #db: EmbeddedDb;

  /** `columns`: what a page selects (the inbox's row layout). */
  constructor(db: EmbeddedDb, columns: string) {
    this.#db = db;
    const sqlite = db.sqlite;
    this.#pages = {
      // Archived rows are read: the partial unread index holds exactly the Unread tab.
      unread: pageStatements(sqlite, columns, 'read = 0'),
      archived: pageStatements(sqlite, columns, 'archived = 1'),
    };
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

  /** A page of the Unread or Archived tab, newest first, as arrays of `columns`. */
  page(
    status: 'unread' | 'archived',
    user: UserKey,
    opts: { readonly limit: number; readonly afterId: string; readonly beforeId?: string | undefined },
  ): unknown[] {
    const { top, before } = this.#pages[status];
    return opts.beforeId === undefined
      ? top.all(user.tenantId, user.userId, opts.afterId, opts.limit)
      : before.all(user.tenantId, user.userId, opts.afterId, opts.beforeId, opts.limit);
  }

  /** Applies one mark to each id, in one transaction; ids of no row of this user change nothing. */
  mark(kind: 'unread' | 'archive' | 'unarchive', user: UserKey, ids: readonly NotificationId[]): void {
    requireUser(user);
    requireArray(ids, 'ids');
    ids.forEach((id, i) => {
      requireText(id, `ids[${i}]`);
    });
    const statement = this.#s[kind];
    storeStep(`inbox mark ${kind}`, () =>
      this.#db.transaction(() => {
        for (const id of ids) statement.run(user.tenantId, user.userId, id);
      }),
    );
  }

  markSeen(user: UserKey, upToId: NotificationId): void {
    requireUser(user);
    requireText(upToId, 'upToId');
    storeStep('inbox mark seen', () => this.#s.seen.run(user.tenantId, user.userId, upToId));
  }

  seenMark(user: UserKey): NotificationId | undefined {
    requireUser(user);
    const row = storeStep('inbox seen mark', () => this.#s.seenMark.get(user.tenantId, user.userId)) as
      | { seen: string | null }
      | undefined;
    return row?.seen ?? undefined;
  }

  unseenCount(user: UserKey, afterId: NotificationId, cap: number): number {
    requireText(afterId, 'afterId');
    requireLimit(cap, 'cap');
    const seen = this.seenMark(user);
    const from = seen !== undefined && seen > afterId ? seen : afterId;
    const row = storeStep('inbox unseen count', () =>
      this.#s.unseen.get(user.tenantId, user.userId, from, cap),
    );
    return (row as { n: number }).n;
  }
}

/**
 * A page statement over the rows matching `where`, and its twin under a cursor, returning arrays.
 * `LIMIT CAST(? AS INTEGER)`, not `LIMIT ?`: with node:sqlite the bare parameter made these short
 * range reads several times slower (docs/benchmarks.md).
 */
function pageStatements(
  sqlite: DatabaseSync,
  columns: string,
  where: string,
): { top: StatementSync; before: StatementSync } {
  const top = sqlite.prepare(
    `SELECT ${columns} FROM inbox_rows WHERE tenant_id = ? AND user_id = ? AND id > ? AND ${where}
     ORDER BY id DESC LIMIT CAST(? AS INTEGER)`,
  );
  const before = sqlite.prepare(
    `SELECT ${columns} FROM inbox_rows WHERE tenant_id = ? AND user_id = ? AND id > ? AND id < ?
     AND ${where} ORDER BY id DESC LIMIT CAST(? AS INTEGER)`,
  );
  top.setReturnArrays(true);
  before.setReturnArrays(true);
  return { top, before };
}

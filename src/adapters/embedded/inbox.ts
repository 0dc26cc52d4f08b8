import type { StatementSync } from 'node:sqlite';
import { ValidationError } from '../../domain/errors.ts';
import { INBOX_TTL_MS, liveLowerBound } from '../../domain/ttl.ts';
import type { Category, InboxRow, NotificationId, UserId, UserKey } from '../../domain/types.ts';
import type { Inbox, InboxPageOptions, ReadMark } from '../../ports/inbox.ts';
import { requireArray, requireLimit, requireText, requireUser } from '../checks/input.ts';
import { parsePayload, payloadJson } from '../stored-payload.ts';
import type { EmbeddedDb } from './db.ts';
import { type PurgeOptions, purgeOlderThan } from './sql-purge.ts';
import { storeStep } from './store-step.ts';

export interface EmbeddedInboxOptions {
  readonly db: EmbeddedDb;
  /** Age after which `purgeExpired` deletes rows and read marks. @default INBOX_TTL_MS (90 days) */
  readonly ttlMs?: number;
}

/** What one `purgeExpired` call deleted. */
export interface InboxPurgeResult {
  readonly rows: number;
  readonly readMarks: number;
}

/**
 * A row as a page selects it, as an array (node:sqlite builds arrays faster than objects). The
 * tenant and user are not read back: the caller gave them.
 */
type StoredRow = readonly [
  id: string,
  eventId: string,
  type: string,
  category: Category,
  actorId: string,
  objectId: string | null,
  data: string | null,
  createdAt: number,
  read: number,
];

const ROW_COLUMNS =
  'tenant_id, user_id, id, event_id, type, category, actor_id, object_id, data, created_at, read';
const PAGE_COLUMNS = 'id, event_id, type, category, actor_id, object_id, data, created_at, read';

/**
 * Users' inboxes on SQLite: rows keyed (tenant, user, id) in a WITHOUT ROWID table, so a page is
 * one backward range scan of the key and ULID order is time order. Unread rows sit in a partial
 * index, which makes the unread count a range count and lets mark-all-read touch only unread
 * rows. Read marks of merged celebrity pointers and the mark-all-read watermark have tables of
 * their own. Every read takes the TTL bound (`afterId`), so expired rows never come back even
 * before `purgeExpired` deletes them.
 */
export class EmbeddedInbox implements Inbox {
  readonly #db: EmbeddedDb;
  readonly #ttlMs: number;
  readonly #s: Record<
    | 'insert'
    | 'page'
    | 'pageBefore'
    | 'unread'
    | 'markRow'
    | 'markPointer'
    | 'markAll'
    | 'raiseWatermark'
    | 'watermark'
    | 'readMarks'
    | 'countReadMarks'
    | 'has',
    StatementSync
  >;

  constructor(opts: EmbeddedInboxOptions) {
    this.#db = opts.db;
    this.#ttlMs = opts.ttlMs ?? INBOX_TTL_MS;
    const sqlite = opts.db.sqlite;
    this.#s = storeStep('inbox set-up', () => {
      sqlite.exec(`
        CREATE TABLE IF NOT EXISTS inbox_rows (
          tenant_id TEXT NOT NULL,
          user_id TEXT NOT NULL,
          id TEXT NOT NULL,
          event_id TEXT NOT NULL,
          type TEXT NOT NULL,
          category TEXT NOT NULL,
          actor_id TEXT NOT NULL,
          object_id TEXT,
          data TEXT,
          created_at INTEGER NOT NULL,
          read INTEGER NOT NULL,
          PRIMARY KEY (tenant_id, user_id, id)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS inbox_unread ON inbox_rows (tenant_id, user_id, id) WHERE read = 0;
        CREATE TABLE IF NOT EXISTS inbox_read_marks (
          tenant_id TEXT NOT NULL,
          user_id TEXT NOT NULL,
          id TEXT NOT NULL,
          author_id TEXT NOT NULL,
          PRIMARY KEY (tenant_id, user_id, id)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS inbox_read_watermarks (
          tenant_id TEXT NOT NULL,
          user_id TEXT NOT NULL,
          up_to_id TEXT NOT NULL,
          PRIMARY KEY (tenant_id, user_id)
        ) WITHOUT ROWID;
      `);
      const statements = {
        insert: sqlite.prepare(
          `INSERT OR IGNORE INTO inbox_rows (${ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ),
        // `LIMIT CAST(? AS INTEGER)`, not `LIMIT ?`: with node:sqlite the bare parameter made these
        // short range reads several times slower (docs/benchmarks.md).
        page: sqlite.prepare(
          `SELECT ${PAGE_COLUMNS} FROM inbox_rows WHERE tenant_id = ? AND user_id = ? AND id > ?
           ORDER BY id DESC LIMIT CAST(? AS INTEGER)`,
        ),
        pageBefore: sqlite.prepare(
          `SELECT ${PAGE_COLUMNS} FROM inbox_rows WHERE tenant_id = ? AND user_id = ? AND id > ? AND id < ?
           ORDER BY id DESC LIMIT CAST(? AS INTEGER)`,
        ),
        unread: sqlite.prepare(
          'SELECT count(*) AS n FROM inbox_rows WHERE tenant_id = ? AND user_id = ? AND read = 0 AND id > ?',
        ),
        markRow: sqlite.prepare(
          'UPDATE inbox_rows SET read = 1 WHERE tenant_id = ? AND user_id = ? AND id = ? AND read = 0',
        ),
        markPointer: sqlite.prepare(
          'INSERT OR IGNORE INTO inbox_read_marks (tenant_id, user_id, id, author_id) VALUES (?, ?, ?, ?)',
        ),
        markAll: sqlite.prepare(
          'UPDATE inbox_rows SET read = 1 WHERE tenant_id = ? AND user_id = ? AND read = 0 AND id <= ?',
        ),
        raiseWatermark: sqlite.prepare(
          `INSERT INTO inbox_read_watermarks (tenant_id, user_id, up_to_id) VALUES (?, ?, ?)
           ON CONFLICT (tenant_id, user_id) DO UPDATE SET up_to_id = excluded.up_to_id
           WHERE excluded.up_to_id > up_to_id`,
        ),
        watermark: sqlite.prepare(
          'SELECT up_to_id FROM inbox_read_watermarks WHERE tenant_id = ? AND user_id = ?',
        ),
        readMarks: sqlite.prepare(
          `SELECT id FROM inbox_read_marks WHERE tenant_id = ? AND user_id = ?
           AND id IN (SELECT value FROM json_each(?))`,
        ),
        countReadMarks: sqlite.prepare(
          `SELECT count(*) AS n FROM inbox_read_marks WHERE tenant_id = ? AND user_id = ? AND id > ?
           AND author_id IN (SELECT value FROM json_each(?))`,
        ),
        has: sqlite.prepare(
          'SELECT 1 AS found FROM inbox_rows WHERE tenant_id = ? AND user_id = ? AND id = ?',
        ),
      };
      statements.page.setReturnArrays(true);
      statements.pageBefore.setReturnArrays(true);
      return statements;
    });
  }

  /**
   * The fan-out hot path: one transaction, one cached statement, positional parameters. A run of
   * rows sharing one payload object (one event to many followers) stringifies it once.
   */
  async putMany(rows: readonly InboxRow[]): Promise<void> {
    requireArray(rows, 'rows');
    if (rows.length === 0) return;
    const insert = this.#s.insert;
    storeStep('inbox write', () =>
      this.#db.transaction(() => {
        let lastData: InboxRow['data'] | null = null;
        let lastJson: string | null = null;
        for (let i = 0; i < rows.length; i++) {
          const row = rows[i]!;
          const bad = invalidRowField(row);
          // Throwing inside the transaction rolls the whole batch back: nothing partially applied.
          if (bad !== undefined)
            throw new ValidationError([{ path: `rows[${i}].${bad}`, message: 'is missing or invalid' }]);
          if (row.data !== lastData) {
            lastData = row.data;
            lastJson = payloadJson(row.data);
          }
          insert.run(
            row.tenantId,
            row.userId,
            row.id,
            row.eventId,
            row.type,
            row.category,
            row.actorId,
            row.objectId ?? null,
            lastJson,
            row.createdAt,
            row.read ? 1 : 0,
          );
        }
      }),
    );
  }

  async page(user: UserKey, opts: InboxPageOptions): Promise<InboxRow[]> {
    requireUser(user);
    requireLimit(opts?.limit);
    requireText(opts.afterId, 'afterId');
    if (opts.beforeId !== undefined) requireText(opts.beforeId, 'beforeId');
    const rows = storeStep('inbox page', () =>
      opts.beforeId === undefined
        ? this.#s.page.all(user.tenantId, user.userId, opts.afterId, opts.limit)
        : this.#s.pageBefore.all(user.tenantId, user.userId, opts.afterId, opts.beforeId, opts.limit),
    ) as unknown as StoredRow[];
    return rows.map((row) => toInboxRow(user, row));
  }

  async unreadCount(user: UserKey, afterId: NotificationId): Promise<number> {
    requireUser(user);
    requireText(afterId, 'afterId');
    const row = storeStep('inbox unread count', () =>
      this.#s.unread.get(user.tenantId, user.userId, afterId),
    ) as {
      n: number;
    };
    return row.n;
  }

  async markRead(user: UserKey, marks: readonly ReadMark[]): Promise<void> {
    requireUser(user);
    requireArray(marks, 'marks');
    marks.forEach(validateMark);
    const { markRow, markPointer } = this.#s;
    storeStep('inbox mark read', () =>
      this.#db.transaction(() => {
        for (const mark of marks) {
          if (mark.authorId === undefined) markRow.run(user.tenantId, user.userId, mark.id);
          else markPointer.run(user.tenantId, user.userId, mark.id, mark.authorId);
        }
      }),
    );
  }

  async markAllRead(user: UserKey, upToId: NotificationId): Promise<void> {
    requireUser(user);
    requireText(upToId, 'upToId');
    storeStep('inbox mark all read', () =>
      this.#db.transaction(() => {
        this.#s.markAll.run(user.tenantId, user.userId, upToId);
        this.#s.raiseWatermark.run(user.tenantId, user.userId, upToId);
      }),
    );
  }

  async readWatermark(user: UserKey): Promise<NotificationId | undefined> {
    requireUser(user);
    const row = storeStep('inbox read watermark', () => this.#s.watermark.get(user.tenantId, user.userId)) as
      | { up_to_id: string }
      | undefined;
    return row?.up_to_id;
  }

  async readMarks(user: UserKey, ids: readonly NotificationId[]): Promise<Set<NotificationId>> {
    requireUser(user);
    requireArray(ids, 'ids');
    if (ids.length === 0) return new Set();
    const rows = storeStep('inbox read marks', () =>
      this.#s.readMarks.all(user.tenantId, user.userId, JSON.stringify(ids)),
    ) as { id: string }[];
    return new Set(rows.map((row) => row.id));
  }

  async countReadMarks(user: UserKey, authors: readonly UserId[], afterId: NotificationId): Promise<number> {
    requireUser(user);
    requireArray(authors, 'authors');
    requireText(afterId, 'afterId');
    if (authors.length === 0) return 0;
    const row = storeStep('inbox count read marks', () =>
      this.#s.countReadMarks.get(user.tenantId, user.userId, afterId, JSON.stringify(authors)),
    ) as { n: number };
    return row.n;
  }

  async has(user: UserKey, id: NotificationId): Promise<boolean> {
    requireUser(user);
    requireText(id, 'id');
    return storeStep('inbox has', () => this.#s.has.get(user.tenantId, user.userId, id)) !== undefined;
  }

  /**
   * Deletes rows and read marks older than the TTL at `now`, in bounded batches that let other
   * work run in between: the embedded counterpart of DynamoDB's TTL deletion. Reads never needed
   * it to hide expired rows; it only reclaims space.
   */
  async purgeExpired(now: number, opts?: PurgeOptions): Promise<InboxPurgeResult> {
    const bound = liveLowerBound(now, this.#ttlMs);
    const rows = await purgeOlderThan(this.#db, 'inbox_rows', 'user_id', bound, opts);
    const readMarks = await purgeOlderThan(this.#db, 'inbox_read_marks', 'user_id', bound, opts);
    return { rows, readMarks };
  }
}

function toInboxRow(user: UserKey, row: StoredRow): InboxRow {
  const [id, eventId, type, category, actorId, objectId, data, createdAt, read] = row;
  const inboxRow: { -readonly [K in keyof InboxRow]: InboxRow[K] } = {
    tenantId: user.tenantId,
    userId: user.userId,
    id,
    eventId,
    type,
    category,
    actorId,
    createdAt,
    read: read === 1,
  };
  if (objectId !== null) inboxRow.objectId = objectId;
  const payload = parsePayload(data);
  if (payload !== undefined) inboxRow.data = payload;
  return inboxRow;
}

/** The first required field of a row that is missing or of the wrong type; cheap enough per row. */
function invalidRowField(row: InboxRow): string | undefined {
  if (typeof row !== 'object' || row === null) return 'row';
  if (typeof row.tenantId !== 'string' || row.tenantId.length === 0) return 'tenantId';
  if (typeof row.userId !== 'string' || row.userId.length === 0) return 'userId';
  if (typeof row.id !== 'string' || row.id.length === 0) return 'id';
  if (typeof row.eventId !== 'string') return 'eventId';
  if (typeof row.type !== 'string') return 'type';
  if (typeof row.category !== 'string') return 'category';
  if (typeof row.actorId !== 'string') return 'actorId';
  if (typeof row.createdAt !== 'number') return 'createdAt';
  return undefined;
}

function validateMark(mark: ReadMark, i: number): void {
  requireText(mark?.id, `marks[${i}].id`);
  if (mark.authorId !== undefined) requireText(mark.authorId, `marks[${i}].authorId`);
}

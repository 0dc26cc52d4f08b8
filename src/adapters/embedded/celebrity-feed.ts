import type { StatementSync } from 'node:sqlite';
import { INBOX_TTL_MS, liveLowerBound } from '../../domain/ttl.ts';
import type { Category, CelebrityPointer, NotificationId, TenantId, UserKey } from '../../domain/types.ts';
import type { CelebrityFeed, FeedPageOptions } from '../../ports/celebrity-feed.ts';
import { validatePointer } from '../checks/celebrity-feed.ts';
import { requireArray, requireLimit, requireText, requireUser } from '../checks/input.ts';
import { parsePayload, payloadJson } from '../stored-payload.ts';
import type { EmbeddedDb } from './db.ts';
import { type PurgeOptions, purgeOlderThan } from './sql-purge.ts';
import { storeStep } from './store-step.ts';

export interface EmbeddedCelebrityFeedOptions {
  readonly db: EmbeddedDb;
  /** Age after which `purgeExpired` deletes pointers. @default INBOX_TTL_MS (90 days) */
  readonly ttlMs?: number;
}

/**
 * A pointer as reads select it, as an array (node:sqlite builds arrays faster than objects, and a
 * page is read once per followed celebrity). The tenant and author are not read back: the caller
 * gave them, except `get`, which appends the author.
 */
type StoredPointer = readonly [
  id: string,
  eventId: string,
  type: string,
  category: Category,
  objectId: string | null,
  data: string | null,
  createdAt: number,
  authorId?: string,
];

const COLUMNS = 'tenant_id, author_id, id, event_id, type, category, object_id, data, created_at';
const READ_COLUMNS = 'id, event_id, type, category, object_id, data, created_at';

/**
 * Celebrity pointers on SQLite, keyed (tenant, author, id) so a celebrity's feed is one backward
 * range scan; an index on (tenant, id) finds a pointer by its id alone (marking it read).
 */
export class EmbeddedCelebrityFeed implements CelebrityFeed {
  readonly #db: EmbeddedDb;
  readonly #ttlMs: number;
  readonly #s: Record<'insert' | 'page' | 'pageBefore' | 'countAfter' | 'get', StatementSync>;

  constructor(opts: EmbeddedCelebrityFeedOptions) {
    this.#db = opts.db;
    this.#ttlMs = opts.ttlMs ?? INBOX_TTL_MS;
    const sqlite = opts.db.sqlite;
    this.#s = storeStep('celebrity feed set-up', () => {
      sqlite.exec(`
        CREATE TABLE IF NOT EXISTS celebrity_pointers (
          tenant_id TEXT NOT NULL,
          author_id TEXT NOT NULL,
          id TEXT NOT NULL,
          event_id TEXT NOT NULL,
          type TEXT NOT NULL,
          category TEXT NOT NULL,
          object_id TEXT,
          data TEXT,
          created_at INTEGER NOT NULL,
          PRIMARY KEY (tenant_id, author_id, id)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS celebrity_pointers_by_id ON celebrity_pointers (tenant_id, id);
      `);
      const statements = {
        insert: sqlite.prepare(
          `INSERT OR IGNORE INTO celebrity_pointers (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ),
        // `LIMIT CAST(? AS INTEGER)`, not `LIMIT ?`: with node:sqlite the bare parameter made these
        // short range reads several times slower (docs/benchmarks.md).
        page: sqlite.prepare(
          `SELECT ${READ_COLUMNS} FROM celebrity_pointers WHERE tenant_id = ? AND author_id = ? AND id > ?
           ORDER BY id DESC LIMIT CAST(? AS INTEGER)`,
        ),
        pageBefore: sqlite.prepare(
          `SELECT ${READ_COLUMNS} FROM celebrity_pointers WHERE tenant_id = ? AND author_id = ? AND id > ? AND id < ?
           ORDER BY id DESC LIMIT CAST(? AS INTEGER)`,
        ),
        countAfter: sqlite.prepare(
          'SELECT count(*) AS n FROM celebrity_pointers WHERE tenant_id = ? AND author_id = ? AND id > ?',
        ),
        get: sqlite.prepare(
          `SELECT ${READ_COLUMNS}, author_id FROM celebrity_pointers WHERE tenant_id = ? AND id = ? LIMIT 1`,
        ),
      };
      for (const read of [statements.page, statements.pageBefore, statements.get]) read.setReturnArrays(true);
      return statements;
    });
  }

  async put(pointers: readonly CelebrityPointer[]): Promise<void> {
    requireArray(pointers, 'pointers');
    pointers.forEach(validatePointer);
    const insert = this.#s.insert;
    storeStep('celebrity feed write', () =>
      this.#db.transaction(() => {
        for (const p of pointers) {
          insert.run(
            p.tenantId,
            p.authorId,
            p.id,
            p.eventId,
            p.type,
            p.category,
            p.objectId ?? null,
            payloadJson(p.data),
            p.createdAt,
          );
        }
      }),
    );
  }

  async page(author: UserKey, opts: FeedPageOptions): Promise<CelebrityPointer[]> {
    requireUser(author, 'author');
    requireLimit(opts?.limit);
    requireText(opts.afterId, 'afterId');
    if (opts.beforeId !== undefined) requireText(opts.beforeId, 'beforeId');
    const rows = storeStep('celebrity feed page', () =>
      opts.beforeId === undefined
        ? this.#s.page.all(author.tenantId, author.userId, opts.afterId, opts.limit)
        : this.#s.pageBefore.all(author.tenantId, author.userId, opts.afterId, opts.beforeId, opts.limit),
    ) as unknown as StoredPointer[];
    return rows.map((row) => toPointer(author.tenantId, author.userId, row));
  }

  async countAfter(author: UserKey, afterId: NotificationId): Promise<number> {
    requireUser(author, 'author');
    requireText(afterId, 'afterId');
    const row = storeStep('celebrity feed count', () =>
      this.#s.countAfter.get(author.tenantId, author.userId, afterId),
    ) as { n: number };
    return row.n;
  }

  async get(tenantId: TenantId, id: NotificationId): Promise<CelebrityPointer | undefined> {
    requireText(tenantId, 'tenantId');
    requireText(id, 'id');
    const row = storeStep('celebrity feed get', () => this.#s.get.get(tenantId, id)) as
      | StoredPointer
      | undefined;
    return row === undefined ? undefined : toPointer(tenantId, row[7]!, row);
  }

  /** Deletes pointers older than the TTL at `now`, in bounded batches (DynamoDB TTL's counterpart). */
  async purgeExpired(now: number, opts?: PurgeOptions): Promise<number> {
    return purgeOlderThan(
      this.#db,
      'celebrity_pointers',
      'author_id',
      liveLowerBound(now, this.#ttlMs),
      opts,
    );
  }
}

function toPointer(tenantId: string, authorId: string, row: StoredPointer): CelebrityPointer {
  const [id, eventId, type, category, objectId, data, createdAt] = row;
  const pointer: { -readonly [K in keyof CelebrityPointer]: CelebrityPointer[K] } = {
    tenantId,
    authorId,
    id,
    eventId,
    type,
    category,
    createdAt,
  };
  if (objectId !== null) pointer.objectId = objectId;
  const payload = parsePayload(data);
  if (payload !== undefined) pointer.data = payload;
  return pointer;
}

import type { StatementSync } from 'node:sqlite';
import { ValidationError } from '../../domain/errors.ts';
import { INBOX_TTL_MS, liveLowerBound } from '../../domain/ttl.ts';
import type { Category, CelebrityPointer, NotificationId, TenantId, UserKey } from '../../domain/types.ts';
import type { CelebrityFeed, FeedPageOptions } from '../../ports/celebrity-feed.ts';
import type { EmbeddedDb } from './db.ts';
import { type PurgeOptions, purgeOlderThan } from './sql-purge.ts';
import {
  parsePayload,
  payloadJson,
  requireArray,
  requireLimit,
  requireText,
  requireUser,
  storeStep,
} from './sql-support.ts';

export interface EmbeddedCelebrityFeedOptions {
  readonly db: EmbeddedDb;
  /** Age after which `purgeExpired` deletes pointers. @default INBOX_TTL_MS (90 days) */
  readonly ttlMs?: number;
}

interface StoredPointer {
  readonly tenant_id: string;
  readonly author_id: string;
  readonly id: string;
  readonly event_id: string;
  readonly type: string;
  readonly category: Category;
  readonly object_id: string | null;
  readonly data: string | null;
  readonly created_at: number;
}

const COLUMNS = 'tenant_id, author_id, id, event_id, type, category, object_id, data, created_at';

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
      return {
        insert: sqlite.prepare(
          `INSERT OR IGNORE INTO celebrity_pointers (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ),
        page: sqlite.prepare(
          `SELECT ${COLUMNS} FROM celebrity_pointers WHERE tenant_id = ? AND author_id = ? AND id > ?
           ORDER BY id DESC LIMIT ?`,
        ),
        pageBefore: sqlite.prepare(
          `SELECT ${COLUMNS} FROM celebrity_pointers WHERE tenant_id = ? AND author_id = ? AND id > ? AND id < ?
           ORDER BY id DESC LIMIT ?`,
        ),
        countAfter: sqlite.prepare(
          'SELECT count(*) AS n FROM celebrity_pointers WHERE tenant_id = ? AND author_id = ? AND id > ?',
        ),
        get: sqlite.prepare(
          `SELECT ${COLUMNS} FROM celebrity_pointers WHERE tenant_id = ? AND id = ? LIMIT 1`,
        ),
      };
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
    return rows.map(toPointer);
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
    return row === undefined ? undefined : toPointer(row);
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

function toPointer(row: StoredPointer): CelebrityPointer {
  const data = parsePayload(row.data);
  return {
    tenantId: row.tenant_id,
    authorId: row.author_id,
    id: row.id,
    eventId: row.event_id,
    type: row.type,
    category: row.category,
    ...(row.object_id === null ? {} : { objectId: row.object_id }),
    ...(data === undefined ? {} : { data }),
    createdAt: row.created_at,
  };
}

function validatePointer(p: CelebrityPointer, i: number): void {
  requireText(p?.tenantId, `pointers[${i}].tenantId`);
  requireText(p.authorId, `pointers[${i}].authorId`);
  requireText(p.id, `pointers[${i}].id`);
  requireText(p.eventId, `pointers[${i}].eventId`);
  requireText(p.type, `pointers[${i}].type`);
  requireText(p.category, `pointers[${i}].category`);
  if (typeof p.createdAt !== 'number' || !Number.isFinite(p.createdAt)) {
    throw new ValidationError([{ path: `pointers[${i}].createdAt`, message: 'must be epoch ms' }]);
  }
}

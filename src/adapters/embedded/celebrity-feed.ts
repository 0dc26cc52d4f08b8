import type { StatementSync } from 'node:sqlite';
import { ValidationError } from '../../domain/errors.ts';
import { INBOX_TTL_MS, liveLowerBound } from '../../domain/ttl.ts';
import type {
  Category,
  CelebrityPointer,
  NotificationId,
  TenantId,
  UserId,
  UserKey,
} from '../../domain/types.ts';
import type {
  ArrivalMark,
  ArrivalPage,
  CelebrityFeed,
  FeedPageOptions,
  PointerRef,
} from '../../ports/celebrity-feed.ts';
import { validatePointer, validateRefs } from '../checks/celebrity-feed.ts';
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

/** What one `purgeExpired` call deleted. */
export interface FeedPurgeResult {
  readonly pointers: number;
  readonly arrivals: number;
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
 * range scan; an index on (tenant, id) finds a pointer by its id alone (fan-out's replay check).
 *
 * The arrival log is a table of (seq, tenant, author, id) with `seq` an AUTOINCREMENT key. SQLite
 * has one writer at a time (every write here is a BEGIN IMMEDIATE transaction, across processes
 * too), so seq order is commit order: a reader that has seen seq n has seen every entry below it,
 * and a mark is simply the last seq handled, with no settle window. A covering index on
 * (tenant, seq) makes a catch-up one range read of its tenant's new entries; an index on the
 * pointer id lets the purge drop entries of expired pointers.
 */
export class EmbeddedCelebrityFeed implements CelebrityFeed {
  readonly #db: EmbeddedDb;
  readonly #ttlMs: number;
  readonly #s: Record<
    'insert' | 'arrive' | 'page' | 'pageBefore' | 'get' | 'getMany' | 'arrivals' | 'tail',
    StatementSync
  >;

  constructor(opts: EmbeddedCelebrityFeedOptions) {
    this.#db = opts.db;
    this.#ttlMs = opts.ttlMs ?? INBOX_TTL_MS;
    const sqlite = opts.db.sqlite;
    this.#s = storeStep('celebrity feed set-up', () => {
      const hadLog = sqlite
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'celebrity_arrivals'")
        .get();
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
        CREATE TABLE IF NOT EXISTS celebrity_arrivals (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          tenant_id TEXT NOT NULL,
          author_id TEXT NOT NULL,
          id TEXT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS celebrity_arrivals_by_tenant
          ON celebrity_arrivals (tenant_id, seq, author_id, id);
        CREATE INDEX IF NOT EXISTS celebrity_arrivals_by_id ON celebrity_arrivals (id);
      `);
      // A data file from before the arrival log: its pointers arrive once, oldest first, so
      // readers catching up for the first time still find them.
      if (hadLog === undefined) {
        sqlite.exec(
          'INSERT INTO celebrity_arrivals (tenant_id, author_id, id) SELECT tenant_id, author_id, id FROM celebrity_pointers ORDER BY id',
        );
      }
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
        get: sqlite.prepare(
          `SELECT ${READ_COLUMNS}, author_id FROM celebrity_pointers WHERE tenant_id = ? AND id = ? LIMIT 1`,
        ),
        arrive: sqlite.prepare('INSERT INTO celebrity_arrivals (tenant_id, author_id, id) VALUES (?, ?, ?)'),
        // CROSS JOIN keeps json_each outside: one key look-up per ref, whatever the table holds.
        getMany: sqlite.prepare(
          `SELECT DISTINCT p.id, p.event_id, p.type, p.category, p.object_id, p.data, p.created_at, p.author_id
           FROM json_each(?) j CROSS JOIN celebrity_pointers p
           WHERE p.tenant_id = ? AND p.author_id = j.value ->> 0 AND p.id = j.value ->> 1`,
        ),
        arrivals: sqlite.prepare(
          `SELECT seq, author_id, id FROM celebrity_arrivals WHERE tenant_id = ? AND seq > ?
           ORDER BY seq LIMIT CAST(? AS INTEGER)`,
        ),
        tail: sqlite.prepare('SELECT max(seq) AS seq FROM celebrity_arrivals WHERE tenant_id = ?'),
      };
      for (const read of [statements.page, statements.pageBefore, statements.get, statements.getMany]) {
        read.setReturnArrays(true);
      }
      statements.arrivals.setReturnArrays(true);
      return statements;
    });
  }

  async put(pointers: readonly CelebrityPointer[]): Promise<void> {
    requireArray(pointers, 'pointers');
    pointers.forEach(validatePointer);
    const { insert, arrive } = this.#s;
    storeStep('celebrity feed write', () =>
      this.#db.transaction(() => {
        for (const p of pointers) {
          // Pointer and log entry commit together; a repeated put appends a repeated entry.
          arrive.run(p.tenantId, p.authorId, p.id);
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

  async get(tenantId: TenantId, id: NotificationId): Promise<CelebrityPointer | undefined> {
    requireText(tenantId, 'tenantId');
    requireText(id, 'id');
    const row = storeStep('celebrity feed get', () => this.#s.get.get(tenantId, id)) as
      | StoredPointer
      | undefined;
    return row === undefined ? undefined : toPointer(tenantId, row[7]!, row);
  }

  async remove(tenantId: TenantId, authorId: UserId, id: NotificationId): Promise<boolean> {
    requireText(tenantId, 'tenantId');
    requireText(authorId, 'authorId');
    requireText(id, 'id');
    // Rare (a retraction), so prepared when used, not kept.
    const out = storeStep('celebrity feed remove', () =>
      this.#db.sqlite
        .prepare('DELETE FROM celebrity_pointers WHERE tenant_id = ? AND author_id = ? AND id = ?')
        .run(tenantId, authorId, id),
    );
    return Number(out.changes) > 0;
  }

  async getMany(tenantId: TenantId, refs: readonly PointerRef[]): Promise<CelebrityPointer[]> {
    requireText(tenantId, 'tenantId');
    validateRefs(refs);
    if (refs.length === 0) return [];
    const pairs = JSON.stringify(refs.map((r) => [r.authorId, r.id]));
    const rows = storeStep('celebrity feed get many', () =>
      this.#s.getMany.all(pairs, tenantId),
    ) as unknown as StoredPointer[];
    return rows.map((row) => toPointer(tenantId, row[7]!, row));
  }

  async arrivals(tenantId: TenantId, after: ArrivalMark | undefined, limit: number): Promise<ArrivalPage> {
    requireText(tenantId, 'tenantId');
    requireLimit(limit);
    const from = after === undefined ? 0 : seqOf(after);
    // One row past the page tells whether there are more.
    const rows = storeStep('celebrity feed arrivals', () =>
      this.#s.arrivals.all(tenantId, from, limit + 1),
    ) as unknown as [seq: number, authorId: string, id: string][];
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      entries: page.map(([, authorId, id]) => ({ authorId, id })),
      next: last === undefined ? (after ?? String(from)) : String(last[0]),
      more: rows.length > limit,
    };
  }

  async arrivalTail(tenantId: TenantId): Promise<ArrivalMark> {
    requireText(tenantId, 'tenantId');
    const row = storeStep('celebrity feed tail', () => this.#s.tail.get(tenantId)) as { seq: number | null };
    return String(row.seq ?? 0);
  }

  /**
   * Deletes pointers older than the TTL at `now`, and the log entries of such pointers, in
   * bounded batches (DynamoDB TTL's counterpart).
   */
  async purgeExpired(now: number, opts?: PurgeOptions): Promise<FeedPurgeResult> {
    const bound = liveLowerBound(now, this.#ttlMs);
    const pointers = await purgeOlderThan(this.#db, 'celebrity_pointers', 'author_id', bound, opts);
    const batch = Math.max(1, Math.floor(opts?.batchSize ?? 1000));
    const remove = storeStep('purge celebrity_arrivals', () =>
      this.#db.sqlite.prepare(
        'DELETE FROM celebrity_arrivals WHERE seq IN (SELECT seq FROM celebrity_arrivals WHERE id <= ? LIMIT ?)',
      ),
    );
    let arrivals = 0;
    for (;;) {
      const removed = Number(
        storeStep('purge celebrity_arrivals', () => this.#db.transaction(() => remove.run(bound, batch)))
          .changes,
      );
      arrivals += removed;
      if (removed < batch) return { pointers, arrivals };
      // Let other work (fan-out, reads) run between batches.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

/** The seq of an embedded arrival mark. */
function seqOf(mark: ArrivalMark): number {
  const seq = typeof mark === 'string' && /^\d{1,15}$/.test(mark) ? Number(mark) : Number.NaN;
  if (!Number.isSafeInteger(seq)) {
    throw new ValidationError([{ path: 'after', message: 'is not an arrival mark of this feed' }]);
  }
  return seq;
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

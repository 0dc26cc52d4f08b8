import type { StatementSync } from 'node:sqlite';
import { CatchUpConflictError, ValidationError } from '../../domain/errors.ts';
import { INBOX_TTL_MS, liveLowerBound } from '../../domain/ttl.ts';
import type { Category, InboxRow, NotificationId, TenantId, UserKey } from '../../domain/types.ts';
import type { ArrivalMark } from '../../ports/celebrity-feed.ts';
import type {
  CatchUpRange,
  EventRef,
  Inbox,
  InboxGroup,
  InboxPageOptions,
  ReadMark,
} from '../../ports/inbox.ts';
import { requireStatus } from '../checks/inbox-status.ts';
import { requireArray, requireInteger, requireLimit, requireText, requireUser } from '../checks/input.ts';
import { requireRef } from '../checks/retraction.ts';
import { parsePayload, payloadJson } from '../stored-payload.ts';
import type { EmbeddedDb } from './db.ts';
import { EmbeddedGroupRead } from './inbox-group-read.ts';
import { EmbeddedGroups, shownActors } from './inbox-groups.ts';
import { EmbeddedMarks } from './inbox-marks.ts';
import { EmbeddedRetractions } from './inbox-retract.ts';
import { createInboxSchema, UNREAD_FOLD_AT } from './inbox-schema.ts';
import { type PurgeOptions, purgeOlderThan } from './sql-purge.ts';
import { storeStep } from './store-step.ts';

export interface EmbeddedInboxOptions {
  readonly db: EmbeddedDb;
  /** Age after which `purgeExpired` deletes rows. @default INBOX_TTL_MS (90 days) */
  readonly ttlMs?: number;
  /**
   * Unread rows a count may find outside its counter's range before it folds them in (one small
   * write). Lower means more writes, higher more rows read per count. @default 64
   */
  readonly unreadFoldAt?: number;
}

/** What one `purgeExpired` call deleted. */
export interface InboxPurgeResult {
  readonly rows: number;
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
  source: string | null,
  groupKey: string | null,
  actorCount: number | null,
  actors: string | null,
];

/** The unread counter as the count statement reads it (see inbox-schema.ts). */
interface CounterRead {
  readonly n: number;
  readonly fl: string;
  readonly upto: string;
  /** Unread rows above max(lo, upto). */
  readonly above: number;
  /** Unread rows between lo and the floor, whichever way round (capped at upto). */
  readonly mid: number;
}

const ROW_COLUMNS =
  'tenant_id, user_id, id, event_id, type, category, actor_id, object_id, data, created_at, read, source';
const PAGE_COLUMNS =
  'id, event_id, type, category, actor_id, object_id, data, created_at, read, source, group_key, actor_count, actors';

/**
 * Users' inboxes on SQLite: rows keyed (tenant, user, id) in a WITHOUT ROWID table, so a page is
 * one backward range scan of the key and ULID order is time order. Unread rows sit in a partial
 * index. Per user, one `inbox_state` row holds the catch-up mark, the mark-all-read watermark and
 * an exact unread counter that triggers keep (inbox-schema.ts), so the unread count costs the
 * same with 100 or 100,000 unread rows. Every read takes the TTL bound (`afterId`), so expired
 * rows never come back even before `purgeExpired` deletes them.
 */
export class EmbeddedInbox implements Inbox {
  readonly #db: EmbeddedDb;
  readonly #ttlMs: number;
  readonly #foldAt: number;
  readonly #groups: EmbeddedGroups;
  readonly #marks: EmbeddedMarks;
  readonly #groupRead: EmbeddedGroupRead;
  readonly #retractions: EmbeddedRetractions;
  readonly #s: Record<
    | 'insert'
    | 'page'
    | 'pageBefore'
    | 'countAll'
    | 'counter'
    | 'newest'
    | 'storeCounter'
    | 'markRow'
    | 'markAll'
    | 'raiseWatermark'
    | 'state'
    | 'setCatchUp'
    | 'has',
    StatementSync
  >;

  constructor(opts: EmbeddedInboxOptions) {
    this.#db = opts.db;
    this.#ttlMs = opts.ttlMs ?? INBOX_TTL_MS;
    this.#foldAt = opts.unreadFoldAt ?? UNREAD_FOLD_AT;
    const sqlite = opts.db.sqlite;
    this.#s = storeStep('inbox set-up', () => {
      createInboxSchema(sqlite);
      const statements = {
        insert: sqlite.prepare(
          `INSERT OR IGNORE INTO inbox_rows (${ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ),
        // `LIMIT CAST(? AS INTEGER)`, not `LIMIT ?`: with node:sqlite the bare parameter made these
        // short range reads several times slower (docs/benchmarks.md).
        // All: the rows not archived (the other tabs: inbox-marks.ts).
        page: sqlite.prepare(
          `SELECT ${PAGE_COLUMNS} FROM inbox_rows WHERE tenant_id = ? AND user_id = ? AND id > ? AND archived = 0
           ORDER BY id DESC LIMIT CAST(? AS INTEGER)`,
        ),
        pageBefore: sqlite.prepare(
          `SELECT ${PAGE_COLUMNS} FROM inbox_rows WHERE tenant_id = ? AND user_id = ? AND id > ? AND id < ?
           AND archived = 0 ORDER BY id DESC LIMIT CAST(? AS INTEGER)`,
        ),
        countAll: sqlite.prepare(
          'SELECT count(*) AS n FROM inbox_rows WHERE tenant_id = ? AND user_id = ? AND read = 0 AND id > ?',
        ),
        // One statement, so one snapshot: the counter and the two short ranges it needs at `lo`.
        counter: sqlite.prepare(
          `SELECT s.unread AS n, s.floor AS fl, s.upto AS upto,
             (SELECT count(*) FROM inbox_rows r WHERE r.tenant_id = s.tenant_id AND r.user_id = s.user_id
                AND r.read = 0 AND r.id > max(:lo, s.upto)) AS above,
             (SELECT count(*) FROM inbox_rows r WHERE r.tenant_id = s.tenant_id AND r.user_id = s.user_id
                AND r.read = 0 AND r.id > min(:lo, s.floor) AND r.id <= min(max(:lo, s.floor), s.upto)) AS mid
           FROM inbox_state s WHERE s.tenant_id = :t AND s.user_id = :u AND s.floor IS NOT NULL`,
        ),
        newest: sqlite.prepare('SELECT max(id) AS id FROM inbox_rows WHERE tenant_id = ? AND user_id = ?'),
        storeCounter: sqlite.prepare(
          `INSERT INTO inbox_state (tenant_id, user_id, unread, floor, upto) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (tenant_id, user_id) DO UPDATE SET unread = excluded.unread,
             floor = excluded.floor, upto = excluded.upto`,
        ),
        markRow: sqlite.prepare(
          'UPDATE inbox_rows SET read = 1 WHERE tenant_id = ? AND user_id = ? AND id = ? AND read = 0',
        ),
        markAll: sqlite.prepare(
          'UPDATE inbox_rows SET read = 1 WHERE tenant_id = ? AND user_id = ? AND read = 0 AND id <= ?',
        ),
        raiseWatermark: sqlite.prepare(
          `INSERT INTO inbox_state (tenant_id, user_id, watermark) VALUES (?, ?, ?)
           ON CONFLICT (tenant_id, user_id) DO UPDATE SET watermark = excluded.watermark
           WHERE watermark IS NULL OR excluded.watermark > watermark`,
        ),
        state: sqlite.prepare(
          'SELECT catch_up, watermark FROM inbox_state WHERE tenant_id = ? AND user_id = ?',
        ),
        setCatchUp: sqlite.prepare(
          `INSERT INTO inbox_state (tenant_id, user_id, catch_up) VALUES (?, ?, ?)
           ON CONFLICT (tenant_id, user_id) DO UPDATE SET catch_up = excluded.catch_up`,
        ),
        has: sqlite.prepare(
          'SELECT 1 AS found FROM inbox_rows WHERE tenant_id = ? AND user_id = ? AND id = ?',
        ),
      };
      statements.page.setReturnArrays(true);
      statements.pageBefore.setReturnArrays(true);
      return statements;
    });
    this.#groups = storeStep('inbox set-up', () => new EmbeddedGroups(sqlite));
    this.#marks = storeStep('inbox set-up', () => new EmbeddedMarks(opts.db, PAGE_COLUMNS));
    this.#groupRead = storeStep('inbox set-up', () => new EmbeddedGroupRead(sqlite));
    this.#retractions = storeStep('inbox set-up', () => new EmbeddedRetractions(sqlite));
  }

  /**
   * The fan-out hot path: one transaction, one cached statement, positional parameters. A run of
   * rows sharing one payload object (one event to many followers) stringifies it once. A fresh
   * row lands above its user's counted range, so the counter trigger only looks the user up.
   * Rows with a `groupKey` fold into their group's item (inbox-groups.ts), in the same transaction.
   */
  async putMany(rows: readonly InboxRow[]): Promise<void> {
    requireArray(rows, 'rows');
    if (rows.length === 0) return;
    const grouped = rows.some((row) => row?.groupKey !== undefined);
    storeStep('inbox write', () =>
      this.#db.transaction(() => {
        if (!grouped) {
          this.#insert(rows, undefined);
          return;
        }
        this.#insert(
          rows.filter((row) => row.groupKey === undefined),
          undefined,
        );
        const members = rows.filter((row) => row.groupKey !== undefined);
        members.forEach((row, i) => {
          const bad = invalidRowField(row);
          if (bad !== undefined)
            throw new ValidationError([{ path: `rows[${i}].${bad}`, message: 'is missing or invalid' }]);
        });
        this.#groups.put(members);
      }),
    );
  }

  async retractFromGroup(
    user: UserKey,
    groupKey: string,
    actorId: string,
    eventId: string,
  ): Promise<boolean> {
    requireUser(user);
    requireText(groupKey, 'groupKey');
    requireText(actorId, 'actorId');
    requireText(eventId, 'eventId');
    return storeStep('inbox retract', () =>
      this.#db.transaction(() => this.#groups.retract(user, groupKey, actorId, eventId).removed),
    );
  }

  async page(user: UserKey, opts: InboxPageOptions): Promise<InboxRow[]> {
    requireUser(user);
    requireLimit(opts?.limit);
    requireText(opts.afterId, 'afterId');
    if (opts.beforeId !== undefined) requireText(opts.beforeId, 'beforeId');
    const status = requireStatus(opts.status);
    const rows = storeStep('inbox page', () =>
      status !== 'all'
        ? this.#marks.page(status, user, opts)
        : opts.beforeId === undefined
          ? this.#s.page.all(user.tenantId, user.userId, opts.afterId, opts.limit)
          : this.#s.pageBefore.all(user.tenantId, user.userId, opts.afterId, opts.beforeId, opts.limit),
    ) as unknown as StoredRow[];
    const archived = status === 'archived';
    return rows.map((row) => toInboxRow(user, row, archived));
  }

  /**
   * The counter holds the unread rows in (floor, upto]; a count adds the unread rows above `upto`
   * and takes off (or adds) those between the floor and the caller's TTL bound, two short range
   * counts of the unread index. When either range has grown to `unreadFoldAt` rows the counter
   * is folded forward (floor = bound, upto = the newest row), one small write; otherwise a count
   * writes nothing. A user's first count counts every unread row once.
   */
  async unreadCount(user: UserKey, afterId: NotificationId): Promise<number> {
    requireUser(user);
    requireText(afterId, 'afterId');
    const read = this.#readCounter(user, afterId);
    if (read !== undefined) {
      const count = countFrom(read, afterId);
      if (read.above < this.#foldAt && read.mid < this.#foldAt) return count;
    }
    return storeStep('inbox unread count', () =>
      this.#db.transaction(() => {
        // Read again inside the write lock: another process may have written since.
        const again = this.#readCounter(user, afterId);
        const count =
          again === undefined
            ? (this.#s.countAll.get(user.tenantId, user.userId, afterId) as { n: number }).n
            : countFrom(again, afterId);
        const newest = (this.#s.newest.get(user.tenantId, user.userId) as { id: string | null }).id;
        // Every unread row above the bound is at or below the newest row: all of them are counted.
        const upto = newest !== null && newest > afterId ? newest : afterId;
        this.#s.storeCounter.run(user.tenantId, user.userId, count, afterId, upto);
        return count;
      }),
    );
  }

  /** Marks the rows named read; the counter trigger takes each one off the count. */
  async markRead(user: UserKey, marks: readonly ReadMark[]): Promise<void> {
    requireUser(user);
    requireArray(marks, 'marks');
    marks.forEach((mark, i) => {
      requireText(mark?.id, `marks[${i}].id`);
    });
    const { markRow } = this.#s;
    storeStep('inbox mark read', () =>
      this.#db.transaction(() => {
        for (const mark of marks) markRow.run(user.tenantId, user.userId, mark.id);
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

  async has(user: UserKey, id: NotificationId): Promise<boolean> {
    requireUser(user);
    requireText(id, 'id');
    return storeStep('inbox has', () => this.#s.has.get(user.tenantId, user.userId, id)) !== undefined;
  }

  async catchUpMark(user: UserKey): Promise<ArrivalMark | undefined> {
    requireUser(user);
    return this.#state(user)?.catch_up ?? undefined;
  }

  /** One transaction: the mark check, the rows (INSERT OR IGNORE; the trigger counts) and the mark. */
  async materialise(user: UserKey, rows: readonly InboxRow[], range: CatchUpRange): Promise<number> {
    requireUser(user);
    requireArray(rows, 'rows');
    requireText(range?.to, 'range.to');
    if (range.from !== undefined) requireText(range.from, 'range.from');
    rows.forEach((row, i) => {
      if (row?.tenantId !== user.tenantId || row.userId !== user.userId) {
        throw new ValidationError([{ path: `rows[${i}]`, message: 'is not a row of this user' }]);
      }
    });
    return storeStep('inbox materialise', () =>
      this.#db.transaction(() => {
        const state = this.#state(user);
        if ((state?.catch_up ?? undefined) !== range.from) {
          throw new CatchUpConflictError('the catch-up mark moved: another catch-up ran');
        }
        const written = this.#insert(rows, state?.watermark ?? undefined);
        this.#s.setCatchUp.run(user.tenantId, user.userId, range.to);
        return written;
      }),
    );
  }

  /** The tabs' marks and the seen watermark: inbox-marks.ts. */
  async markUnread(user: UserKey, ids: readonly NotificationId[]): Promise<void> {
    this.#marks.mark('unread', user, ids);
  }

  async archive(user: UserKey, ids: readonly NotificationId[]): Promise<void> {
    this.#marks.mark('archive', user, ids);
  }

  async unarchive(user: UserKey, ids: readonly NotificationId[]): Promise<void> {
    this.#marks.mark('unarchive', user, ids);
  }

  async markSeen(user: UserKey, upToId: NotificationId): Promise<void> {
    this.#marks.markSeen(user, upToId);
  }

  async seenMark(user: UserKey): Promise<NotificationId | undefined> {
    return this.#marks.seenMark(user);
  }

  async unseenCount(user: UserKey, afterId: NotificationId, cap: number): Promise<number> {
    return this.#marks.unseenCount(user, afterId, cap);
  }

  /**
   * Deletes rows older than the TTL at `now`, in bounded batches that let other work run in
   * between: the embedded counterpart of DynamoDB's TTL deletion. Reads never needed it to hide
   * expired rows; it only reclaims space. The delete trigger keeps the unread counters exact.
   */
  async purgeExpired(now: number, opts?: PurgeOptions): Promise<InboxPurgeResult> {
    const bound = liveLowerBound(now, this.#ttlMs);
    const rows = await purgeOlderThan(this.#db, 'inbox_rows', 'user_id', bound, opts);
    // A group whose item expired starts afresh: its actors go with it, a few groups a transaction.
    while (
      storeStep('inbox purge groups', () => this.#db.transaction(() => this.#groups.purge(bound, 100))) ===
      100
    ) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    storeStep('inbox purge retractions', () => this.#retractions.purge(now));
    return { rows };
  }

  async recordRetraction(tenantId: TenantId, ref: EventRef, expiresAt: number): Promise<void> {
    requireText(tenantId, 'tenantId');
    requireRef(ref, 'ref');
    requireInteger(expiresAt, 'expiresAt', 0, Number.MAX_SAFE_INTEGER);
    storeStep('inbox record retraction', () => this.#retractions.record(tenantId, ref, expiresAt));
  }

  async retractedAmong(tenantId: TenantId, refs: readonly EventRef[]): Promise<Set<string>> {
    requireText(tenantId, 'tenantId');
    requireArray(refs, 'refs');
    for (const [i, ref] of refs.entries()) requireRef(ref, `refs[${i}]`);
    return storeStep('inbox retracted among', () => this.#retractions.among(tenantId, refs));
  }

  async removeRows(user: UserKey, ids: readonly NotificationId[]): Promise<number> {
    requireUser(user);
    requireArray(ids, 'ids');
    for (const [i, id] of ids.entries()) requireText(id, `ids[${i}]`);
    if (ids.length === 0) return 0;
    return storeStep('inbox remove rows', () =>
      this.#db.transaction(() => this.#retractions.remove(user, ids)),
    );
  }

  /**
   * Inserts rows that are not there yet, inside the caller's transaction; rows at or below
   * `watermark` (materialised pointers only) are written read. Returns how many were new.
   */
  #insert(rows: readonly InboxRow[], watermark: NotificationId | undefined): number {
    const insert = this.#s.insert;
    let written = 0;
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
      const read = row.read || (watermark !== undefined && row.id <= watermark);
      written += Number(
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
          read ? 1 : 0,
          row.source ?? null,
        ).changes,
      );
    }
    return written;
  }

  #readCounter(user: UserKey, lo: NotificationId): CounterRead | undefined {
    return storeStep('inbox unread count', () =>
      this.#s.counter.get({ t: user.tenantId, u: user.userId, lo }),
    ) as CounterRead | undefined;
  }

  #state(user: UserKey): { catch_up: string | null; watermark: string | null } | undefined {
    return storeStep('inbox state', () => this.#s.state.get(user.tenantId, user.userId)) as
      | { catch_up: string | null; watermark: string | null }
      | undefined;
  }

  /** inbox-group-read.ts. */
  async group(user: UserKey, groupKey: string): Promise<InboxGroup | undefined> {
    requireUser(user);
    requireText(groupKey, 'groupKey');
    return this.#groupRead.read(user, groupKey);
  }
}

/** Unread rows above `lo`, from the counter over (fl, upto] and the two ranges read beside it. */
function countFrom(c: CounterRead, lo: NotificationId): number {
  if (lo >= c.upto) return c.above;
  return lo >= c.fl ? c.n - c.mid + c.above : c.n + c.mid + c.above;
}

function toInboxRow(user: UserKey, row: StoredRow, archived: boolean): InboxRow {
  const [
    id,
    eventId,
    type,
    category,
    actorId,
    objectId,
    data,
    createdAt,
    read,
    source,
    groupKey,
    count,
    actors,
  ] = row;
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
  if (archived) inboxRow.archived = true;
  if (objectId !== null) inboxRow.objectId = objectId;
  const payload = parsePayload(data);
  if (payload !== undefined) inboxRow.data = payload;
  if (source === 'celebrity') inboxRow.source = source;
  if (groupKey !== null) {
    inboxRow.groupKey = groupKey;
    inboxRow.group = { actors: actors === null ? [actorId] : shownActors(actors), actorCount: count ?? 1 };
  }
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
  if (row.source !== undefined && row.source !== 'celebrity') return 'source';
  if (row.groupKey !== undefined && (typeof row.groupKey !== 'string' || row.groupKey.length === 0))
    return 'groupKey';
  return undefined;
}

import type { StatementSync } from 'node:sqlite';
import { ConflictError, ValidationError } from '../../domain/errors.ts';
import type { Preferences, UserKey } from '../../domain/types.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import type { PreferenceChange, PreferenceStore, PutPreferencesOptions } from '../../ports/preferences.ts';
import { requireArray, requireLimit, requireUser } from '../checks/input.ts';
import { validatePreferences } from '../checks/preferences.ts';
import type { EmbeddedDb } from './db.ts';
import { storeStep } from './store-step.ts';

export interface EmbeddedPreferenceStoreOptions {
  readonly db: EmbeddedDb;
  /** Stamps each change's `at`. @default systemClock */
  readonly clock?: Clock;
}

/** Fixed width, so string order of sequences is numeric order (see `compareSequence`). */
const SEQUENCE_WIDTH = 20;
const SEQUENCE_PATTERN = /^\d{1,20}$/;

type EventName = PreferenceChange['eventName'];

interface StoredChange {
  readonly seq: number;
  readonly tenant_id: string;
  readonly user_id: string;
  readonly event_name: EventName;
  readonly old_image: string | null;
  readonly new_image: string | null;
  readonly at: number;
}

/**
 * Preferences on SQLite, one JSON document per (tenant, user), with a change feed shaped like
 * DynamoDB Streams (NEW_AND_OLD_IMAGES): every write appends INSERT / MODIFY / REMOVE with both
 * images in the same transaction as the write, so the feed never misses or invents a change.
 * The feed's AUTOINCREMENT key never reuses a position, even after old changes are purged.
 */
export class EmbeddedPreferenceStore implements PreferenceStore {
  readonly #db: EmbeddedDb;
  readonly #clock: Clock;
  readonly #s: Record<'get' | 'upsert' | 'delete' | 'record' | 'changes' | 'purge', StatementSync>;

  constructor(opts: EmbeddedPreferenceStoreOptions) {
    this.#db = opts.db;
    this.#clock = opts.clock ?? systemClock;
    const sqlite = opts.db.sqlite;
    this.#s = storeStep('preferences set-up', () => {
      sqlite.exec(`
        CREATE TABLE IF NOT EXISTS preferences (
          tenant_id TEXT NOT NULL,
          user_id TEXT NOT NULL,
          doc TEXT NOT NULL,
          PRIMARY KEY (tenant_id, user_id)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS preference_changes (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          tenant_id TEXT NOT NULL,
          user_id TEXT NOT NULL,
          event_name TEXT NOT NULL,
          old_image TEXT,
          new_image TEXT,
          at INTEGER NOT NULL
        );
      `);
      return {
        get: sqlite.prepare('SELECT doc FROM preferences WHERE tenant_id = ? AND user_id = ?'),
        upsert: sqlite.prepare(
          `INSERT INTO preferences (tenant_id, user_id, doc) VALUES (?, ?, ?)
           ON CONFLICT (tenant_id, user_id) DO UPDATE SET doc = excluded.doc`,
        ),
        delete: sqlite.prepare('DELETE FROM preferences WHERE tenant_id = ? AND user_id = ?'),
        record: sqlite.prepare(
          `INSERT INTO preference_changes (tenant_id, user_id, event_name, old_image, new_image, at)
           VALUES (?, ?, ?, ?, ?, ?)`,
        ),
        changes: sqlite.prepare(
          `SELECT seq, tenant_id, user_id, event_name, old_image, new_image, at FROM preference_changes
           WHERE seq > ? ORDER BY seq LIMIT ?`,
        ),
        purge: sqlite.prepare('DELETE FROM preference_changes WHERE at < ?'),
      };
    });
  }

  async get(user: UserKey): Promise<Preferences | undefined> {
    requireUser(user);
    const row = storeStep('preferences read', () => this.#s.get.get(user.tenantId, user.userId)) as
      | { doc: string }
      | undefined;
    return row === undefined ? undefined : (JSON.parse(row.doc) as Preferences);
  }

  async put(prefs: Preferences, opts?: PutPreferencesOptions): Promise<void> {
    validatePreferences(prefs, 'prefs');
    const at = this.#clock.now();
    const expected = opts?.ifUpdatedAt;
    let conflict = false;
    storeStep('preferences write', () =>
      this.#db.transaction(() => {
        if (expected !== undefined || opts?.ifAbsent === true) {
          const old = this.#s.get.get(prefs.tenantId, prefs.userId) as { doc: string } | undefined;
          const holds =
            expected === undefined
              ? old === undefined
              : old !== undefined && (JSON.parse(old.doc) as Preferences).updatedAt === expected;
          if (!holds) {
            conflict = true;
            return;
          }
        }
        this.#putOne(prefs, at);
      }),
    );
    if (conflict) throw new ConflictError('preferences changed since they were read');
  }

  async putMany(prefs: readonly Preferences[]): Promise<void> {
    requireArray(prefs, 'prefs');
    prefs.forEach((p, i) => {
      validatePreferences(p, `prefs[${i}]`);
    });
    if (prefs.length === 0) return;
    const at = this.#clock.now();
    storeStep('preferences write', () =>
      this.#db.transaction(() => {
        for (const p of prefs) this.#putOne(p, at);
      }),
    );
  }

  /** Deleting a user who has no record changes nothing and emits nothing, as on DynamoDB. */
  async delete(user: UserKey): Promise<void> {
    requireUser(user);
    const at = this.#clock.now();
    storeStep('preferences delete', () =>
      this.#db.transaction(() => {
        const old = this.#s.get.get(user.tenantId, user.userId) as { doc: string } | undefined;
        if (old === undefined) return;
        this.#s.delete.run(user.tenantId, user.userId);
        this.#s.record.run(user.tenantId, user.userId, 'REMOVE', old.doc, null, at);
      }),
    );
  }

  async changes(after: string | undefined, limit: number): Promise<PreferenceChange[]> {
    if (after !== undefined && (typeof after !== 'string' || !SEQUENCE_PATTERN.test(after))) {
      throw new ValidationError([{ path: 'after', message: 'must be a sequence this feed returned' }]);
    }
    requireLimit(limit);
    const from = after === undefined ? 0 : Number(after);
    const rows = storeStep('preference changes read', () =>
      this.#s.changes.all(from, limit),
    ) as unknown as StoredChange[];
    return rows.map(toChange);
  }

  /**
   * Deletes changes older than `before` (epoch ms), as DynamoDB Streams drops records after 24
   * hours; a consumer further behind than that has to rebuild its cache anyway. Returns how many.
   */
  async purgeChanges(before: number): Promise<number> {
    if (typeof before !== 'number' || !Number.isFinite(before)) {
      throw new ValidationError([{ path: 'before', message: 'must be a finite number' }]);
    }
    return Number(storeStep('preference changes purge', () => this.#s.purge.run(before)).changes);
  }

  #putOne(prefs: Preferences, at: number): void {
    const doc = JSON.stringify(prefs);
    const old = this.#s.get.get(prefs.tenantId, prefs.userId) as { doc: string } | undefined;
    this.#s.upsert.run(prefs.tenantId, prefs.userId, doc);
    const eventName: EventName = old === undefined ? 'INSERT' : 'MODIFY';
    this.#s.record.run(prefs.tenantId, prefs.userId, eventName, old?.doc ?? null, doc, at);
  }
}

function toChange(row: StoredChange): PreferenceChange {
  return {
    sequence: String(row.seq).padStart(SEQUENCE_WIDTH, '0'),
    eventName: row.event_name,
    user: { tenantId: row.tenant_id, userId: row.user_id },
    ...(row.old_image === null ? {} : { oldImage: JSON.parse(row.old_image) as Preferences }),
    ...(row.new_image === null ? {} : { newImage: JSON.parse(row.new_image) as Preferences }),
    at: row.at,
  };
}

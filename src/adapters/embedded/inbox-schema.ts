import type { DatabaseSync } from 'node:sqlite';
import { createMarksSchema } from './inbox-marks.ts';

/**
 * Unread rows a count may find outside its counter's range (above `upto`, or between the floor
 * and the caller's TTL bound) before it folds them into the counter, by default: bounds what a
 * count reads without writing on every count.
 */
export const UNREAD_FOLD_AT = 64;

/**
 * The embedded inbox's tables, created on open, with what an older data file needs to match.
 *
 * `inbox_state`, one row per user: the catch-up mark in the tenant's arrival log, the
 * mark-all-read watermark, and the unread counter `unread` = the number of unread rows with id in
 * (`floor`, `upto`]. Three triggers keep that invariant on every write to `inbox_rows`, inside the
 * writing statement's own transaction: an unread row inserted in the range adds one, a row
 * flipped between read and unread adds or takes one, an unread row deleted (the TTL purge) takes
 * one. SQLite runs one writer at a time, so nothing races them and no settle window is needed
 * (the DynamoDB counter mode needs one: its writers are not serialised). Fan-out writes fresh
 * rows, newer than every `upto`, so on the hot path a trigger only looks its user up and writes
 * nothing; late rows and caught-up pointers (older ids) are what it counts.
 */
export function createInboxSchema(sqlite: DatabaseSync): void {
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
      source TEXT,
      PRIMARY KEY (tenant_id, user_id, id)
    ) WITHOUT ROWID;
  `);
  // A data file from before caught-up pointers became rows: they carry `source`.
  const columns = sqlite.prepare('PRAGMA table_info(inbox_rows)').all() as { name: string }[];
  if (!columns.some((c) => c.name === 'source')) sqlite.exec('ALTER TABLE inbox_rows ADD COLUMN source TEXT');
  // A data file from before aggregated items: a group's row carries its key, count and actors.
  if (!columns.some((c) => c.name === 'group_key')) {
    sqlite.exec(`
      ALTER TABLE inbox_rows ADD COLUMN group_key TEXT;
      ALTER TABLE inbox_rows ADD COLUMN actor_count INTEGER;
      ALTER TABLE inbox_rows ADD COLUMN actors TEXT;
    `);
  }
  createGroupTables(sqlite);
  sqlite.exec(`
    CREATE INDEX IF NOT EXISTS inbox_unread ON inbox_rows (tenant_id, user_id, id) WHERE read = 0;
    CREATE TABLE IF NOT EXISTS inbox_state (
      tenant_id TEXT NOT NULL,
      user_id TEXT NOT NULL,
      catch_up TEXT,
      watermark TEXT,
      unread INTEGER NOT NULL DEFAULT 0,
      floor TEXT,
      upto TEXT,
      PRIMARY KEY (tenant_id, user_id)
    ) WITHOUT ROWID;
    CREATE TRIGGER IF NOT EXISTS inbox_count_insert AFTER INSERT ON inbox_rows WHEN NEW.read = 0
    BEGIN
      UPDATE inbox_state SET unread = unread + 1
      WHERE tenant_id = NEW.tenant_id AND user_id = NEW.user_id AND NEW.id > floor AND NEW.id <= upto;
    END;
    CREATE TRIGGER IF NOT EXISTS inbox_count_flip AFTER UPDATE OF read ON inbox_rows
      WHEN (OLD.read = 0) <> (NEW.read = 0)
    BEGIN
      UPDATE inbox_state SET unread = unread + (CASE WHEN NEW.read = 0 THEN 1 ELSE -1 END)
      WHERE tenant_id = NEW.tenant_id AND user_id = NEW.user_id AND NEW.id > floor AND NEW.id <= upto;
    END;
    CREATE TRIGGER IF NOT EXISTS inbox_count_delete AFTER DELETE ON inbox_rows WHEN OLD.read = 0
    BEGIN
      UPDATE inbox_state SET unread = unread - 1
      WHERE tenant_id = OLD.tenant_id AND user_id = OLD.user_id AND OLD.id > floor AND OLD.id <= upto;
    END;
  `);
  migrateReadState(sqlite);
  createMarksSchema(sqlite);
}

/**
 * Aggregated items (src/domain/grouping.ts). `inbox_groups`, one row per (user, group): the id of
 * the group's inbox row (its newest activity), the exact number of distinct actors and the newest
 * actors shown (JSON `[[actor, at], …]`). `inbox_group_actors`, one row per distinct actor of a
 * group: its primary key is what makes a re-delivered event or an actor's second like count
 * nothing (INSERT OR IGNORE), and the count moves in the same transaction as that insert. The
 * `at` index finds the newest actors again when one is retracted.
 */
function createGroupTables(sqlite: DatabaseSync): void {
  sqlite.exec(`
    CREATE TABLE IF NOT EXISTS inbox_groups (
      tenant_id TEXT NOT NULL,
      user_id TEXT NOT NULL,
      group_key TEXT NOT NULL,
      row_id TEXT NOT NULL,
      actor_count INTEGER NOT NULL,
      actors TEXT NOT NULL,
      PRIMARY KEY (tenant_id, user_id, group_key)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS inbox_group_actors (
      tenant_id TEXT NOT NULL,
      user_id TEXT NOT NULL,
      group_key TEXT NOT NULL,
      actor_id TEXT NOT NULL,
      event_id TEXT NOT NULL,
      at INTEGER NOT NULL,
      PRIMARY KEY (tenant_id, user_id, group_key, actor_id)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS inbox_group_actors_at ON inbox_group_actors (tenant_id, user_id, group_key, at);
  `);
}

/**
 * Before catch-up, pointers were merged at read time and their read state kept apart: a
 * watermark table (now a column of `inbox_state`) and per-pointer read marks. The watermark moves
 * over; the read marks are dropped (a pointer marked read one by one shows unread once caught up,
 * unless the watermark covers it), since a pointer only becomes a row when its reader catches up.
 */
function migrateReadState(sqlite: DatabaseSync): void {
  const old = sqlite
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'inbox_read_watermarks'")
    .get();
  if (old !== undefined) {
    sqlite.exec(`
      INSERT INTO inbox_state (tenant_id, user_id, watermark)
        SELECT tenant_id, user_id, up_to_id FROM inbox_read_watermarks WHERE true
        ON CONFLICT (tenant_id, user_id) DO UPDATE SET watermark = excluded.watermark;
      DROP TABLE inbox_read_watermarks;
    `);
  }
  sqlite.exec('DROP TABLE IF EXISTS inbox_read_marks');
}

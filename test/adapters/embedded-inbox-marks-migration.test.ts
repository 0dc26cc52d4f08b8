import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedInbox } from '../../src/adapters/embedded/inbox.ts';
import { minUlidAt, notificationId } from '../../src/domain/ids.ts';
import type { UserKey } from '../../src/domain/types.ts';

const NOW = Date.UTC(2026, 4, 1, 12);
const NONE_EXPIRED = minUlidAt(0);
const ALICE: UserKey = { tenantId: 'acme', userId: 'alice' };

/**
 * The inbox tables as the version before archive and seen created them: no `archived` column, no
 * seen watermark, an unread counter over a counted range and its triggers.
 */
const BEFORE_MARKS = `
  CREATE TABLE inbox_rows (
    tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, id TEXT NOT NULL, event_id TEXT NOT NULL,
    type TEXT NOT NULL, category TEXT NOT NULL, actor_id TEXT NOT NULL, object_id TEXT, data TEXT,
    created_at INTEGER NOT NULL, read INTEGER NOT NULL, source TEXT,
    group_key TEXT, actor_count INTEGER, actors TEXT,
    PRIMARY KEY (tenant_id, user_id, id)
  ) WITHOUT ROWID;
  CREATE INDEX inbox_unread ON inbox_rows (tenant_id, user_id, id) WHERE read = 0;
  CREATE TABLE inbox_state (
    tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, catch_up TEXT, watermark TEXT,
    unread INTEGER NOT NULL DEFAULT 0, floor TEXT, upto TEXT, PRIMARY KEY (tenant_id, user_id)
  ) WITHOUT ROWID;
  CREATE TRIGGER inbox_count_flip AFTER UPDATE OF read ON inbox_rows
    WHEN (OLD.read = 0) <> (NEW.read = 0)
  BEGIN
    UPDATE inbox_state SET unread = unread + (CASE WHEN NEW.read = 0 THEN 1 ELSE -1 END)
    WHERE tenant_id = NEW.tenant_id AND user_id = NEW.user_id AND NEW.id > floor AND NEW.id <= upto;
  END;
`;

const dirs: string[] = [];
const dbs: EmbeddedDb[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('an embedded data file from before archive and seen', () => {
  it('opens in place: its rows are in All, unseen, and archive, unread and seen work with exact counts', async () => {
    // Prepare: a data file of the older version, three rows (one read) counted by the counter
    const dir = mkdtempSync(join(tmpdir(), 'fanout-marks-'));
    dirs.push(dir);
    const path = join(dir, 'fanout.db');
    const ids = [0, 1, 2].map((i) => notificationId(`e${i}`, 'alice', NOW - 3000 + i * 1000));
    const old = new EmbeddedDb({ path });
    old.sqlite.exec(BEFORE_MARKS);
    old.sqlite.exec(`
      INSERT INTO inbox_rows VALUES
        ('acme', 'alice', '${ids[0]}', 'e0', 'comment', 'social', 'bob', NULL, NULL, ${NOW - 3000}, 1, NULL, NULL, NULL, NULL),
        ('acme', 'alice', '${ids[1]}', 'e1', 'comment', 'social', 'bob', NULL, NULL, ${NOW - 2000}, 0, NULL, NULL, NULL, NULL),
        ('acme', 'alice', '${ids[2]}', 'e2', 'comment', 'social', 'bob', NULL, NULL, ${NOW - 1000}, 0, NULL, NULL, NULL, NULL);
      INSERT INTO inbox_state (tenant_id, user_id, unread, floor, upto)
        VALUES ('acme', 'alice', 2, '${NONE_EXPIRED}', '${ids[2]}');
    `);
    old.close();
    // Act: this version opens the file
    const db = new EmbeddedDb({ path });
    dbs.push(db);
    const inbox = new EmbeddedInbox({ db });
    const before = await inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED });
    const unseenBefore = await inbox.unseenCount(ALICE, NONE_EXPIRED, 100);
    await inbox.archive(ALICE, [ids[1]!]);
    await inbox.markUnread(ALICE, [ids[0]!]);
    await inbox.markSeen(ALICE, ids[2]!);
    // Assess
    expect(before.map((r) => [r.eventId, r.read, r.archived === true])).toEqual([
      ['e2', false, false],
      ['e1', false, false],
      ['e0', true, false],
    ]);
    expect(unseenBefore).toBe(3);
    expect(await inbox.unreadCount(ALICE, NONE_EXPIRED)).toBe(2);
    expect(
      (await inbox.page(ALICE, { limit: 10, afterId: NONE_EXPIRED, status: 'archived' })).map(
        (r) => r.eventId,
      ),
    ).toEqual(['e1']);
    expect(await inbox.seenMark(ALICE)).toBe(ids[2]);
    expect(await inbox.unseenCount(ALICE, NONE_EXPIRED, 100)).toBe(0);
    // Opening it again adds nothing twice.
    expect(() => new EmbeddedInbox({ db })).not.toThrow();
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedCelebrityFeed } from '../../src/adapters/embedded/celebrity-feed.ts';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedFollowerGraph } from '../../src/adapters/embedded/follower-graph.ts';
import { EmbeddedInbox } from '../../src/adapters/embedded/inbox.ts';
import { createCursorCodec } from '../../src/domain/cursor.ts';
import { notificationId, POINTER_RECIPIENT } from '../../src/domain/ids.ts';
import type { UserKey } from '../../src/domain/types.ts';
import { type InboxDeps, readInbox, unreadCount } from '../../src/handlers/inbox.ts';

const NOW = Date.UTC(2026, 4, 1, 12);
const ALICE: UserKey = { tenantId: 'acme', userId: 'alice' };

/**
 * The tables a data file held before the catch-up (as the adapters of that version created them),
 * with what matters here: a follow of a celebrity, two of its pointers, a row, and a read
 * watermark between the two pointers.
 */
const BEFORE_CATCH_UP = `
  CREATE TABLE inbox_rows (
    tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, id TEXT NOT NULL, event_id TEXT NOT NULL,
    type TEXT NOT NULL, category TEXT NOT NULL, actor_id TEXT NOT NULL, object_id TEXT, data TEXT,
    created_at INTEGER NOT NULL, read INTEGER NOT NULL, PRIMARY KEY (tenant_id, user_id, id)
  ) WITHOUT ROWID;
  CREATE INDEX inbox_unread ON inbox_rows (tenant_id, user_id, id) WHERE read = 0;
  CREATE TABLE inbox_read_marks (
    tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, id TEXT NOT NULL, author_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_id, id)
  ) WITHOUT ROWID;
  CREATE TABLE inbox_read_watermarks (
    tenant_id TEXT NOT NULL, user_id TEXT NOT NULL, up_to_id TEXT NOT NULL, PRIMARY KEY (tenant_id, user_id)
  ) WITHOUT ROWID;
  CREATE TABLE celebrity_pointers (
    tenant_id TEXT NOT NULL, author_id TEXT NOT NULL, id TEXT NOT NULL, event_id TEXT NOT NULL,
    type TEXT NOT NULL, category TEXT NOT NULL, object_id TEXT, data TEXT, created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, author_id, id)
  ) WITHOUT ROWID;
  CREATE TABLE follows (
    tenant_id TEXT NOT NULL, author_id TEXT NOT NULL, follower_id TEXT NOT NULL, alerts INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, author_id, follower_id)
  ) WITHOUT ROWID;
  CREATE TABLE authors (
    tenant_id TEXT NOT NULL, author_id TEXT NOT NULL, follower_count INTEGER NOT NULL DEFAULT 0,
    tier TEXT, tier_changed_at INTEGER, ever_celebrity INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, author_id)
  ) WITHOUT ROWID;
`;

const dbs: EmbeddedDb[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
});

describe('an embedded data file from before the catch-up', () => {
  it('keeps its rows, pointers, follows and read watermark, and counts exactly once opened', async () => {
    // Prepare
    const db = new EmbeddedDb({ path: ':memory:' });
    dbs.push(db);
    const older = notificationId('older', POINTER_RECIPIENT, NOW - 3000);
    const newer = notificationId('newer', POINTER_RECIPIENT, NOW - 1000);
    const row = notificationId('row', 'alice', NOW - 2000);
    db.sqlite.exec(BEFORE_CATCH_UP);
    db.sqlite.exec(`
      INSERT INTO follows VALUES ('acme', 'star', 'alice', 0);
      INSERT INTO authors VALUES ('acme', 'star', 1, 'celebrity', ${NOW - 9000}, 1);
      INSERT INTO celebrity_pointers VALUES
        ('acme', 'star', '${older}', 'older', 'post', 'content', NULL, NULL, ${NOW - 3000}),
        ('acme', 'star', '${newer}', 'newer', 'post', 'content', NULL, NULL, ${NOW - 1000});
      INSERT INTO inbox_rows VALUES
        ('acme', 'alice', '${row}', 'row', 'comment', 'social', 'bob', NULL, NULL, ${NOW - 2000}, 0);
      INSERT INTO inbox_read_watermarks VALUES ('acme', 'alice', '${older}');
    `);
    // Act: this version's adapters open the file
    const deps: InboxDeps = {
      inbox: new EmbeddedInbox({ db }),
      feed: new EmbeddedCelebrityFeed({ db }),
      graph: new EmbeddedFollowerGraph({ db }),
      cursors: createCursorCodec('migration-test-secret-0123'),
      clock: { now: () => NOW },
    };
    const { items } = await readInbox(ALICE, {}, deps);
    // Assess: the pointers arrive through the log, the older one read by the old watermark
    expect(items.map((i) => [i.eventId, i.source, i.read])).toEqual([
      ['newer', 'celebrity', false],
      ['row', 'row', false],
      ['older', 'celebrity', true],
    ]);
    expect(await unreadCount(ALICE, deps)).toBe(2);
    expect(await deps.graph.hasFollowed(ALICE)).toBe(true);
    const tables = db.sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
      name: string;
    }[];
    expect(tables.map((t) => t.name)).not.toContain('inbox_read_watermarks');
  });
});

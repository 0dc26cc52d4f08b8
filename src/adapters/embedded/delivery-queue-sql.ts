import type { EmbeddedDb } from './db.ts';

/*
 * The embedded delivery queue's tables and statements (see `delivery-queue.ts` for the semantics
 * they implement). Kept apart so the queue's logic reads without its SQL.
 */

/** Characters of a receipt: 9 random bytes in base64url. */
export const RECEIPT_LENGTH = 12;
/** The receipt of a row never received: as wide as a real one, and never one. */
const UNRECEIVED = '~'.repeat(RECEIPT_LENGTH);

/** Creates the queue and dead-letter tables if missing, and prepares every statement once. */
export function prepare(db: EmbeddedDb) {
  const sqlite = db.sqlite;
  sqlite.exec(`
    CREATE TABLE IF NOT EXISTS delivery_queue (
      seq INTEGER PRIMARY KEY,
      channel TEXT NOT NULL,
      message_id TEXT NOT NULL,
      body TEXT NOT NULL,
      attributes TEXT NOT NULL,
      sent_at INTEGER NOT NULL,
      visible_at INTEGER NOT NULL,
      receive_count INTEGER NOT NULL DEFAULT 0,
      first_received_at INTEGER,
      receipt TEXT,
      exhausted INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX IF NOT EXISTS delivery_queue_visible ON delivery_queue (channel, visible_at);
    CREATE INDEX IF NOT EXISTS delivery_queue_exhausted ON delivery_queue (channel, visible_at)
      WHERE exhausted = 1;
    CREATE TABLE IF NOT EXISTS delivery_dead_letters (
      seq INTEGER PRIMARY KEY,
      channel TEXT NOT NULL,
      message_id TEXT NOT NULL,
      body TEXT NOT NULL,
      attributes TEXT NOT NULL,
      sent_at INTEGER NOT NULL,
      receive_count INTEGER NOT NULL,
      dead_lettered_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS delivery_dead_letters_channel ON delivery_dead_letters (channel);
  `);
  const receive = sqlite.prepare(
    // SET expressions read the row as it was, so `receive_count + 1` is the new count.
    `UPDATE delivery_queue
     SET visible_at = ?2, receive_count = receive_count + 1,
         first_received_at = CASE WHEN first_received_at > 0 THEN first_received_at ELSE ?1 END,
         receipt = ?3, exhausted = receive_count + 1 >= ?4
     WHERE seq IN (
       SELECT seq FROM delivery_queue WHERE channel = ?5 AND visible_at <= ?1
       ORDER BY visible_at, seq LIMIT ?6)
     RETURNING seq, message_id, body, attributes, receive_count, first_received_at, sent_at`,
  );
  receive.setReturnArrays(true);
  return {
    receive,
    // An unreceived row carries placeholders as wide as what its first receive writes (a receipt,
    // -sent_at for "not received yet"): rows are appended to full pages, and a row that grew on
    // receive split its page, every page of every batch.
    insert: sqlite.prepare(
      `INSERT INTO delivery_queue
         (channel, message_id, body, attributes, sent_at, visible_at, first_received_at, receipt)
       VALUES (?1, ?2, ?3, ?4, ?5, ?6, -?5, '${UNRECEIVED}')`,
    ),
    sweepCopy: sqlite.prepare(
      `INSERT INTO delivery_dead_letters
         (channel, message_id, body, attributes, sent_at, receive_count, dead_lettered_at)
       SELECT channel, message_id, body, attributes, sent_at, receive_count, visible_at
       FROM delivery_queue WHERE channel = ? AND exhausted = 1 AND visible_at <= ?
       ORDER BY visible_at, seq`,
    ),
    sweepDelete: sqlite.prepare(
      'DELETE FROM delivery_queue WHERE channel = ? AND exhausted = 1 AND visible_at <= ?',
    ),
    // A row that is exhausted and visible counts as dead-lettered already: neither touches it.
    // ?1 is a JSON array of the seqs of one receipt (?2). `+channel`: the planner otherwise
    // walked the channel's whole visibility index instead of looking the keys up.
    delete: sqlite.prepare(
      `DELETE FROM delivery_queue WHERE seq IN (SELECT value FROM json_each(?1))
       AND receipt = ?2 AND +channel = ?3 AND (exhausted = 0 OR visible_at > ?4)`,
    ),
    changeVisibility: sqlite.prepare(
      `UPDATE delivery_queue SET visible_at = ?1
       WHERE seq = ?2 AND receipt = ?3 AND channel = ?4 AND (exhausted = 0 OR visible_at > ?5)`,
    ),
    countVisible: sqlite.prepare(
      'SELECT count(*) AS n FROM delivery_queue WHERE channel = ? AND visible_at <= ?',
    ),
    countHidden: sqlite.prepare(
      `SELECT sum(receive_count > 0) AS received, sum(receive_count = 0) AS delayed
       FROM delivery_queue WHERE channel = ? AND visible_at > ?`,
    ),
    countDead: sqlite.prepare('SELECT count(*) AS n FROM delivery_dead_letters WHERE channel = ?'),
    // ?2 is the seq of the last letter of the previous page (0 from the oldest): a range on the
    // channel index, which ends in the rowid.
    listDead: sqlite.prepare(
      `SELECT seq, message_id, body, attributes, receive_count, dead_lettered_at
       FROM delivery_dead_letters WHERE channel = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3`,
    ),
    redriveCopy: sqlite.prepare(
      `INSERT INTO delivery_queue
         (channel, message_id, body, attributes, sent_at, visible_at, first_received_at, receipt)
       SELECT channel, message_id, body, attributes, sent_at, ?1, -sent_at, '${UNRECEIVED}'
       FROM delivery_dead_letters WHERE channel = ?2 ORDER BY seq`,
    ),
    redriveDelete: sqlite.prepare('DELETE FROM delivery_dead_letters WHERE channel = ?'),
  };
}

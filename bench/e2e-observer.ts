import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { notificationId } from '../src/domain/ids.ts';
import { yieldToLoop } from './support.ts';

/**
 * What the `e2e` benchmark learns from `fanout serve`'s data file, read-only, while the server
 * runs: when each post's pushes were recorded (the recording sink's own timestamps) and when its
 * inbox rows were there (polled: an inbox row carries the event's time, not its write time).
 */

/** One measured post, as the observer follows it. */
export interface ObservedPost {
  /** The event id the post was sent under. */
  readonly eventId: string;
  /** The `occurredAt` it was sent with (epoch ms): the time part of its notification ids. */
  readonly occurredAt: number;
  /** Epoch ms when its 202 arrived. */
  readonly acceptedAt: number;
}

/** Where one post's deliveries stand. */
export interface PostProgress {
  /** Distinct pushes of the post the sink recorded. */
  readonly pushes: number;
  /** Sink calls for them (more than `pushes` only with re-sends). */
  readonly pushSends: number;
  /** The sink's own time (epoch ms) of the latest first recording among them. */
  readonly lastPushAt: number | undefined;
  /** Followers whose inbox row was found. */
  readonly inboxRows: number;
  /** Epoch ms of the poll that found the last missing inbox row (an upper bound of its write). */
  readonly lastInboxAt: number | undefined;
  /** Epoch ms of the last poll that still missed some row (a lower bound of the last write). */
  readonly lastInboxMissAt: number | undefined;
}

export interface DataDirObserverOptions {
  /** `<data dir>/fanout.db`. */
  readonly dbPath: string;
  readonly tenantId: string;
  /**
   * The author's followers: every post goes to each of them, with one push each. Their ids span a
   * range (in sort order) no other user's id falls in: pushes are told apart by it.
   */
  readonly followers: readonly string[];
  /** Inbox look-ups between two yields to the event loop, so the load generator keeps its pace. @default 500 */
  readonly chunk?: number;
}

/** Inbox rows looked up first in each pass (see `pollOnce`). */
const PROBE = 64;
/** Pause between two counts of a post's recorded pushes, ms. */
const PUSH_POLL_MS = 100;

interface Tracked {
  readonly post: ObservedPost;
  /** Followers whose row was not seen yet, with the row's id. */
  missing: Array<[string, string]>;
  inboxRows: number;
  lastInboxAt: number | undefined;
  lastInboxMissAt: number | undefined;
  pushes: number;
  pushSends: number;
  lastPushAt: number | undefined;
  pushesPolledAt: number;
}

/**
 * Polls a read-only connection to the server's SQLite file (WAL: the reads never block its
 * writes) until every tracked post has a push recorded and an inbox row written for each follower.
 *
 * Pushes: `recorded_sends` keeps, per message id, the sink's clock at its first recording
 * (`first_at`, written by the server). A push's message id starts with its notification's time
 * (`deliveryIds`), which is the post's `occurredAt`, so one post's pushes are one key range;
 * the range is narrowed to the followers' user ids, as an event of another author may share the
 * millisecond. Inbox rows: the row of (post, follower) has a known id (`notificationId`), looked
 * up by primary key; a row found at one poll and missing at the one before was written in between.
 */
export class DataDirObserver {
  readonly #opts: DataDirObserverOptions;
  readonly #userRange: readonly [string, string];
  readonly #tracked: Tracked[] = [];
  #db: DatabaseSync | undefined;
  #inboxRow: StatementSync | undefined;
  #pushRange: StatementSync | undefined;
  #maxPollMs = 0;
  #polls = 0;

  constructor(opts: DataDirObserverOptions) {
    this.#opts = opts;
    const sorted = [...opts.followers].sort();
    this.#userRange = [sorted[0] ?? '', sorted.at(-1) ?? ''];
  }

  /** Starts following a post. */
  track(post: ObservedPost): void {
    this.#tracked.push({
      post,
      missing: this.#opts.followers.map((f) => [f, notificationId(post.eventId, f, post.occurredAt)]),
      inboxRows: 0,
      lastInboxAt: undefined,
      lastInboxMissAt: undefined,
      pushes: 0,
      pushSends: 0,
      lastPushAt: undefined,
      pushesPolledAt: 0,
    });
  }

  /** Where each tracked post stands, in the order they were tracked. */
  progress(): PostProgress[] {
    return this.#tracked.map((t) => ({
      pushes: t.pushes,
      pushSends: t.pushSends,
      lastPushAt: t.lastPushAt,
      inboxRows: t.inboxRows,
      lastInboxAt: t.lastInboxAt,
      lastInboxMissAt: t.lastInboxMissAt,
    }));
  }

  /** The longest poll pass (ms), its yields to the load generator included. */
  get maxPollMs(): number {
    return this.#maxPollMs;
  }

  /** Poll passes so far. */
  get polls(): number {
    return this.#polls;
  }

  /** True when every tracked post has all its pushes recorded and all its inbox rows written. */
  complete(): boolean {
    return this.#tracked.every((t) => this.#complete(t));
  }

  /** One pass over every incomplete post: its pushes, then its missing inbox rows. */
  async pollOnce(): Promise<void> {
    if (!this.#open()) return;
    const started = Date.now();
    const chunk = this.#opts.chunk ?? 500;
    // The pushes' times are the sink's own: counting them more often, or for posts behind one still
    // incomplete (posts are delivered in order), would only take CPU from the server.
    for (const t of this.#tracked) {
      if (t.pushes >= this.#opts.followers.length) continue;
      if (started - t.pushesPolledAt < PUSH_POLL_MS) break;
      t.pushesPolledAt = started;
      this.#pollPushes(t);
      if (t.pushes < this.#opts.followers.length) break;
    }
    for (const t of this.#tracked) {
      let i = 0;
      while (i < t.missing.length) {
        // The first look-ups are a probe: when none of the rows missing longest has arrived, this
        // pass skips the rest (a pass that finds every row still checks every one of them, so the
        // last row's poll is never skipped, and a skipped row only delays a poll that is not the last).
        const probe = i === 0;
        const missAt = Date.now();
        const end = Math.min(t.missing.length, i + (probe ? PROBE : chunk));
        const still: Array<[string, string]> = [];
        for (const entry of t.missing.slice(i, end)) {
          if (this.#inboxRow!.get(this.#opts.tenantId, entry[0], entry[1]) === undefined) still.push(entry);
        }
        const at = Date.now();
        const found = end - i - still.length;
        if (found > 0) {
          t.inboxRows += found;
          t.lastInboxAt = at;
        }
        if (still.length > 0) t.lastInboxMissAt = missAt;
        t.missing.splice(i, end - i, ...still);
        i += still.length;
        if (probe && found === 0) break;
        await yieldToLoop();
      }
    }
    this.#polls++;
    this.#maxPollMs = Math.max(this.#maxPollMs, Date.now() - started);
  }

  /** Counts every post's pushes once more (the polls skip posts behind an incomplete one). */
  recount(): void {
    if (!this.#open()) return;
    for (const t of this.#tracked) this.#pollPushes(t);
  }

  close(): void {
    this.#db?.close();
    this.#db = undefined;
  }

  #complete(t: Tracked): boolean {
    return t.missing.length === 0 && t.pushes >= this.#opts.followers.length;
  }

  #pollPushes(t: Tracked): void {
    const hex = t.post.occurredAt.toString(16).padStart(12, '0');
    const prefix = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-`;
    const row = this.#pushRange!.get(prefix, `${prefix}~`, this.#userRange[0], this.#userRange[1]) as {
      n: number;
      sends: number;
      last_at: number | null;
    };
    t.pushes = row.n;
    t.pushSends = row.sends;
    t.lastPushAt = row.last_at ?? undefined;
  }

  /** Opens the file once its tables exist (the server creates them as it starts its parts). */
  #open(): boolean {
    if (this.#db !== undefined && this.#inboxRow !== undefined) return true;
    this.#db ??= new DatabaseSync(this.#opts.dbPath, { readOnly: true, timeout: 5000 });
    try {
      this.#inboxRow = this.#db.prepare(
        'SELECT 1 FROM inbox_rows WHERE tenant_id = ? AND user_id = ? AND id = ?',
      );
      this.#pushRange = this.#db.prepare(
        `SELECT count(*) AS n, coalesce(sum(sends), 0) AS sends, max(first_at) AS last_at
         FROM recorded_sends
         WHERE channel = 'push' AND message_id >= ? AND message_id < ? AND user_id >= ? AND user_id <= ?`,
      );
      return true;
    } catch {
      // A table not created yet: the next poll tries again.
      this.#inboxRow = undefined;
      return false;
    }
  }
}

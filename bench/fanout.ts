import type { KinesisStreamEvent } from 'aws-lambda';
import { EmbeddedCelebrityFeed } from '../src/adapters/embedded/celebrity-feed.ts';
import { EmbeddedDb } from '../src/adapters/embedded/db.ts';
import { EmbeddedDeliveryQueue } from '../src/adapters/embedded/delivery-queue.ts';
import { EmbeddedFollowerGraph } from '../src/adapters/embedded/follower-graph.ts';
import { EmbeddedInbox } from '../src/adapters/embedded/inbox.ts';
import { encodeEvent } from '../src/domain/event.ts';
import { notificationId } from '../src/domain/ids.ts';
import { authorPartition } from '../src/domain/keys.ts';
import { type AuthorEvent, Channel, type FollowEdge } from '../src/domain/types.ts';
import { type FanoutDeps, fanOut } from '../src/handlers/fanout.ts';
import type { Clock } from '../src/ports/clock.ts';
import { toKinesisRecord } from '../src/runtime/kinesis-poller.ts';
import { costTable, profiled } from './profile.ts';
import { type BenchReport, median, timed, withTempDir, yieldToLoop } from './support.ts';

/** Sizes of one fan-out benchmark run. */
export interface FanoutBenchOptions {
  /** Followers of each author. @default 10_000 */
  readonly followers?: number;
  /** Events fanned out per measured run (each to every follower). @default 5 */
  readonly eventsPerRun?: number;
  /** Measured runs; the figures are their medians. @default 5 */
  readonly runs?: number;
  /** Unmeasured runs first (JIT, page cache, statement caches). @default 1 */
  readonly warmupRuns?: number;
  /** Followers per page, which is also the rows per inbox transaction. @default 5000 */
  readonly pageSize?: number;
  /** Profile the measured runs and add the time per file to the notes. @default false */
  readonly profile?: boolean;
}

const TENANT = 'bench';
const AUTHOR = 'author-1';
/** 'post': content category, push only, so one push job per inbox row. */
const EVENT_TYPE = 'post';

/**
 * Inbox rows written per second by `fanOut` for regular authors of `followers` followers, on a
 * WAL file with every embedded adapter (inbox rows AND one push delivery job per row), beside
 * the raw node:sqlite insert rate of the same rows into a copy of the inbox table in the same
 * file, in transactions of the same size.
 */
export async function fanoutBench(opts: FanoutBenchOptions = {}): Promise<BenchReport> {
  const followers = opts.followers ?? 10_000;
  const eventsPerRun = opts.eventsPerRun ?? 5;
  const runs = opts.runs ?? 5;
  const warmupRuns = opts.warmupRuns ?? 1;
  const pageSize = opts.pageSize ?? 5000;
  // Above the follower count: the authors stay regular (fan-out on write), which is what is measured.
  const celebrityThreshold = followers * 2 + 1;

  return withTempDir('fanout', async (dir) => {
    const db = new EmbeddedDb({ path: `${dir}/fanout.db` });
    try {
      let now = Date.UTC(2026, 0, 1);
      const clock: Clock = { now: () => now };
      const graph = new EmbeddedFollowerGraph({ db });
      const deps: FanoutDeps = {
        graph,
        inbox: new EmbeddedInbox({ db }),
        feed: new EmbeddedCelebrityFeed({ db }),
        queues: {
          push: new EmbeddedDeliveryQueue({ db, channel: Channel.Push, clock }),
          email: new EmbeddedDeliveryQueue({ db, channel: Channel.Email, clock }),
        },
        tierPolicy: { threshold: celebrityThreshold, hysteresis: 0.1 },
        clock,
        pageSize,
      };
      const followerIds = Array.from({ length: followers }, (_, i) => `user-${String(i).padStart(7, '0')}`);
      await follow(graph, followerIds);
      const raw = new RawInboxInserts(db, pageSize);
      const written = storeCounts(db);

      let eventNo = 0;
      const nextBatch = (): AuthorEvent[] =>
        Array.from({ length: eventsPerRun }, () => {
          eventNo++;
          now += 1000;
          return {
            tenantId: TENANT,
            id: `event-${eventNo}`,
            type: EVENT_TYPE,
            actorId: AUTHOR,
            objectId: `post-${eventNo}`,
            data: { title: 'A new post', words: 250 },
            occurredAt: now,
            acceptedAt: now,
          };
        });

      const fanoutRates: number[] = [];
      const rawRates: number[] = [];
      const rowsPerRun = followers * eventsPerRun;
      const profile = await profiled(opts.profile === true, async () => {
        for (let run = 0; run < warmupRuns + runs; run++) {
          const events = nextBatch();
          const kinesis = kinesisEventOf(events);
          const before = written.inboxRows();
          const fan = await timed(() => fanOut(kinesis, deps));
          if (fan.value.batchItemFailures.length > 0) throw new Error('fan-out failed during the benchmark');
          // The rate counts the rows fan-out really wrote, not the rows it was expected to write.
          const fannedOut = written.inboxRows() - before;
          // Same rows, same table shape, same transaction size: only SQLite's own cost is left.
          const rows = raw.rowsOf(events, followerIds);
          const rawRun = await timed(async () => raw.insert(rows));
          if (run >= warmupRuns) {
            fanoutRates.push(fannedOut / (fan.ms / 1000));
            rawRates.push(rows.length / (rawRun.ms / 1000));
          }
          await yieldToLoop();
        }
      });
      const pointers = written.celebrityPointers();
      const pushJobs = (await deps.queues.push.depth()).visible;
      const inboxWritesPerSec = median(fanoutRates);
      const rawInsertsPerSec = median(rawRates);
      return {
        name: 'fanout',
        figures: { inboxWritesPerSec, rawInsertsPerSec, ratio: inboxWritesPerSec / rawInsertsPerSec },
        settings: {
          followersPerAuthor: followers,
          celebrityThreshold,
          eventType: EVENT_TYPE,
          eventsPerRun,
          rowsPerRun,
          // Read back from the stores after the runs, warm-up included.
          inboxRowsWritten: written.inboxRows(),
          celebrityPointersWritten: pointers,
          pushJobsQueued: pushJobs,
          runs,
          warmupRuns,
          rowsPerTransaction: pageSize,
          storage: 'SQLite file, WAL, synchronous=NORMAL',
        },
        goals: [{ figure: 'ratio', op: '>=', value: 0.5 }],
        notes: [
          `The celebrity threshold is ${celebrityThreshold}, above the ${followers} followers, so every author is regular: one inbox row and one push job per follower.`,
          'rawInsertsPerSec: a prepared INSERT of the same rows into a copy of the inbox table (same columns, key and index), same transaction size, same file.',
          ...(profile.costs
            ? [
                '',
                'Main-thread time of the runs by file (profiled; includes the raw inserts):',
                costTable(profile.costs),
              ]
            : []),
        ],
      };
    } finally {
      db.close();
    }
  });
}

/** What fan-out left in the stores, counted with SQL (outside the timed sections). */
function storeCounts(db: EmbeddedDb): { inboxRows(): number; celebrityPointers(): number } {
  const rows = db.sqlite.prepare('SELECT count(*) AS n FROM inbox_rows WHERE tenant_id = ?');
  const pointers = db.sqlite.prepare('SELECT count(*) AS n FROM celebrity_pointers WHERE tenant_id = ?');
  return {
    inboxRows: () => (rows.get(TENANT) as { n: number }).n,
    celebrityPointers: () => (pointers.get(TENANT) as { n: number }).n,
  };
}

async function follow(graph: EmbeddedFollowerGraph, followerIds: readonly string[]): Promise<void> {
  const edges: FollowEdge[] = followerIds.map((followerId) => ({
    tenantId: TENANT,
    authorId: AUTHOR,
    followerId,
  }));
  for (let i = 0; i < edges.length; i += 10_000) await graph.follow(edges.slice(i, i + 10_000));
}

function kinesisEventOf(events: readonly AuthorEvent[]): KinesisStreamEvent {
  return {
    Records: events.map((event, i) =>
      toKinesisRecord(
        'shardId-000000000000',
        {
          sequenceNumber: String(i + 1).padStart(20, '0'),
          partitionKey: authorPartition(event.tenantId, event.actorId),
          data: encodeEvent(event),
          arrivedAt: event.acceptedAt,
        },
        'arn:aws:kinesis:local:000000000000:stream/fanout-events',
      ),
    ),
  };
}

type RawRow = readonly [
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  string,
  number,
  number,
  null,
];

/** The baseline: the inbox's own table definition, copied, and a bare prepared INSERT. */
class RawInboxInserts {
  readonly #db: EmbeddedDb;
  readonly #size: number;
  readonly #insert;

  constructor(db: EmbeddedDb, transactionSize: number) {
    this.#db = db;
    this.#size = transactionSize;
    // Copy the DDL SQLite stored for the inbox table and its indexes, so the baseline cannot drift
    // from what the adapter really creates. Not its triggers (the unread counter's): what they
    // cost is the adapter's own, and the ratio shows it.
    const ddl = db.sqlite
      .prepare(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'inbox_rows' AND type IN ('table', 'index') AND sql IS NOT NULL ORDER BY type DESC",
      )
      .all() as { sql: string }[];
    if (ddl.length === 0) throw new Error('the inbox table was not created');
    for (const { sql } of ddl) db.sqlite.exec(sql.replaceAll('inbox_', 'raw_inbox_'));
    const columns = db.sqlite
      .prepare('SELECT count(*) AS n FROM pragma_table_info(?)')
      .get('raw_inbox_rows') as {
      n: number;
    };
    this.#insert = db.sqlite.prepare(
      `INSERT OR IGNORE INTO raw_inbox_rows VALUES (${Array.from({ length: columns.n }, () => '?').join(', ')})`,
    );
  }

  rowsOf(events: readonly AuthorEvent[], followerIds: readonly string[]): RawRow[] {
    const rows: RawRow[] = [];
    for (const e of events) {
      const data = JSON.stringify(e.data);
      for (const userId of followerIds) {
        rows.push([
          e.tenantId,
          userId,
          notificationId(e.id, userId, e.occurredAt),
          e.id,
          e.type,
          'content',
          e.actorId,
          e.objectId ?? '',
          data,
          e.occurredAt,
          0,
          null,
        ]);
      }
    }
    return rows;
  }

  insert(rows: readonly RawRow[]): void {
    const sqlite = this.#db.sqlite;
    for (let i = 0; i < rows.length; i += this.#size) {
      sqlite.exec('BEGIN IMMEDIATE');
      const end = Math.min(rows.length, i + this.#size);
      for (let j = i; j < end; j++) this.#insert.run(...rows[j]!);
      sqlite.exec('COMMIT');
    }
  }
}

import { EmbeddedCelebrityFeed } from '../src/adapters/embedded/celebrity-feed.ts';
import { EmbeddedDb } from '../src/adapters/embedded/db.ts';
import { EmbeddedFollowerGraph } from '../src/adapters/embedded/follower-graph.ts';
import { EmbeddedInbox } from '../src/adapters/embedded/inbox.ts';
import { createCursorCodec } from '../src/domain/cursor.ts';
import { notificationId, POINTER_RECIPIENT } from '../src/domain/ids.ts';
import { Category, type CelebrityPointer, type InboxRow, Tier, type UserKey } from '../src/domain/types.ts';
import { type InboxDeps, readInbox } from '../src/handlers/inbox.ts';
import { costTable, profiled } from './profile.ts';
import { type BenchReport, median, percentile, withTempDir } from './support.ts';

/** Sizes of one inbox-read benchmark run. */
export interface InboxReadBenchOptions {
  /** The reader's own inbox rows. @default 10_000 */
  readonly rows?: number;
  /** Celebrities the reader follows. @default 50 */
  readonly celebrities?: number;
  /** Pointers per celebrity. @default 200 */
  readonly pointersPerCelebrity?: number;
  /** Measured page reads, half first pages and half deeper pages. @default 4000 */
  readonly iterations?: number;
  /** Unmeasured page reads first. @default 500 */
  readonly warmup?: number;
  /** Deepest page read by cursor. @default 25 */
  readonly maxDepth?: number;
  /** Profile the measured reads and add the time per file to the notes. @default false */
  readonly profile?: boolean;
}

const PAGE = 20;
const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.UTC(2026, 5, 1);
const READER: UserKey = { tenantId: 'bench', userId: 'reader' };

/**
 * Latency of one 20-item page of `readInbox` for a reader with a large inbox who follows many
 * celebrities: the read-time merge of their rows with every followed celebrity's pointers, the
 * cursor round trip and the pointer read state. First pages and pages deeper by cursor alternate;
 * every read is timed on its own.
 */
export async function inboxReadBench(opts: InboxReadBenchOptions = {}): Promise<BenchReport> {
  const rows = opts.rows ?? 10_000;
  const celebrities = opts.celebrities ?? 50;
  const pointersPerCelebrity = opts.pointersPerCelebrity ?? 200;
  const iterations = opts.iterations ?? 4000;
  const warmup = opts.warmup ?? 500;
  const maxDepth = Math.max(1, opts.maxDepth ?? 25);

  return withTempDir('inbox-read', async (dir) => {
    const db = new EmbeddedDb({ path: `${dir}/inbox.db` });
    try {
      const deps: InboxDeps = {
        inbox: new EmbeddedInbox({ db }),
        feed: new EmbeddedCelebrityFeed({ db }),
        graph: new EmbeddedFollowerGraph({ db }),
        cursors: createCursorCodec('inbox-read-bench-secret'),
        clock: { now: () => NOW },
      };
      await seed(deps, rows, celebrities, pointersPerCelebrity);
      // Cursors of the pages below the first, so deep reads start where a user scrolling would be.
      const cursors = await cursorChain(deps, maxDepth);

      const first: number[] = [];
      const deep: number[] = [];
      let items = 0;
      const run = await profiled(opts.profile === true, async () => {
        for (let i = 0; i < warmup + iterations; i++) {
          const deepRead = i % 2 === 1 && cursors.length > 0;
          const cursor = deepRead ? cursors[(i >> 1) % cursors.length] : undefined;
          const start = performance.now();
          const page = await readInbox(
            READER,
            cursor === undefined ? { limit: PAGE } : { limit: PAGE, cursor },
            deps,
          );
          const ms = performance.now() - start;
          if (page.items.length !== PAGE) throw new Error('a page came back short during the benchmark');
          if (i < warmup) continue;
          items += page.items.length;
          (deepRead ? deep : first).push(ms);
        }
      });
      const all = [...first, ...deep].sort((a, b) => a - b);
      const sortedFirst = first.sort((a, b) => a - b);
      const sortedDeep = deep.sort((a, b) => a - b);
      return {
        name: 'inbox-read',
        figures: {
          p50Ms: percentile(all, 50),
          p99Ms: percentile(all, 99),
          firstPageP99Ms: percentile(sortedFirst, 99),
          deepPageP99Ms: percentile(sortedDeep.length > 0 ? sortedDeep : sortedFirst, 99),
          pagesPerSec: 1000 / median(all),
        },
        settings: {
          pageSize: PAGE,
          inboxRows: rows,
          celebritiesFollowed: celebrities,
          pointersPerCelebrity,
          iterations,
          warmup,
          deepestPage: cursors.length + 1,
          itemsRead: items,
          storage: 'SQLite file, WAL, synchronous=NORMAL',
        },
        goals: [{ figure: 'p99Ms', op: '<', value: 5 }],
        notes: [
          'Reads alternate between the first page and a page 2..N deep by cursor; each read is timed alone.',
          'pagesPerSec is 1000 / p50Ms: one reader, one page at a time.',
          ...(run.costs
            ? ['', 'Main-thread time of the measured reads by file (profiled):', costTable(run.costs)]
            : []),
        ],
      };
    } finally {
      db.close();
    }
  });
}

/** The reader's rows and the celebrities' pointers, interleaved over the last 60 days. */
async function seed(deps: InboxDeps, rows: number, celebrities: number, perCelebrity: number): Promise<void> {
  const span = 60 * DAY;
  const batch: InboxRow[] = [];
  for (let i = 0; i < rows; i++) {
    const createdAt = NOW - span + Math.floor((i * span) / rows);
    const eventId = `row-event-${i}`;
    batch.push({
      tenantId: READER.tenantId,
      userId: READER.userId,
      id: notificationId(eventId, READER.userId, createdAt),
      eventId,
      type: 'comment',
      category: Category.Social,
      actorId: `friend-${i % 300}`,
      objectId: `post-${i}`,
      data: { excerpt: 'Nice one', n: i },
      createdAt,
      read: i % 3 === 0,
    });
    if (batch.length === 5000) await deps.inbox.putMany(batch.splice(0));
  }
  await deps.inbox.putMany(batch.splice(0));

  const graph = deps.graph as EmbeddedFollowerGraph;
  for (let c = 0; c < celebrities; c++) {
    const authorId = `celebrity-${c}`;
    await graph.follow([{ tenantId: READER.tenantId, authorId, followerId: READER.userId }]);
    await graph.setTier(
      { tenantId: READER.tenantId, userId: authorId },
      { tier: Tier.Celebrity, changedAt: NOW - span },
    );
    const pointers: CelebrityPointer[] = [];
    for (let p = 0; p < perCelebrity; p++) {
      // Offset per celebrity so pointers of different authors do not share a millisecond.
      const createdAt = NOW - span + Math.floor(((p + c / celebrities) * span) / perCelebrity);
      const eventId = `celebrity-${c}-event-${p}`;
      pointers.push({
        tenantId: READER.tenantId,
        authorId,
        id: notificationId(eventId, POINTER_RECIPIENT, createdAt),
        eventId,
        type: 'post',
        category: Category.Content,
        objectId: `post-${c}-${p}`,
        data: { title: 'A new post', n: p },
        createdAt,
      });
    }
    await deps.feed.put(pointers);
  }
  // Some pointers read one by one, some by the watermark: the read-state path does real work.
  const page = await readInbox(READER, { limit: PAGE }, deps);
  const marks = page.items.filter((i) => i.source === 'celebrity').slice(0, 3);
  await deps.inbox.markRead(
    READER,
    marks.map((i) => ({ id: i.id, authorId: i.actorId })),
  );
  await deps.inbox.markAllRead(READER, notificationId('watermark', READER.userId, NOW - 30 * DAY));
}

async function cursorChain(deps: InboxDeps, depth: number): Promise<string[]> {
  const cursors: string[] = [];
  let cursor: string | undefined;
  for (let d = 1; d < depth; d++) {
    const page = await readInbox(
      READER,
      cursor === undefined ? { limit: PAGE } : { limit: PAGE, cursor },
      deps,
    );
    if (page.nextCursor === null) break;
    cursor = page.nextCursor;
    cursors.push(cursor);
  }
  return cursors;
}

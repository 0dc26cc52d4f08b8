import { EmbeddedCelebrityFeed } from '../src/adapters/embedded/celebrity-feed.ts';
import { EmbeddedDb } from '../src/adapters/embedded/db.ts';
import { EmbeddedFollowerGraph } from '../src/adapters/embedded/follower-graph.ts';
import { EmbeddedInbox } from '../src/adapters/embedded/inbox.ts';
import { createCursorCodec } from '../src/domain/cursor.ts';
import { notificationId, POINTER_RECIPIENT } from '../src/domain/ids.ts';
import { Category, Tier, type UserKey } from '../src/domain/types.ts';
import { catchUp } from '../src/handlers/catch-up.ts';
import { type InboxDeps, readInbox, unreadCount } from '../src/handlers/inbox.ts';
import { celebrityPointers, ownRows } from './inbox-seed.ts';
import { costTable, type FileCost, profiled } from './profile.ts';
import { type BenchReport, type Goal, percentile, withTempDir } from './support.ts';

/** Sizes of one inbox-read benchmark run. */
export interface InboxReadBenchOptions {
  /** The reader's own inbox rows. @default 10_000 */
  readonly rows?: number;
  /** Celebrities the reader follows, one reader (and one data file) per entry. @default [50, 500, 5000] */
  readonly celebrities?: readonly number[];
  /** Pointers per celebrity. @default 20 */
  readonly pointersPerCelebrity?: number;
  /** Measured rounds; each reads one page and one unread count of every reader. @default 4000 */
  readonly iterations?: number;
  /** Unmeasured rounds first. @default 500 */
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
/** What a page and a count may take at the largest size, and how far above the smallest. */
const GOAL_P99_MS = 5;
const GOAL_RATIO = 2;

/** One reader on a data file of its own, after the first catch-up. */
interface Reader {
  readonly celebrities: number;
  readonly db: EmbeddedDb;
  readonly deps: InboxDeps;
  /** Cursors of the pages below the first, so deep reads start where a user scrolling would be. */
  readonly cursors: string[];
  readonly catchUp: { readonly ms: number; readonly scanned: number; readonly materialised: number };
  readonly first: number[];
  readonly deep: number[];
  readonly count: number[];
}

/**
 * Latency of `readInbox` (a 20-item page) and `unreadCount` for a reader with 10,000 rows of their
 * own who follows 50, 500 and 5,000 celebrities with 20 pointers each, one data file per size,
 * in one run. Each reader's first read copies every pointer in (the catch-up, timed on its own);
 * then rounds read, for every reader in turn, one page (first pages and pages deeper by cursor,
 * alternately) and one unread count, each timed alone, so a busy moment of the machine falls on
 * every size alike.
 */
export async function inboxReadBench(opts: InboxReadBenchOptions = {}): Promise<BenchReport> {
  const rows = opts.rows ?? 10_000;
  const sizes = opts.celebrities ?? [50, 500, 5000];
  const perCelebrity = opts.pointersPerCelebrity ?? 20;
  const iterations = opts.iterations ?? 4000;
  const warmup = opts.warmup ?? 500;
  const maxDepth = Math.max(1, opts.maxDepth ?? 25);

  return withTempDir('inbox-read', async (dir) => {
    const readers: Reader[] = [];
    try {
      for (const celebrities of sizes) {
        readers.push(
          await openReader(`${dir}/inbox-${celebrities}.db`, rows, celebrities, perCelebrity, maxDepth),
        );
      }
      const run = await profiled(opts.profile === true, async () => {
        for (let i = 0; i < warmup + iterations; i++) {
          for (const r of readers) await readOnce(r, i, i >= warmup);
        }
      });
      const live = await readsAfterArrivals(readers.at(-1)!, Math.max(10, Math.floor(iterations / 8)));
      return report(readers, live, { rows, perCelebrity, iterations, warmup, costs: run.costs });
    } finally {
      for (const r of readers) r.db.close();
    }
  });
}

async function openReader(
  path: string,
  rows: number,
  celebrities: number,
  perCelebrity: number,
  maxDepth: number,
): Promise<Reader> {
  const db = new EmbeddedDb({ path });
  const deps: InboxDeps = {
    inbox: new EmbeddedInbox({ db }),
    feed: new EmbeddedCelebrityFeed({ db }),
    graph: new EmbeddedFollowerGraph({ db }),
    cursors: createCursorCodec('inbox-read-bench-secret'),
    clock: { now: () => NOW },
  };
  await seed(deps, rows, celebrities, perCelebrity);
  // The reader's first read: every pointer of the 60 days is copied into their inbox once.
  const start = performance.now();
  const caught = await catchUp(READER, deps);
  const ms = performance.now() - start;
  await readState(deps);
  return {
    celebrities,
    db,
    deps,
    cursors: await cursorChain(deps, maxDepth),
    catchUp: { ms, ...caught },
    first: [],
    deep: [],
    count: [],
  };
}

async function readOnce(r: Reader, i: number, measured: boolean): Promise<void> {
  const deepRead = i % 2 === 1 && r.cursors.length > 0;
  const cursor = deepRead ? r.cursors[(i >> 1) % r.cursors.length] : undefined;
  let start = performance.now();
  const page = await readInbox(
    READER,
    cursor === undefined ? { limit: PAGE } : { limit: PAGE, cursor },
    r.deps,
  );
  const pageMs = performance.now() - start;
  if (page.items.length !== PAGE) throw new Error('a page came back short during the benchmark');
  start = performance.now();
  const count = await unreadCount(READER, r.deps);
  const countMs = performance.now() - start;
  if (!(count > 0)) throw new Error('the unread count came back empty during the benchmark');
  if (!measured) return;
  (deepRead ? r.deep : r.first).push(pageMs);
  r.count.push(countMs);
}

/**
 * First-page reads of the largest reader, each right after one new pointer of a celebrity they
 * follow arrived: the catch-up then copies one pointer in (one small write) before the page.
 */
async function readsAfterArrivals(r: Reader, reads: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < reads; i++) {
    const createdAt = NOW - 1000 + i;
    const eventId = `live-event-${i}`;
    await r.deps.feed.put([
      {
        tenantId: READER.tenantId,
        authorId: `celebrity-${i % r.celebrities}`,
        id: notificationId(eventId, POINTER_RECIPIENT, createdAt),
        eventId,
        type: 'post',
        category: Category.Content,
        createdAt,
      },
    ]);
    const start = performance.now();
    const page = await readInbox(READER, { limit: PAGE }, r.deps);
    times.push(performance.now() - start);
    if (page.items[0]?.eventId !== eventId) throw new Error('the new pointer was not on the first page');
  }
  return times.sort((a, b) => a - b);
}

function report(
  readers: readonly Reader[],
  live: readonly number[],
  s: {
    rows: number;
    perCelebrity: number;
    iterations: number;
    warmup: number;
    costs: readonly FileCost[] | undefined;
  },
): BenchReport {
  const figures: Record<string, number> = {};
  const notes: string[] = [];
  for (const r of readers) {
    const pages = [...r.first, ...r.deep].sort((a, b) => a - b);
    const counts = [...r.count].sort((a, b) => a - b);
    const n = r.celebrities;
    figures[`pageP50MsAt${n}`] = percentile(pages, 50);
    figures[`pageP99MsAt${n}`] = percentile(pages, 99);
    figures[`countP50MsAt${n}`] = percentile(counts, 50);
    figures[`countP99MsAt${n}`] = percentile(counts, 99);
    figures[`catchUpMsAt${n}`] = r.catchUp.ms;
    figures[`catchUpPointersAt${n}`] = r.catchUp.materialised;
    const deep = [...r.deep].sort((a, b) => a - b);
    const first = [...r.first].sort((a, b) => a - b);
    notes.push(
      `${n} celebrities: first pages p99 ${percentile(first, 99).toFixed(3)} ms, deeper pages p99 ${percentile(deep.length > 0 ? deep : first, 99).toFixed(3)} ms (down to page ${r.cursors.length + 1}); first catch-up read ${r.catchUp.scanned} log entries and copied ${r.catchUp.materialised} pointers in ${r.catchUp.ms.toFixed(0)} ms (${((r.catchUp.ms * 1000) / Math.max(1, r.catchUp.materialised)).toFixed(1)} µs per pointer).`,
    );
  }
  const small = readers[0]!.celebrities;
  const large = readers.at(-1)!.celebrities;
  figures[`pageAfterArrivalP50MsAt${large}`] = percentile(live, 50);
  figures[`pageAfterArrivalP99MsAt${large}`] = percentile(live, 99);
  const goals: Goal[] = [];
  if (readers.length > 1) {
    figures.pageP99Ratio = figures[`pageP99MsAt${large}`]! / figures[`pageP99MsAt${small}`]!;
    figures.countP99Ratio = figures[`countP99MsAt${large}`]! / figures[`countP99MsAt${small}`]!;
    goals.push(
      { figure: 'pageP99Ratio', op: '<=', value: GOAL_RATIO },
      { figure: 'countP99Ratio', op: '<=', value: GOAL_RATIO },
    );
  }
  for (const r of readers) {
    goals.push(
      { figure: `pageP99MsAt${r.celebrities}`, op: '<', value: GOAL_P99_MS },
      { figure: `countP99MsAt${r.celebrities}`, op: '<', value: GOAL_P99_MS },
    );
  }
  return {
    name: 'inbox-read',
    figures,
    settings: {
      pageSize: PAGE,
      inboxRows: s.rows,
      celebritiesFollowed: readers.map((r) => r.celebrities).join(', '),
      pointersPerCelebrity: s.perCelebrity,
      iterations: s.iterations,
      warmup: s.warmup,
      ratios: `${large} celebrities / ${small}`,
      storage: 'SQLite file per reader, WAL, synchronous=NORMAL',
    },
    goals,
    notes: [
      'Each round reads one page and one unread count of every reader in turn; each read is timed alone.',
      'Pages alternate between the first page and a page 2..N deep by cursor. Every read runs the',
      "catch-up first (the reader's mark, then the tenant's arrival log after it: empty here).",
      'catchUpMsAt* / catchUpPointersAt*: the first read of each reader, which copies every pointer of',
      'the 60 days into their inbox once (not in the page and count figures).',
      `pageAfterArrival*At${large}: ${live.length} first pages, each right after one new pointer of a`,
      'followed celebrity arrived, so each read copies it in first (a write) and shows it on top.',
      ...notes,
      ...(s.costs
        ? ['', 'Main-thread time of the measured reads by file (profiled):', costTable(s.costs)]
        : []),
    ],
  };
}

/** The reader's rows and the celebrities' pointers, interleaved over the last 60 days. */
async function seed(deps: InboxDeps, rows: number, celebrities: number, perCelebrity: number): Promise<void> {
  const span = 60 * DAY;
  const own = ownRows(READER, rows, NOW, span);
  for (let i = 0; i < own.length; i += 5000) await deps.inbox.putMany(own.slice(i, i + 5000));
  const authors = Array.from({ length: celebrities }, (_, c) => `celebrity-${c}`);
  // Straight to the graph, as an import would: the reader's first catch-up starts at the window.
  await deps.graph.follow(
    authors.map((authorId) => ({ tenantId: READER.tenantId, authorId, followerId: READER.userId })),
  );
  for (const [c, authorId] of authors.entries()) {
    await deps.graph.setTier(
      { tenantId: READER.tenantId, userId: authorId },
      { tier: Tier.Celebrity, changedAt: NOW - span },
    );
    await deps.feed.put(celebrityPointers(READER.tenantId, c, celebrities, perCelebrity, NOW, span));
  }
}

/** Some pointers read one by one, older items by the watermark: the read state is real. */
async function readState(deps: InboxDeps): Promise<void> {
  const page = await readInbox(READER, { limit: PAGE }, deps);
  const pointers = page.items.filter((i) => i.source === 'celebrity').slice(0, 3);
  await deps.inbox.markRead(
    READER,
    pointers.map((i) => ({ id: i.id })),
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

import { randomUUID } from 'node:crypto';
import { DynamoCelebrityFeed } from '../src/adapters/aws/celebrity-feed.ts';
import { createTables } from '../src/adapters/aws/create-tables.ts';
import { DynamoFollowerGraph } from '../src/adapters/aws/follower-graph.ts';
import { DynamoInbox, type UnreadMode } from '../src/adapters/aws/inbox.ts';
import { tableNames } from '../src/adapters/aws/tables.ts';
import { createCursorCodec } from '../src/domain/cursor.ts';
import { notificationId } from '../src/domain/ids.ts';
import { type CelebrityPointer, Tier, type UserKey } from '../src/domain/types.ts';
import { catchUp } from '../src/handlers/catch-up.ts';
import { type InboxDeps, readInbox, unreadCount } from '../src/handlers/inbox.ts';
import { createAwsClients } from '../src/runtime/aws-clients.ts';
import { type CostCounts, CostMeter, countsSince } from '../src/runtime/local-aws/cost-meter.ts';
import type { EmulatorEndpoints } from '../src/runtime/local-aws/emulators.ts';
import { celebrityPointers, ownRows } from './inbox-seed.ts';

/** Sizes of the inbox read-cost scenario. */
export interface ReadCostOptions {
  /** Celebrities followed, one reader each; every reader's celebrities are among the largest one's. @default [50, 5000] */
  readonly celebrities?: readonly number[];
  /** Pointers per celebrity (the tenant's arrival log holds largest × this). @default 2 */
  readonly pointersPerCelebrity?: number;
  /** Each reader's own rows, a third of them read. @default 10_000 */
  readonly rows?: number;
  /** Opens and counts measured per reader, after the first catch-up. @default 20 */
  readonly reads?: number;
}

/** What one reader's reads cost in one unread mode, per call. */
export interface ReaderCost {
  readonly celebrities: number;
  readonly open: PerCall;
  readonly count: PerCall;
  /** The first catch-up: every pointer of the log's window copied in. */
  readonly catchUp: PerCall & { readonly scanned: number; readonly materialised: number };
}

export interface PerCall {
  readonly requests: number;
  readonly readUnits: number;
  readonly writeUnits: number;
  /** Requests by `service:Command`. */
  readonly byCommand: Readonly<Record<string, number>>;
}

/**
 * Now, as the wall clock has it: DynamoDB Local deletes items past their TTL in the background, by
 * the wall clock, so the scenario's items (up to 30 days old) must not be 90 days old already.
 */
const T0 = Math.floor(Date.now() / 1000) * 1000;
const DAY = 24 * 60 * 60 * 1000;
const TENANT = 'cost';

/**
 * What an inbox open (one 20-item page) and an unread count cost through the AWS adapters, per
 * request and capacity unit, for readers who follow 50 and 5,000 celebrities of one tenant, in
 * one unread mode; and what each reader's first catch-up cost. The graph, the pointers and the
 * arrival log are written once and shared by both modes; each mode gets an inbox table of its own.
 */
export class InboxReadCost {
  readonly #meter = new CostMeter();
  readonly #clients;
  readonly #prefix = `cost-${randomUUID().slice(0, 8)}`;
  readonly #names = tableNames(this.#prefix);
  readonly #o: Required<ReadCostOptions>;
  #now = T0;
  readonly #clock = { now: () => this.#now };

  constructor(endpoints: EmulatorEndpoints, opts: ReadCostOptions = {}) {
    this.#clients = createAwsClients({
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      endpoints: { dynamodb: endpoints.dynamodb },
    });
    this.#meter.attach(this.#clients);
    this.#meter.enabled = false;
    this.#o = {
      celebrities: opts.celebrities ?? [50, 5000],
      pointersPerCelebrity: opts.pointersPerCelebrity ?? 2,
      rows: opts.rows ?? 10_000,
      reads: opts.reads ?? 20,
    };
  }

  get options(): Required<ReadCostOptions> {
    return this.#o;
  }

  /** The graph and the celebrities' pointers, written once (not metered). */
  async seed(): Promise<void> {
    await createTables(this.#clients.dynamodb, this.#names, ['followers', 'celebrityFeed']);
    const graph = this.#graph();
    const feed = this.#feed();
    const largest = Math.max(...this.#o.celebrities);
    for (const size of this.#o.celebrities) {
      const edges = Array.from({ length: size }, (_, c) => ({
        tenantId: TENANT,
        authorId: `celebrity-${c}`,
        followerId: readerOf(size).userId,
      }));
      for (let i = 0; i < edges.length; i += 1000) await graph.follow(edges.slice(i, i + 1000));
    }
    const pointers: CelebrityPointer[] = [];
    for (let c = 0; c < largest; c++) {
      await graph.setTier(
        { tenantId: TENANT, userId: `celebrity-${c}` },
        { tier: Tier.Celebrity, changedAt: T0 },
      );
      pointers.push(...celebrityPointers(TENANT, c, largest, this.#o.pointersPerCelebrity, T0, 30 * DAY));
    }
    for (let i = 0; i < pointers.length; i += 500) await feed.put(pointers.slice(i, i + 500));
    // Past the log's settle window: what follows reads a log with nothing settling.
    this.#now = T0 + 2 * 60_000;
  }

  /** Every reader's first catch-up, then `reads` opens and counts each, in one unread mode. */
  async measure(mode: UnreadMode): Promise<ReaderCost[]> {
    // A table of its own per mode, still named `…-inbox` (the meter finds its index by the name).
    const modeNames = tableNames(`${this.#prefix}-${mode}`);
    const inboxTable = modeNames.inbox;
    await createTables(this.#clients.dynamodb, modeNames, ['inbox']);
    const deps: InboxDeps = {
      inbox: new DynamoInbox({
        documents: this.#clients.documents,
        tableName: inboxTable,
        unread: mode,
        clock: this.#clock,
      }),
      feed: this.#feed(),
      graph: this.#graph(),
      cursors: createCursorCodec('aws-read-cost-secret'),
      clock: this.#clock,
    };
    const results: ReaderCost[] = [];
    for (const size of this.#o.celebrities) {
      const reader = readerOf(size);
      await this.#ownRows(deps, reader);
      const caught = await this.#metered(() => catchUp(reader, deps));
      // Some read state, as a real inbox has: a watermark 15 days back.
      await deps.inbox.markAllRead(reader, notificationId('watermark', reader.userId, T0 - 15 * DAY));
      // The first count of a counter builds it (reads the window once): not a steady-state read.
      await unreadCount(reader, deps);
      const open = await this.#perCall(() => readInbox(reader, { limit: 20 }, deps));
      const count = await this.#perCall(() => unreadCount(reader, deps));
      results.push({
        celebrities: size,
        open,
        count,
        catchUp: { ...caught.cost, scanned: caught.value.scanned, materialised: caught.value.materialised },
      });
    }
    return results;
  }

  close(): void {
    this.#clients.destroy();
  }

  async #ownRows(deps: InboxDeps, reader: UserKey): Promise<void> {
    const rows = ownRows(reader, this.#o.rows, T0, 30 * DAY);
    for (let i = 0; i < rows.length; i += 1000) await deps.inbox.putMany(rows.slice(i, i + 1000));
  }

  /** Mean cost of `reads` calls of `fn`. */
  async #perCall(fn: () => Promise<unknown>): Promise<PerCall> {
    const calls: PerCall[] = [];
    for (let i = 0; i < this.#o.reads; i++) {
      this.#now += 1000;
      calls.push((await this.#metered(fn)).cost);
    }
    const mean = (pick: (c: PerCall) => number) => calls.reduce((t, c) => t + pick(c), 0) / calls.length;
    const byCommand: Record<string, number> = {};
    for (const c of calls) {
      for (const [k, v] of Object.entries(c.byCommand)) byCommand[k] = (byCommand[k] ?? 0) + v / calls.length;
    }
    return {
      requests: mean((c) => c.requests),
      readUnits: mean((c) => c.readUnits),
      writeUnits: mean((c) => c.writeUnits),
      byCommand,
    };
  }

  async #metered<T>(fn: () => Promise<T>): Promise<{ value: T; cost: PerCall }> {
    const before = this.#meter.counts();
    this.#meter.enabled = true;
    try {
      const value = await fn();
      return { value, cost: perCall(countsSince(this.#meter.counts(), before)) };
    } finally {
      this.#meter.enabled = false;
    }
  }

  #graph(): DynamoFollowerGraph {
    return new DynamoFollowerGraph({ documents: this.#clients.documents, tableName: this.#names.followers });
  }

  #feed(): DynamoCelebrityFeed {
    return new DynamoCelebrityFeed({
      documents: this.#clients.documents,
      tableName: this.#names.celebrityFeed,
      clock: this.#clock,
    });
  }
}

function readerOf(celebrities: number): UserKey {
  return { tenantId: TENANT, userId: `reader-of-${celebrities}` };
}

function perCall(counts: CostCounts): PerCall {
  const sum = (values: Readonly<Record<string, number>>) => Object.values(values).reduce((t, v) => t + v, 0);
  return {
    requests: sum(counts.requests),
    readUnits: sum(counts.readUnits),
    writeUnits: sum(counts.writeUnits),
    byCommand: counts.requests,
  };
}

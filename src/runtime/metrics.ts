import { CHANNELS, type Channel, Outcome } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { DeliveryQueue, QueueDepth } from '../ports/delivery-queue.ts';
import type { Ports } from '../ports/ports.ts';
import type { InboxChanges } from './inbox-notifier.ts';
import { withOverrides } from './with-overrides.ts';

/** A counter's total since start and its rate over the trailing second. */
export interface Rate {
  readonly total: number;
  readonly perSecond: number;
}

/** What the /ops page shows, as one JSON object. */
export interface MetricsSnapshot {
  /** Epoch ms the snapshot was taken. */
  readonly at: number;
  /** Events the Event API accepted (durable in the event log). */
  readonly events: Rate;
  /** Inbox rows fan-out wrote. */
  readonly inboxRows: Rate;
  /** Delivery decisions per channel and outcome (one per audit record). */
  readonly deliveries: Readonly<Record<Channel, Readonly<Record<Outcome, Rate>>>>;
  /** Each channel's queue, read from its DeliveryQueue when the snapshot is taken. */
  readonly queues: Readonly<Record<Channel, QueueDepth>>;
  /** Requests refused for a missing, wrong or expired credential (401). */
  readonly authFailures: Rate;
}

export interface MetricsOptions {
  /** The delivery queues whose depth and DLQ size are reported. */
  readonly queues: Readonly<Record<Channel, DeliveryQueue>>;
  /** Stamps snapshots. @default system clock */
  readonly clock?: Clock;
  /** Monotonic ms for the rates, so a wall-clock step never bends them. @default performance.now */
  readonly rateClock?: () => number;
}

/** Width of one bucket of the rolling window. */
const BUCKET_MS = 100;
/** Buckets in the window: 10 × 100 ms = the trailing second. */
const BUCKETS = 10;

/**
 * A total plus a rolling one-second rate. The rate is the sum of the last ten complete 100 ms
 * buckets: exactly one second of history, at most 100 ms stale, in constant memory however many
 * increments arrive.
 */
class RollingCounter {
  total = 0;
  readonly #counts = new Float64Array(BUCKETS);
  readonly #slots = new Float64Array(BUCKETS).fill(-1);
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  add(n: number): void {
    this.total += n;
    const slot = Math.floor(this.#now() / BUCKET_MS);
    const i = slot % BUCKETS;
    if (this.#slots[i] !== slot) {
      this.#slots[i] = slot;
      this.#counts[i] = 0;
    }
    this.#counts[i]! += n;
  }

  rate(): Rate {
    const current = Math.floor(this.#now() / BUCKET_MS);
    let sum = 0;
    for (let i = 0; i < BUCKETS; i++) {
      const slot = this.#slots[i]!;
      if (slot >= current - BUCKETS && slot < current) sum += this.#counts[i]!;
    }
    return { total: this.total, perSecond: sum * (1000 / (BUCKETS * BUCKET_MS)) };
  }
}

/**
 * Where the write side counts what it did: a `Metrics`, or (on the pipeline's thread of `fanout
 * serve`) a forwarder that passes the counts to the `Metrics` of the API's thread.
 */
export type MetricsSink = Pick<Metrics, 'eventsAccepted' | 'inboxRowsWritten' | 'deliveries'>;

/**
 * The counters of this process for the operator's page. Increments are cheap and synchronous (the
 * hot paths call them per batch); queue depths are read from the ports only when asked, so an
 * idle page costs nothing.
 */
export class Metrics {
  readonly #queues: Readonly<Record<Channel, DeliveryQueue>>;
  readonly #clock: Clock;
  readonly #events: RollingCounter;
  readonly #inboxRows: RollingCounter;
  readonly #authFailures: RollingCounter;
  readonly #deliveries: Record<Channel, Record<Outcome, RollingCounter>>;

  constructor(opts: MetricsOptions) {
    const now = opts.rateClock ?? (() => performance.now());
    this.#queues = opts.queues;
    this.#clock = opts.clock ?? { now: () => Date.now() };
    this.#events = new RollingCounter(now);
    this.#inboxRows = new RollingCounter(now);
    this.#authFailures = new RollingCounter(now);
    const perOutcome = () =>
      Object.fromEntries(Object.values(Outcome).map((o) => [o, new RollingCounter(now)])) as Record<
        Outcome,
        RollingCounter
      >;
    this.#deliveries = { push: perOutcome(), email: perOutcome() };
  }

  /** Events accepted by the Event API (new ones; an idempotent repeat is not counted). */
  eventsAccepted(count: number): void {
    if (count > 0) this.#events.add(count);
  }

  /** Inbox rows written by fan-out. */
  inboxRowsWritten(count: number): void {
    if (count > 0) this.#inboxRows.add(count);
  }

  /** A request refused for a missing, wrong or expired credential. */
  authFailed(): void {
    this.#authFailures.add(1);
  }

  /** Delivery decisions of one channel with one outcome (one per audit record). */
  deliveries(channel: Channel, outcome: Outcome, count = 1): void {
    const counter = this.#deliveries[channel]?.[outcome];
    // Unknown names come from a caller's bug or a newer producer: ignored rather than thrown at a hot path.
    if (counter !== undefined && count > 0) counter.add(count);
  }

  /** Counters now, and each queue's depth read from its port. Throws what the queues throw. */
  async snapshot(): Promise<MetricsSnapshot> {
    const depths = await Promise.all(CHANNELS.map((c) => this.#queues[c].depth()));
    const deliveries = {} as Record<Channel, Record<Outcome, Rate>>;
    const queues = {} as Record<Channel, QueueDepth>;
    CHANNELS.forEach((channel, i) => {
      const outcomes = this.#deliveries[channel];
      deliveries[channel] = Object.fromEntries(
        Object.values(Outcome).map((o) => [o, outcomes[o].rate()]),
      ) as Record<Outcome, Rate>;
      queues[channel] = depths[i]!;
    });
    return {
      at: this.#clock.now(),
      events: this.#events.rate(),
      inboxRows: this.#inboxRows.rate(),
      deliveries,
      queues,
      authFailures: this.#authFailures.rate(),
    };
  }
}

/**
 * The ports with the live side attached: counts go to `metrics` and inbox changes to `changes`
 * after each write succeeds, with no change to the handlers that use them. Wrap once, where the
 * ports are built, and give the result to both the pipeline and the HTTP app:
 * - `log.append`: fresh events count as accepted (an idempotent repeat does not);
 * - `inbox.putMany`: rows written, and a wake-up for each recipient's stream (a retried batch
 *   counts again: the rate is of writes);
 * - `feed.put`: a wake-up for the followers of each pointer's author;
 * - `inbox.markRead` / `markAllRead`: the user's unread count is sent again;
 * - `audit.append`: one delivery per audit entry, by channel and outcome.
 */
export function observePorts<P extends Ports>(
  ports: P,
  live: { readonly metrics: MetricsSink; readonly changes: InboxChanges },
): P {
  const { metrics, changes } = live;
  const { log, inbox, feed, audit } = ports;
  return {
    ...ports,
    log: withOverrides(log, {
      async append(events) {
        const results = await log.append(events);
        metrics.eventsAccepted(results.filter((r) => r.fresh).length);
        return results;
      },
    }),
    inbox: withOverrides(inbox, {
      async putMany(rows) {
        await inbox.putMany(rows);
        metrics.inboxRowsWritten(rows.length);
        for (const [tenantId, userIds] of groupBy(
          rows,
          (r) => r.tenantId,
          (r) => r.userId,
        ))
          changes.rowsWritten(tenantId, userIds);
      },
      async markRead(user, marks) {
        await inbox.markRead(user, marks);
        changes.readStateChanged(user);
      },
      async markAllRead(user, upToId) {
        await inbox.markAllRead(user, upToId);
        changes.readStateChanged(user);
      },
    }),
    feed: withOverrides(feed, {
      async put(pointers) {
        await feed.put(pointers);
        for (const [tenantId, authors] of groupBy(
          pointers,
          (p) => p.tenantId,
          (p) => p.authorId,
        ))
          for (const authorId of new Set(authors)) changes.pointerWritten(tenantId, authorId);
      },
    }),
    audit: withOverrides(audit, {
      async append(entries) {
        await audit.append(entries);
        for (const e of entries) metrics.deliveries(e.channel, e.outcome);
      },
    }),
  };
}

function groupBy<T>(
  items: readonly T[],
  key: (t: T) => string,
  value: (t: T) => string,
): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list === undefined) groups.set(k, [value(item)]);
    else list.push(value(item));
  }
  return groups;
}

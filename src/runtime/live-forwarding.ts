import type { Channel, Outcome, TenantId, UserId, UserKey } from '../domain/types.ts';
import type { InboxChanges } from './inbox-notifier.ts';
import type { MetricsSink } from './metrics.ts';

/**
 * What the pipeline's thread tells the API's thread in one message: the inbox changes and the
 * counts of one turn of its event loop. Plain data, so it crosses a `MessagePort` by structured
 * clone.
 */
export interface LiveBatch {
  /** Users with new inbox rows, by tenant. */
  readonly rows: readonly (readonly [TenantId, readonly UserId[]])[];
  /** Authors with a new celebrity pointer, by tenant. */
  readonly pointers: readonly (readonly [TenantId, readonly UserId[]])[];
  /** Users whose read state changed. */
  readonly reads: readonly UserKey[];
  readonly eventsAccepted: number;
  readonly inboxRows: number;
  /** Delivery decisions: channel, outcome, count. */
  readonly deliveries: readonly (readonly [Channel, Outcome, number])[];
}

/**
 * The write side's `InboxChanges` and `MetricsSink` on a thread other than the API's: calls are
 * gathered over one turn of the event loop (fan-out writes a page of rows in many `putMany`
 * calls) and sent as one `LiveBatch` through `post`. Like every `InboxChanges`, it returns at
 * once and never throws: a batch that cannot be posted is dropped, which costs a stream at most
 * its fallback poll.
 */
export class LiveForwarder implements InboxChanges, MetricsSink {
  readonly #post: (batch: LiveBatch) => void;
  #rows = new Map<TenantId, Set<UserId>>();
  #pointers = new Map<TenantId, Set<UserId>>();
  #reads: UserKey[] = [];
  #events = 0;
  #inboxRows = 0;
  #deliveries = new Map<string, [Channel, Outcome, number]>();
  #scheduled = false;

  constructor(post: (batch: LiveBatch) => void) {
    this.#post = post;
  }

  rowsWritten(tenantId: TenantId, userIds: readonly UserId[]): void {
    addAll(this.#rows, tenantId, userIds);
    this.#schedule();
  }

  pointerWritten(tenantId: TenantId, authorId: UserId): void {
    addAll(this.#pointers, tenantId, [authorId]);
    this.#schedule();
  }

  readStateChanged(user: UserKey): void {
    this.#reads.push({ tenantId: user.tenantId, userId: user.userId });
    this.#schedule();
  }

  eventsAccepted(count: number): void {
    this.#events += count;
    this.#schedule();
  }

  inboxRowsWritten(count: number): void {
    this.#inboxRows += count;
    this.#schedule();
  }

  deliveries(channel: Channel, outcome: Outcome, count = 1): void {
    const k = `${channel}\n${outcome}`;
    const entry = this.#deliveries.get(k);
    if (entry === undefined) this.#deliveries.set(k, [channel, outcome, count]);
    else entry[2] += count;
    this.#schedule();
  }

  /** Sends what was gathered now (the thread's last word before it stops). */
  flush(): void {
    this.#scheduled = false;
    const batch: LiveBatch = {
      rows: [...this.#rows].map(([t, users]) => [t, [...users]] as const),
      pointers: [...this.#pointers].map(([t, authors]) => [t, [...authors]] as const),
      reads: this.#reads,
      eventsAccepted: this.#events,
      inboxRows: this.#inboxRows,
      deliveries: [...this.#deliveries.values()],
    };
    this.#rows = new Map();
    this.#pointers = new Map();
    this.#reads = [];
    this.#events = 0;
    this.#inboxRows = 0;
    this.#deliveries = new Map();
    if (isEmpty(batch)) return;
    try {
      this.#post(batch);
    } catch {
      // The port is closing: the streams fall back to their poll, the counts are lost.
    }
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  }
}

/** Plays a `LiveBatch` into the API thread's notifier and metrics. */
export function applyLiveBatch(
  batch: LiveBatch,
  live: { readonly changes: InboxChanges; readonly metrics: MetricsSink },
): void {
  const { changes, metrics } = live;
  for (const [tenantId, userIds] of batch.rows) changes.rowsWritten(tenantId, userIds);
  for (const [tenantId, authorIds] of batch.pointers)
    for (const authorId of authorIds) changes.pointerWritten(tenantId, authorId);
  for (const user of batch.reads) changes.readStateChanged(user);
  metrics.eventsAccepted(batch.eventsAccepted);
  metrics.inboxRowsWritten(batch.inboxRows);
  for (const [channel, outcome, count] of batch.deliveries) metrics.deliveries(channel, outcome, count);
}

function addAll(index: Map<TenantId, Set<UserId>>, tenantId: TenantId, ids: readonly UserId[]): void {
  let set = index.get(tenantId);
  if (set === undefined) {
    set = new Set();
    index.set(tenantId, set);
  }
  for (const id of ids) set.add(id);
}

function isEmpty(b: LiveBatch): boolean {
  return (
    b.rows.length === 0 &&
    b.pointers.length === 0 &&
    b.reads.length === 0 &&
    b.eventsAccepted === 0 &&
    b.inboxRows === 0 &&
    b.deliveries.length === 0
  );
}

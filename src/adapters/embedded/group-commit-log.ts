import type { AuthorEvent } from '../../domain/types.ts';
import type { AppendResult, EventLog, LogRecord } from '../../ports/event-log.ts';

interface Waiter {
  readonly events: readonly AuthorEvent[];
  resolve(results: AppendResult[]): void;
  reject(err: unknown): void;
}

/**
 * Group commit for an event log whose appends each cost one durable commit (SQLite: one WAL
 * commit per transaction). Appends that arrive while the previous commit runs, or in the same
 * event-loop turn, are written together in ONE `append` of the inner log; each caller still
 * resolves only after the commit that holds its events, so "202 only once durable" is unchanged.
 * With a hundred HTTP clients this turns a hundred commits into one.
 *
 * Order is kept: callers' events are appended in the order the calls arrived. A batch that fails
 * as a whole (say, one caller's event breaks the inner log's validation) is retried caller by
 * caller, so one bad caller never fails the others.
 */
export class GroupCommitEventLog implements EventLog {
  readonly #inner: EventLog;
  readonly #maxEvents: number;
  #queue: Waiter[] = [];
  #flushing = false;

  /** @param maxEvents most events per commit @default 1000 */
  constructor(inner: EventLog, opts: { readonly maxEvents?: number } = {}) {
    this.#inner = inner;
    this.#maxEvents = Math.max(1, opts.maxEvents ?? 1000);
  }

  append(events: readonly AuthorEvent[]): Promise<AppendResult[]> {
    if (events.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.#queue.push({ events, resolve, reject });
      if (!this.#flushing) {
        this.#flushing = true;
        // One turn of the event loop lets the other requests already read from their sockets join.
        setImmediate(() => void this.#flush());
      }
    });
  }

  listShards(): Promise<string[]> {
    return this.#inner.listShards();
  }

  read(shardId: string, after: string | undefined, limit: number): Promise<LogRecord[]> {
    return this.#inner.read(shardId, after, limit);
  }

  latestSequence(shardId: string): Promise<string | undefined> {
    return this.#inner.latestSequence(shardId);
  }

  lookup(tenantId: string, eventId: string): Promise<AuthorEvent | undefined> {
    return this.#inner.lookup(tenantId, eventId);
  }

  async #flush(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#take();
      try {
        const results = await this.#inner.append(batch.flatMap((w) => w.events));
        let at = 0;
        for (const w of batch) {
          w.resolve(results.slice(at, at + w.events.length));
          at += w.events.length;
        }
      } catch {
        for (const w of batch) {
          try {
            w.resolve(await this.#inner.append(w.events));
          } catch (err) {
            w.reject(err);
          }
        }
      }
    }
    this.#flushing = false;
  }

  /** Waiters from the head of the queue, up to `maxEvents` events (always at least one waiter). */
  #take(): Waiter[] {
    let events = 0;
    let n = 0;
    while (n < this.#queue.length && (n === 0 || events + this.#queue[n]!.events.length <= this.#maxEvents)) {
      events += this.#queue[n]!.events.length;
      n++;
    }
    return this.#queue.splice(0, n);
  }
}

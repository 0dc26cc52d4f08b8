import type { InboxRow } from '../domain/types.ts';
import type { Inbox } from '../ports/inbox.ts';

/** Rows held before this many are written, whatever the batch. */
const WRITE_AT = 5000;

/**
 * Aggregated rows of several events, held and written together: a viral post's likes arrive
 * one event each, from many authors, and an inbox writes a group's rows far cheaper together (on
 * DynamoDB one intent and one transaction per group per call, inbox-groups.ts). The fan-out
 * handler writes them before the delivery jobs of the same events are sent, so a job is never
 * sent for a row that was never written, and before it reports a batch done.
 */
export class RowBuffer {
  readonly #inbox: Inbox;
  #held: InboxRow[] = [];

  constructor(inbox: Inbox) {
    this.#inbox = inbox;
  }

  /** Holds rows; writes them (and what was held) once WRITE_AT are held. */
  async hold(rows: readonly InboxRow[]): Promise<void> {
    this.#held.push(...rows);
    if (this.#held.length >= WRITE_AT) await this.flush();
  }

  get size(): number {
    return this.#held.length;
  }

  mark(): number {
    return this.#held.length;
  }

  /** Drops the rows held since `mark` (a failed event's; its retry makes them again). */
  rollback(mark: number): void {
    this.#held.length = Math.min(mark, this.#held.length);
  }

  /** Writes everything held; on failure the rows stay held. Idempotent writes make a retry safe. */
  async flush(): Promise<void> {
    if (this.#held.length === 0) return;
    await this.#inbox.putMany(this.#held);
    this.#held = [];
  }
}

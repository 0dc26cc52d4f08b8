import { CHANNELS, type Channel } from '../domain/types.ts';
import {
  auditLetters,
  type DeadLetterAuditDeps,
  type DeadLetterAuditResult,
} from '../handlers/dead-letter-audit.ts';
import { errorName } from '../lib/error-name.ts';
import type { DeliveryQueue } from '../ports/delivery-queue.ts';
import { silentLogger } from '../ports/logger.ts';
import { Periodic } from './periodic.ts';

/** SQS keeps a dead letter at most 14 days; the sweep looks no further back. */
export const DEAD_LETTER_MAX_AGE_MS = 14 * 24 * 60 * 60 * 1000;

export interface DeadLetterSweepOptions extends DeadLetterAuditDeps {
  readonly queues: Readonly<Record<Channel, Pick<DeliveryQueue, 'channel' | 'listDeadLetters'>>>;
  /** Pause between passes. @default 60_000, the AWS schedule's minute */
  readonly intervalMs?: number;
  /** Dead letters read per listing. @default 500, as the Lambda reads per run */
  readonly pageSize?: number;
  /** Listings per channel and pass; a longer DLQ is covered over the next passes. @default 10 */
  readonly pagesPerPass?: number;
  /**
   * Dead letters moved longer ago are left alone. Keep it below the dedup TTL (30 days): a letter
   * audited before must still find its key confirmed. @default 14 days
   */
  readonly maxAgeMs?: number;
  /**
   * Dead letters moved before this instant (epoch ms) are left alone: for a dedup store that
   * forgets on restart, which would otherwise audit every older letter again. @default none
   */
  readonly notBefore?: number;
}

/** What one pass did on one channel: the audit's counts, over every letter listed. */
export interface DeadLetterSweepResult extends DeadLetterAuditResult {
  /** Listed but moved before `notBefore` or longer than `maxAgeMs` ago: not looked at. */
  readonly tooOld: number;
}

const NOTHING: DeadLetterSweepResult = {
  seen: 0,
  audited: 0,
  alreadyAudited: 0,
  poison: 0,
  busy: 0,
  tooOld: 0,
};

/**
 * The dead-letter audit (`handlers/dead-letter-audit.ts`) of a local run: what the scheduled
 * `dead-letter-audit` Lambda does on AWS, a pass over each channel's dead letters at start and
 * then every `intervalMs`. It closes the same gap: a process killed while it held a job on its
 * last receive never audits it, and the queue dead-letters the job once its visibility ends.
 *
 * A pass resumes each channel's listing where the previous one stopped, at most `pagesPerPass`
 * pages on, and starts over from the oldest once it reaches the end: a DLQ longer than one page
 * is covered over passes, not its first page again and again, and a letter the queue numbered
 * anew after a redrive is reached at the next round. Letters audited before answer `done` from
 * the dedup store and cost a claim each. A failing channel is logged and tried again next pass
 * from the same place; the other channel still runs.
 */
export class DeadLetterSweep {
  readonly #o: DeadLetterSweepOptions;
  /** Per channel, the position after which the next pass lists; absent: from the oldest. */
  readonly #after = new Map<Channel, string>();
  readonly #periodic: Periodic;

  constructor(opts: DeadLetterSweepOptions) {
    this.#o = opts;
    this.#periodic = new Periodic(async () => {
      await this.runOnce();
    }, opts.intervalMs ?? 60_000);
  }

  start(): void {
    this.#periodic.start();
  }

  /** Waits for the pass in progress and stops. */
  stop(): Promise<void> {
    return this.#periodic.stop();
  }

  /** One pass over both channels; the counts of each channel that did not fail. */
  async runOnce(): Promise<Partial<Record<Channel, DeadLetterSweepResult>>> {
    const logger = this.#o.logger ?? silentLogger;
    const results: Partial<Record<Channel, DeadLetterSweepResult>> = {};
    for (const channel of CHANNELS) {
      try {
        const result = await this.#pass(channel);
        if (result.audited > 0) logger.info('dead-letter audit', { channel, ...result });
        results[channel] = result;
      } catch (err) {
        logger.warn('dead-letter audit failed', { channel, error: errorName(err) });
      }
    }
    return results;
  }

  async #pass(channel: Channel): Promise<DeadLetterSweepResult> {
    const queue = this.#o.queues[channel];
    const pageSize = this.#o.pageSize ?? 500;
    let total = NOTHING;
    for (let page = 0; page < (this.#o.pagesPerPass ?? 10); page++) {
      const after = this.#after.get(channel);
      const letters = await queue.listDeadLetters(pageSize, after === undefined ? {} : { after });
      const oldest = Math.max(
        this.#o.clock.now() - (this.#o.maxAgeMs ?? DEAD_LETTER_MAX_AGE_MS),
        this.#o.notBefore ?? Number.NEGATIVE_INFINITY,
      );
      const due = letters.filter((l) => l.deadLetteredAt >= oldest);
      // Throws before the position moves: the next pass tries the same page again.
      const result = await auditLetters(channel, due, this.#o);
      total = add(total, { ...result, seen: letters.length, tooOld: letters.length - due.length });
      const last = letters.at(-1)?.position;
      // A short page is the end; a queue whose letters carry no position cannot resume.
      if (letters.length < pageSize || last === undefined) {
        this.#after.delete(channel);
        break;
      }
      this.#after.set(channel, last);
    }
    return total;
  }
}

function add(a: DeadLetterSweepResult, b: DeadLetterSweepResult): DeadLetterSweepResult {
  return {
    seen: a.seen + b.seen,
    audited: a.audited + b.audited,
    alreadyAudited: a.alreadyAudited + b.alreadyAudited,
    poison: a.poison + b.poison,
    busy: a.busy + b.busy,
    tooOld: a.tooOld + b.tooOld,
  };
}

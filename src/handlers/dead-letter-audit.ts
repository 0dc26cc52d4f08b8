import type { SQSRecord } from 'aws-lambda';
import type { AuditEntry } from '../domain/audit-types.ts';
import { deadLetterKey } from '../domain/keys.ts';
import { type Channel, type DeliveryJob, Outcome } from '../domain/types.ts';
import { errorName } from '../lib/error-name.ts';
import type { AuditSink } from '../ports/audit-sink.ts';
import type { Clock } from '../ports/clock.ts';
import { ClaimState, type DedupStore } from '../ports/dedup-store.ts';
import type { DeadLetter, DeliveryQueue } from '../ports/delivery-queue.ts';
import { type Logger, silentLogger } from '../ports/logger.ts';
import { parseJobs } from './job.ts';

/** What the dead-letter audit needs. */
export interface DeadLetterAuditDeps {
  readonly audit: AuditSink;
  readonly dedup: DedupStore;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** How long a claim protects an audit in progress before another run may take it over. @default 60_000 */
  readonly leaseMs?: number;
}

/** What one pass over a dead-letter queue found. */
export interface DeadLetterAuditResult {
  /** Dead letters read from the queue (messages: a packed one holds several jobs). */
  readonly seen: number;
  /** `dead_lettered` records written by this pass (one per job). */
  readonly audited: number;
  /** Already audited (by the consumer on the last receive, or by an earlier pass). */
  readonly alreadyAudited: number;
  /** Bodies (or elements of a packed body) that are no delivery job: nothing to audit, the DLQ keeps them for an operator. */
  readonly poison: number;
  /** Held by another pass still running: left to it. */
  readonly busy: number;
}

/** Why this pass wrote the record: the consumer never saw the message fail its last receive. */
export const UNSEEN_DEAD_LETTER_REASON = 'dead_letter_queue';

/**
 * Writes the `dead_lettered` audit record of every message in a dead-letter queue that has none.
 *
 * A consumer audits a job as dead-lettered when it fails on its last receive. A receive that never
 * reaches the consumer escapes that: on AWS, Lambda's SQS poller receives the message and the
 * invocation is throttled (or times out, or the container dies), so SQS counts the receive, and
 * after the last one moves the message to the DLQ with no record. This pass closes the gap from
 * the DLQ side: for each dead letter it claims {@link deadLetterKey} in the dedup store, appends
 * one `dead_lettered` entry (reason {@link UNSEEN_DEAD_LETTER_REASON}) for the claims it won, then
 * confirms them. The consumer confirms the same key after its own record, so a message is audited
 * once, whichever side saw it. A crash between the append and the confirm leaves the claim to run
 * out and the next pass to append again: the one case of two records for one move, as for sends.
 *
 * The messages stay in the DLQ: `listDeadLetters` peeks and makes them visible again, so the
 * operator still inspects and redrives them (docs/deploy.md, runbook).
 */
export async function auditDeadLetters(
  queue: Pick<DeliveryQueue, 'channel' | 'listDeadLetters'>,
  limit: number,
  deps: DeadLetterAuditDeps,
): Promise<DeadLetterAuditResult> {
  const letters = await queue.listDeadLetters(limit);
  return auditLetters(queue.channel, letters, deps);
}

/** {@link auditDeadLetters} over dead letters already read. */
export async function auditLetters(
  channel: Channel,
  letters: readonly DeadLetter[],
  deps: DeadLetterAuditDeps,
): Promise<DeadLetterAuditResult> {
  const logger = deps.logger ?? silentLogger;
  const leaseMs = deps.leaseMs ?? 60_000;
  const jobs: { letter: DeadLetter; job: DeliveryJob; key: string }[] = [];
  let poison = 0;
  for (const letter of letters) {
    // A packed letter holds several jobs, each audited under its own id.
    for (const { id, job } of parseJobs(asRecord(letter), channel)) {
      if (job === undefined) {
        poison++;
        continue;
      }
      jobs.push({ letter, job, key: deadLetterKey(job.tenantId, channel, id) });
    }
  }
  if (poison > 0) logger.warn('dead letters that are no delivery job', { channel, count: poison });
  if (jobs.length === 0) {
    return { seen: letters.length, audited: 0, alreadyAudited: 0, poison, busy: 0 };
  }

  const states = await deps.dedup.claim(jobs.map((j) => ({ key: j.key, leaseMs })));
  const now = deps.clock.now();
  const won = jobs.filter(
    (_, i) => states[i] === ClaimState.Acquired || states[i] === ClaimState.AcquiredStale,
  );
  const entries: AuditEntry[] = won.map(({ letter, job }) => ({
    at: now,
    tenantId: job.tenantId,
    userId: job.userId,
    channel,
    notificationId: job.notificationId,
    eventId: job.eventId,
    outcome: Outcome.DeadLettered,
    reason: UNSEEN_DEAD_LETTER_REASON,
    attempt: letter.receiveCount,
  }));
  if (entries.length > 0) {
    try {
      await deps.audit.append(entries);
    } catch (err) {
      // Released, so the next pass claims them again at once instead of after the lease.
      await deps.dedup.release(won.map((j) => j.key)).catch(() => undefined);
      logger.error('dead-letter audit append failed', {
        channel,
        count: entries.length,
        error: errorName(err),
      });
      throw err;
    }
    await deps.dedup.confirm(won.map((j) => j.key));
  }
  return {
    seen: letters.length,
    audited: entries.length,
    alreadyAudited: states.filter((s) => s === ClaimState.Done).length,
    poison,
    busy: states.filter((s) => s === ClaimState.Busy).length,
  };
}

/** A dead letter in the shape `parseJobs` reads (body and the tenant attribute). */
function asRecord(letter: DeadLetter): SQSRecord {
  const tenant = letter.attributes.tenant_id;
  return {
    messageId: letter.messageId,
    body: letter.body,
    ...(tenant === undefined
      ? {}
      : { messageAttributes: { tenant_id: { dataType: 'String', stringValue: tenant } } }),
  } as unknown as SQSRecord;
}

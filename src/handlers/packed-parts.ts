import type { SQSRecord } from 'aws-lambda';
import { deadLetterKey } from '../domain/keys.ts';
import type { Channel } from '../domain/types.ts';
import { errorName } from '../lib/error-name.ts';
import { type DedupStore, KeyState } from '../ports/dedup-store.ts';
import type { Logger } from '../ports/logger.ts';
import { type JobPart, parseJobs, receiveCount } from './job.ts';

/** One job of a batch's records, with the record that carried it. */
export interface RecordPart extends JobPart {
  readonly record: SQSRecord;
}

/**
 * The jobs of a batch's records that still need work. A packed message (several jobs) is the unit
 * of retry: when one of its jobs fails, the others come back with it. Each of those others ended
 * on the failed receive (sent, suppressed, deferred, retracted) and its consumer confirmed its
 * {@link deadLetterKey} then ("nothing left to do or to audit for this job of this message"), so
 * on a later receive it is left out here, instead of being decided again: no second audit record,
 * no second deferred copy, no other outcome than the first. The same key keeps the dead-letter
 * audit from calling it dead-lettered if the message ends in the DLQ.
 *
 * One `peek` for the batch, only for jobs of packed messages received before; if the dedup store
 * cannot answer, every job is worked on again, as before packing (dedup still guards each send).
 * A job is settled only when its batch's audit append and dedup confirm both succeeded; otherwise
 * it is worked on again too.
 */
export async function unsettledParts(
  records: readonly SQSRecord[],
  channel: Channel,
  dedup: Pick<DedupStore, 'peek'>,
  logger: Logger,
  maxReceiveCount: number,
): Promise<RecordPart[]> {
  const parts = records.flatMap((record) => parseJobs(record, channel).map((part) => ({ record, ...part })));
  // Past the last receive the consumer knows of (a queue whose redrive count is higher, a count
  // changed mid-deploy), the key may be a failed job's dead-letter record, not a settled one:
  // everything is worked on again, as before packing.
  const retried = parts.filter((p) => {
    const n = receiveCount(p.record);
    return p.job !== undefined && p.id !== p.record.messageId && n > 1 && n <= maxReceiveCount;
  });
  if (retried.length === 0) return parts;
  let states: KeyState[];
  try {
    states = await dedup.peek(retried.map((p) => settledKey(p, channel)));
  } catch (err) {
    logger.warn('settled jobs of retried messages not readable; all worked on again', {
      jobs: retried.length,
      error: errorName(err),
    });
    return parts;
  }
  const settled = new Set(retried.filter((_, i) => states[i] === KeyState.Done));
  return parts.filter((p) => !settled.has(p));
}

/** The key a job of a packed message is confirmed under once it ended (see {@link unsettledParts}). */
export function settledKey(part: JobPart, channel: Channel): string {
  return deadLetterKey(part.job!.tenantId, channel, part.id);
}

import { type FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { EMPTY_CHAIN, sealAuditRecord } from '../../domain/audit-chain.ts';
import type { AuditEntry } from '../../domain/audit-types.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { AuditSink } from '../../ports/audit-sink.ts';
import { type RetryPolicy, sendWithRetry } from './retry.ts';

/** Options of {@link FirehoseAuditSink}. */
export interface FirehoseAuditSinkOptions {
  readonly firehose: FirehoseClient;
  /** The delivery stream that writes to the Object Lock bucket. */
  readonly deliveryStreamName: string;
  /** Re-sends of records that PutRecordBatch reports as failed. */
  readonly retry?: RetryPolicy;
}

/** Firehose's limits of one PutRecordBatch call and of one record. */
export const FIREHOSE_LIMITS = {
  recordsPerCall: 500,
  bytesPerCall: 4 * 1024 * 1024,
  bytesPerRecord: 1000 * 1024,
} as const;

/** One record to send, with its position so a re-send keeps the order of what failed. */
interface AuditRecordOut {
  readonly position: number;
  readonly data: Uint8Array;
}

/**
 * Audit decisions to a Firehose delivery stream (→ S3 with Object Lock, whose retention makes
 * the trail tamper-proof the way the embedded log's hash chain makes it tamper-evident).
 *
 * One JSON line per entry (newline-terminated, so the S3 objects Firehose concatenates are
 * JSONL), carrying only the entry's own fields. Appends of one sink go out one after another, so
 * the records of this process reach Firehose in append order. PutRecordBatch takes 500 records or
 * 4 MiB; only records whose answer carries an ErrorCode are sent again, in their original
 * order, after the rest. Cost: one PutRecordBatch per 500 entries (Firehose bills ingestion in 5
 * KiB steps per record, so an entry of a few hundred bytes costs one step).
 */
export class FirehoseAuditSink implements AuditSink {
  readonly #firehose: FirehoseClient;
  readonly #stream: string;
  readonly #retry: RetryPolicy;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(opts: FirehoseAuditSinkOptions) {
    if (typeof opts?.deliveryStreamName !== 'string' || opts.deliveryStreamName.length === 0) {
      throw new ValidationError([{ path: 'deliveryStreamName', message: 'must be a non-empty string' }]);
    }
    this.#firehose = opts.firehose;
    this.#stream = opts.deliveryStreamName;
    this.#retry = opts.retry ?? {};
  }

  /** Every entry is checked before the first call: an invalid one sends nothing. */
  async append(entries: readonly AuditEntry[]): Promise<void> {
    if (!Array.isArray(entries))
      throw new ValidationError([{ path: 'entries', message: 'must be an array' }]);
    const records = entries.map((entry, i) => toRecord(entry, i));
    if (records.length === 0) return;
    const done = this.#tail.then(() => this.#put(records));
    // The next append waits for this one, whether it succeeds or not.
    this.#tail = done.catch(() => {});
    await done;
  }

  async #put(records: readonly AuditRecordOut[]): Promise<void> {
    for (const batch of packBatches(records)) {
      await sendWithRetry(
        'audit PutRecordBatch',
        batch,
        async (pending) => {
          const out = await this.#firehose.send(
            new PutRecordBatchCommand({
              DeliveryStreamName: this.#stream,
              Records: pending.map((r) => ({ Data: r.data })),
            }),
          );
          if (!out.FailedPutCount) return [];
          // Answers are positional: the i-th answer is the i-th record of this call.
          return pending.filter((_, i) => out.RequestResponses?.[i]?.ErrorCode !== undefined);
        },
        this.#retry,
      );
    }
  }
}

/** Validates an entry (as the embedded log does) and encodes its own fields as one JSON line. */
function toRecord(entry: AuditEntry, position: number): AuditRecordOut {
  let record: ReturnType<typeof sealAuditRecord>;
  try {
    // Sealing checks every field and keeps only the entry's own; the chain fields are dropped,
    // since Object Lock, not a hash chain, protects what Firehose writes.
    record = sealAuditRecord(EMPTY_CHAIN, entry);
  } catch (err) {
    if (!(err instanceof ValidationError)) {
      throw new ValidationError([{ path: `entries[${position}]`, message: 'must be an audit entry' }]);
    }
    const issues = err.issues.map((issue) => ({ ...issue, path: `entries[${position}].${issue.path}` }));
    throw new ValidationError(issues, { cause: err });
  }
  const { seq: _seq, prev: _prev, hash: _hash, ...fields } = record;
  const data = Buffer.from(`${JSON.stringify(fields)}\n`, 'utf8');
  if (data.length > FIREHOSE_LIMITS.bytesPerRecord) {
    throw new ValidationError([
      { path: `entries[${position}]`, message: `is over Firehose's ${FIREHOSE_LIMITS.bytesPerRecord} bytes` },
    ]);
  }
  return { position, data };
}

/** Consecutive records in calls of at most 500 records and 4 MiB. */
function packBatches(records: readonly AuditRecordOut[]): AuditRecordOut[][] {
  const batches: AuditRecordOut[][] = [];
  let current: AuditRecordOut[] = [];
  let bytes = 0;
  for (const record of records) {
    if (
      current.length === FIREHOSE_LIMITS.recordsPerCall ||
      bytes + record.data.length > FIREHOSE_LIMITS.bytesPerCall
    ) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += record.data.length;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

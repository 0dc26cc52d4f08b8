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

/** Firehose bills ingestion per record, each rounded up to this many bytes. */
export const FIREHOSE_BILLING_STEP = 5 * 1024;

/** One JSON line of an entry, with its position in the append (for errors). */
interface AuditLine {
  readonly position: number;
  readonly data: Uint8Array;
}

/**
 * Audit decisions to a Firehose delivery stream (→ S3 with Object Lock, whose retention makes
 * the trail tamper-proof the way the embedded log's hash chain makes it tamper-evident).
 *
 * One JSON line per entry (newline-terminated, so the S3 objects Firehose concatenates are
 * JSONL), carrying only the entry's own fields. The lines of one append are packed into as few
 * records as Firehose takes (1,000 KiB each, see {@link packAuditRecords}): Firehose bills every
 * record rounded up to 5 KiB, so a record per entry of a few hundred bytes paid ten times its
 * size, where a delivery batch's ten decisions now share one 5 KiB step. A record is a run of
 * whole lines, so the objects Firehose writes read the same (`readS3Audit`).
 *
 * Order: appends of one sink go out one after another, and the records of one append go out one
 * per call, each sent (its retries included) before the next. A partial failure of a call of
 * several records would re-send the failed ones after later ones had landed; one record per call
 * cannot reorder, and costs nothing, since Firehose bills bytes, not calls (an append spans two
 * records only past ~3,000 decisions).
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
    const records = packAuditRecords(entries.map((entry, i) => toLine(entry, i).data));
    if (records.length === 0) return;
    const done = this.#tail.then(() => this.#put(records));
    // The next append waits for this one, whether it succeeds or not.
    this.#tail = done.catch(() => {});
    await done;
  }

  async #put(records: readonly Uint8Array[]): Promise<void> {
    for (const record of records) {
      await sendWithRetry(
        'audit PutRecordBatch',
        [record],
        async (pending) => {
          const out = await this.#firehose.send(
            new PutRecordBatchCommand({
              DeliveryStreamName: this.#stream,
              Records: pending.map((data) => ({ Data: data })),
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
function toLine(entry: AuditEntry, position: number): AuditLine {
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

/**
 * Consecutive newline-terminated lines, in order, packed into records of at most
 * `bytesPerRecord` (1,000 KiB): each record is a run of whole lines, so concatenating the
 * records gives back the lines. A line longer than a record throws a RangeError (the sink
 * rejects such an entry before packing).
 */
export function packAuditRecords(
  lines: readonly Uint8Array[],
  bytesPerRecord: number = FIREHOSE_LIMITS.bytesPerRecord,
): Uint8Array[] {
  const records: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  let bytes = 0;
  for (const line of lines) {
    if (line.length > bytesPerRecord) throw new RangeError(`a line of ${line.length} bytes is over a record`);
    if (bytes + line.length > bytesPerRecord) {
      records.push(Buffer.concat(run));
      run = [];
      bytes = 0;
    }
    run.push(line);
    bytes += line.length;
  }
  if (run.length > 0) records.push(Buffer.concat(run));
  return records;
}

/** The bytes Firehose bills for records of these sizes: each rounded up to 5 KiB. */
export function firehoseBilledBytes(recordSizes: readonly number[]): number {
  return recordSizes.reduce(
    (total, size) => total + Math.max(1, Math.ceil(size / FIREHOSE_BILLING_STEP)) * FIREHOSE_BILLING_STEP,
    0,
  );
}

import { type KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { StreamPosition } from './event-log-claims.ts';
import { type RetryPolicy, sendWithRetry } from './retry.ts';

/** PutRecords limits (AWS): records per request, bytes per request, bytes per record. */
export const PUT_LIMITS = {
  recordsPerRequest: 500,
  bytesPerRequest: 5 * 1024 * 1024,
  bytesPerRecord: 1024 * 1024,
} as const;

/** One record to put; `index` is the caller's handle for it. */
export interface PendingRecord {
  readonly index: number;
  readonly partitionKey: string;
  readonly data: Uint8Array;
}

const encoder = new TextEncoder();

/** What a record counts against the size limits: its data plus its partition key, in bytes. */
export function recordBytes(partitionKey: string, data: Uint8Array): number {
  return data.byteLength + encoder.encode(partitionKey).byteLength;
}

/**
 * Puts `records` (in the caller's order) with PutRecords, calling `stored` for each one as soon
 * as Kinesis gives it a sequence number. Rejects with StoreUnavailableError when a record is
 * still failing after the retry policy's attempts; `stored` has then been called for every record
 * that did get in, and no record of an author was put after one of theirs that failed.
 *
 * Order: a partition key (one author) has at most ONE record per round, and a round starts only
 * once the previous one is fully stored, failed entries retried included. So a failed record can
 * never be overtaken by a later record of its author, which re-sending only the failed entries of
 * one big request would allow (and PutRecords does not promise to keep request order within a
 * shard anyway). `SequenceNumberForOrdering` exists only on single-record PutRecord, and re-sending
 * an author's later records after a failure would leave their first copies ahead of the failed one.
 * The cost is one request round per event of the busiest author in the call; calls from the Event
 * API carry one or a few events per author, so that is usually one round. Requests within a round
 * (different authors) go out in parallel, each within the 500-record / 5 MiB limits.
 */
export async function putInOrder(
  kinesis: KinesisClient,
  streamName: string,
  records: readonly PendingRecord[],
  stored: (record: PendingRecord, position: StreamPosition) => void,
  retry: RetryPolicy | undefined,
): Promise<void> {
  const send = async (batch: readonly PendingRecord[]): Promise<PendingRecord[]> => {
    const out = await kinesis.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: batch.map((r) => ({ Data: r.data, PartitionKey: r.partitionKey })),
      }),
    );
    const failed: PendingRecord[] = [];
    batch.forEach((record, i) => {
      const entry = out.Records?.[i];
      if (
        entry === undefined ||
        entry.ErrorCode !== undefined ||
        entry.SequenceNumber === undefined ||
        entry.ShardId === undefined
      ) {
        failed.push(record);
      } else {
        stored(record, { shardId: entry.ShardId, sequenceNumber: entry.SequenceNumber });
      }
    });
    return failed;
  };
  for (const round of rounds(records)) {
    const outcomes = await Promise.allSettled(
      requests(round).map((request) => sendWithRetry('event log PutRecords', request, send, retry)),
    );
    const failure = outcomes.find((o) => o.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
  }
}

/** Round k holds the k-th record of every partition key, in the caller's order. */
function rounds(records: readonly PendingRecord[]): PendingRecord[][] {
  const seen = new Map<string, number>();
  const out: PendingRecord[][] = [];
  for (const record of records) {
    const k = seen.get(record.partitionKey) ?? 0;
    seen.set(record.partitionKey, k + 1);
    if (k === out.length) out.push([]);
    out[k]!.push(record);
  }
  return out;
}

/** Splits one round into PutRecords requests within the record-count and byte limits. */
export function requests(records: readonly PendingRecord[]): PendingRecord[][] {
  const out: PendingRecord[][] = [];
  let current: PendingRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = recordBytes(record.partitionKey, record.data);
    if (
      current.length > 0 &&
      (current.length >= PUT_LIMITS.recordsPerRequest || bytes + size > PUT_LIMITS.bytesPerRequest)
    ) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(record);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

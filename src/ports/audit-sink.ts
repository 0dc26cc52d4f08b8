import type { AuditEntry } from '../domain/audit-types.ts';

/** Where delivery decisions go (Firehose → S3 Object Lock in AWS; hash-chained JSONL embedded). */
export interface AuditSink {
  /** Durable once resolved (written to the OS at least), in order. */
  append(entries: readonly AuditEntry[]): Promise<void>;
}

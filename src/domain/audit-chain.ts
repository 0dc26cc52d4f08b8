import type { AuditEntry, AuditRecord } from './audit-types.ts';

/** `prev` of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** The head of a chain: what the next record links to. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export const EMPTY_CHAIN: ChainHead = { seq: 0, hash: GENESIS_HASH };

/** Seals `entry` after `head`. Canonical form: fixed key order, absent optionals omitted. */
export function sealAuditRecord(head: ChainHead, entry: AuditEntry): AuditRecord {
  throw new Error(`not implemented ${head} ${entry}`);
}

export type ChainCheck =
  | { readonly valid: true; readonly head: ChainHead }
  | { readonly valid: false; readonly head: ChainHead; readonly brokenAtSeq: number; readonly reason: string };

/**
 * Verifies records in order from `start` (default EMPTY_CHAIN): each `prev` links, each `hash`
 * matches its content, `seq` increases by one.
 */
export function verifyAuditRecords(records: Iterable<AuditRecord>, start?: ChainHead): ChainCheck {
  throw new Error(`not implemented ${records} ${start}`);
}

/** One JSONL line (no newline) for a record, and back. `parseAuditLine` throws ValidationError. */
export function formatAuditLine(record: AuditRecord): string {
  throw new Error(`not implemented ${record}`);
}
export function parseAuditLine(line: string): AuditRecord {
  throw new Error(`not implemented ${line}`);
}

import { hash as digest } from 'node:crypto';
import type { AuditEntry, AuditRecord } from './audit-types.ts';
import { CHANNELS, type Channel, Outcome } from './types.ts';
import { Issues, isPlainObject, rejectUnknownKeys } from './validate.ts';

/** `prev` of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** The head of a chain: what the next record links to. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export const EMPTY_CHAIN: ChainHead = { seq: 0, hash: GENESIS_HASH };

const OUTCOMES: ReadonlySet<string> = new Set(Object.values(Outcome));
const CHANNEL_SET: ReadonlySet<string> = new Set(CHANNELS);
const HASH_PATTERN = /^[0-9a-f]{64}$/;
const RECORD_KEYS: ReadonlySet<string> = new Set([
  'seq',
  'prev',
  'at',
  'tenantId',
  'userId',
  'channel',
  'notificationId',
  'eventId',
  'outcome',
  'reason',
  'target',
  'ambiguous',
  'attempt',
  'items',
  'hash',
]);

/** Seals `entry` after `head`. Canonical form: fixed key order, absent optionals omitted. */
export function sealAuditRecord(head: ChainHead, entry: AuditEntry): AuditRecord {
  requireValidEntry(entry);
  const seq = head.seq + 1;
  const prev = head.hash;
  const hash = hashOf(prev, canonicalBody(seq, prev, entry));
  return { ...pickEntry(entry), seq, prev, hash };
}

/** What `sealAuditLines` made: the lines to write and the chain's head after them. */
export interface SealedLines {
  /** One `formatAuditLine` line per entry, each ending in a newline. */
  readonly text: string;
  readonly head: ChainHead;
}

/**
 * Seals `entries` after `head` straight into their JSONL lines: the same lines as
 * `formatAuditLine(sealAuditRecord(…))` one by one, with the canonical body built once per entry
 * instead of twice and no record object in between (the embedded log's per-delivery cost).
 * Throws ValidationError, before sealing anything, when an entry is invalid.
 */
export function sealAuditLines(head: ChainHead, entries: readonly AuditEntry[]): SealedLines {
  for (const entry of entries) requireValidEntry(entry);
  let seq = head.seq;
  let hash = head.hash;
  let text = '';
  for (const entry of entries) {
    seq++;
    const body = canonicalBody(seq, hash, entry);
    hash = hashOf(hash, body);
    text += `${body.slice(0, -1)},"hash":"${hash}"}\n`;
  }
  return { text, head: { seq, hash } };
}

export type ChainCheck =
  | { readonly valid: true; readonly head: ChainHead }
  | {
      readonly valid: false;
      readonly head: ChainHead;
      readonly brokenAtSeq: number;
      readonly reason: string;
    };

/**
 * Verifies records in order from `start` (default EMPTY_CHAIN): each `prev` links, each `hash`
 * matches its content, `seq` increases by one.
 *
 * `brokenAtSeq` is the position the chain expected when it found the first bad record (a deleted
 * record k is reported at k, a changed record at its own seq), and `head` is the last record that
 * still verified, so a caller can say exactly how much of the log is trustworthy.
 */
export function verifyAuditRecords(
  records: Iterable<AuditRecord>,
  start: ChainHead = EMPTY_CHAIN,
): ChainCheck {
  let head = start;
  for (const record of records) {
    const expected = head.seq + 1;
    if (record.seq !== expected) {
      return broken(head, `expected seq ${expected}, found ${record.seq}`);
    }
    if (record.prev !== head.hash) return broken(head, 'prev does not link to the previous record');
    if (record.hash !== hashOf(record.prev, canonicalBody(record.seq, record.prev, record))) {
      return broken(head, 'hash does not match the record');
    }
    head = { seq: record.seq, hash: record.hash };
  }
  return { valid: true, head };
}

/** One JSONL line (no newline) for a record, and back. `parseAuditLine` throws ValidationError. */
export function formatAuditLine(record: AuditRecord): string {
  const body = canonicalBody(record.seq, record.prev, record);
  // The canonical body is a JSON object; the hash goes last, so the line shows what was hashed.
  return `${body.slice(0, -1)},"hash":"${record.hash}"}`;
}

export function parseAuditLine(line: string): AuditRecord {
  const issues: Issues = new Issues();
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    issues.fail('line', 'is not JSON');
  }
  if (!isPlainObject(value)) issues.fail('line', 'must be a JSON object');
  rejectUnknownKeys(issues, value, RECORD_KEYS);
  if (!isPositiveInteger(value.seq)) issues.add('seq', 'must be an integer ≥ 1');
  if (!isHash(value.prev)) issues.add('prev', 'must be 64 lowercase hex chars');
  if (!isHash(value.hash)) issues.add('hash', 'must be 64 lowercase hex chars');
  checkEntry(issues, value);
  issues.throwIfAny();
  const record = value as unknown as AuditRecord;
  return { ...pickEntry(record), seq: record.seq, prev: record.prev, hash: record.hash };
}

function broken(head: ChainHead, reason: string): ChainCheck {
  return { valid: false, head, brokenAtSeq: head.seq + 1, reason };
}

function hashOf(prev: string, body: string): string {
  return digest('sha256', prev + body, 'hex');
}

/**
 * The JSON of a record without `hash`, keys in one fixed order. Built by hand: it runs once per
 * delivery decision, and a generic key sort would cost more than the sha256 itself.
 * JSON.stringify of a string escapes it exactly as the line format needs.
 */
function canonicalBody(seq: number, prev: string, e: AuditEntry): string {
  let s = `{"seq":${seq},"prev":"${prev}","at":${e.at},"tenantId":${JSON.stringify(e.tenantId)},"userId":${JSON.stringify(e.userId)},"channel":"${e.channel}","notificationId":${JSON.stringify(e.notificationId)},"eventId":${JSON.stringify(e.eventId)},"outcome":"${e.outcome}"`;
  if (e.reason !== undefined) s += `,"reason":${JSON.stringify(e.reason)}`;
  if (e.target !== undefined) s += `,"target":${JSON.stringify(e.target)}`;
  if (e.ambiguous !== undefined) s += `,"ambiguous":${e.ambiguous}`;
  if (e.attempt !== undefined) s += `,"attempt":${e.attempt}`;
  if (e.items !== undefined) s += `,"items":${e.items}`;
  return `${s}}`;
}

/** Only the entry's own fields: a caller's extra properties never reach the sealed record. */
function pickEntry(e: AuditEntry): AuditEntry {
  return {
    at: e.at,
    tenantId: e.tenantId,
    userId: e.userId,
    channel: e.channel,
    notificationId: e.notificationId,
    eventId: e.eventId,
    outcome: e.outcome,
    ...(e.reason === undefined ? {} : { reason: e.reason }),
    ...(e.target === undefined ? {} : { target: e.target }),
    ...(e.ambiguous === undefined ? {} : { ambiguous: e.ambiguous }),
    ...(e.attempt === undefined ? {} : { attempt: e.attempt }),
    ...(e.items === undefined ? {} : { items: e.items }),
  };
}

/**
 * Throws ValidationError listing every bad field of `entry`. The common case, a valid entry, is
 * answered by `isValidEntry` alone, without collecting issues.
 */
function requireValidEntry(entry: AuditEntry): void {
  if (isValidEntry(entry)) return;
  const issues: Issues = new Issues();
  checkEntry(issues, entry as unknown as Record<string, unknown>);
  issues.throwIfAny();
}

/** `checkEntry` finding nothing, as one boolean expression (it runs once per delivery decision). */
function isValidEntry(e: AuditEntry): boolean {
  return (
    isPlainObject(e) &&
    typeof e.at === 'number' &&
    Number.isFinite(e.at) &&
    isId(e.tenantId) &&
    isId(e.userId) &&
    isId(e.notificationId) &&
    isId(e.eventId) &&
    CHANNEL_SET.has(e.channel) &&
    OUTCOMES.has(e.outcome) &&
    (e.reason === undefined || typeof e.reason === 'string') &&
    (e.target === undefined || typeof e.target === 'string') &&
    (e.ambiguous === undefined || typeof e.ambiguous === 'boolean') &&
    (e.attempt === undefined || (Number.isSafeInteger(e.attempt) && e.attempt >= 0)) &&
    (e.items === undefined || (Number.isSafeInteger(e.items) && e.items >= 0))
  );
}

function isId(value: unknown): boolean {
  return typeof value === 'string' && value !== '';
}

/**
 * Type checks of an entry's fields. Cheap enough for the hot path, and they keep the line valid
 * JSON: a NaN `at` or a channel with a quote in it would otherwise seal an unreadable line.
 */
function checkEntry(issues: Issues, e: Record<string, unknown>): void {
  if (!isPlainObject(e)) issues.fail('entry', 'must be an object');
  if (typeof e.at !== 'number' || !Number.isFinite(e.at)) issues.add('at', 'must be a finite number');
  for (const key of ['tenantId', 'userId', 'notificationId', 'eventId'] as const) {
    if (typeof e[key] !== 'string' || e[key] === '') issues.add(key, 'must be a non-empty string');
  }
  if (!CHANNEL_SET.has(e.channel as Channel)) issues.add('channel', 'must be a known channel');
  if (!OUTCOMES.has(e.outcome as string)) issues.add('outcome', 'must be a known outcome');
  if (e.reason !== undefined && typeof e.reason !== 'string') issues.add('reason', 'must be a string');
  if (e.target !== undefined && typeof e.target !== 'string') issues.add('target', 'must be a string');
  if (e.ambiguous !== undefined && typeof e.ambiguous !== 'boolean')
    issues.add('ambiguous', 'must be a boolean');
  if (e.attempt !== undefined && !(Number.isSafeInteger(e.attempt) && (e.attempt as number) >= 0)) {
    issues.add('attempt', 'must be an integer ≥ 0');
  }
  if (e.items !== undefined && !(Number.isSafeInteger(e.items) && (e.items as number) >= 0)) {
    issues.add('items', 'must be an integer ≥ 0');
  }
}

function isPositiveInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1;
}

function isHash(value: unknown): value is string {
  return typeof value === 'string' && HASH_PATTERN.test(value);
}

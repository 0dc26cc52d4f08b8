import {
  closeSync,
  createReadStream,
  fstatSync,
  ftruncateSync,
  openSync,
  readdirSync,
  readSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  type ChainHead,
  EMPTY_CHAIN,
  parseAuditLine,
  sealAuditLines,
  verifyAuditRecords,
} from '../../domain/audit-chain.ts';
import type { AuditEntry, AuditRecord } from '../../domain/audit-types.ts';
import { ClosedError, StoreUnavailableError, ValidationError } from '../../domain/errors.ts';
import { makePrivateDir, openPrivateFile } from '../../lib/private-files.ts';
import type { AuditSink } from '../../ports/audit-sink.ts';
import { requireArray } from '../checks/input.ts';
import { storeStep } from './store-step.ts';

export interface JsonlAuditSinkOptions {
  /** Directory of the log's files; created when missing. One sink writes a directory at a time. */
  readonly dir: string;
  /** A file that would grow past this starts the next file. @default 64 MiB */
  readonly maxFileBytes?: number;
}

/** What `verifyAuditLog` found. */
export interface AuditVerification {
  readonly valid: boolean;
  /** Records that verified, in order, before the first break (all of them when valid). */
  readonly records: number;
  /** The position the chain expected where it broke. */
  readonly brokenAtSeq?: number;
  /** The file (name within the directory) where it broke. */
  readonly file?: string;
  readonly reason?: string;
}

const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;
const FILE_PATTERN = /^audit-(\d{6,})\.jsonl$/;
const TAIL_CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

/**
 * The embedded audit log: delivery decisions sealed into one hash chain (see `audit-chain.ts`)
 * and appended as JSON lines to numbered files (`audit-000001.jsonl`, …), the tamper-evident
 * counterpart of Firehose → S3 Object Lock.
 *
 * Each `append` is one synchronous write(2) on a file opened for append, so once it resolves the
 * lines are in the OS and survive a SIGKILL. A crash in the middle of that write leaves at most a
 * torn last line, belonging to an append that never resolved: opening the log cuts it off and
 * resumes the chain from the last complete record, so nothing acknowledged is lost and the chain
 * stays whole.
 */
export class JsonlAuditSink implements AuditSink {
  readonly #dir: string;
  readonly #maxFileBytes: number;
  #fd: number | undefined;
  #fileNumber: number;
  #size: number;
  #head: ChainHead;
  /** Set when a failed write could not be cut back off the file. */
  #damaged = false;

  constructor(opts: JsonlAuditSinkOptions) {
    if (typeof opts?.dir !== 'string' || opts.dir.length === 0) {
      throw new ValidationError([{ path: 'dir', message: 'must be a non-empty string' }]);
    }
    const max = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new ValidationError([{ path: 'maxFileBytes', message: 'must be an integer ≥ 1' }]);
    }
    this.#dir = opts.dir;
    this.#maxFileBytes = max;
    const opened = storeStep('audit log open', () => openLog(opts.dir));
    this.#fd = opened.fd;
    this.#fileNumber = opened.fileNumber;
    this.#size = opened.size;
    this.#head = opened.head;
  }

  /** The last record written: what the next one links to. */
  get head(): ChainHead {
    return this.#head;
  }

  /** Name of the file appends currently go to. */
  get currentFile(): string {
    return fileName(this.#fileNumber);
  }

  /**
   * Seals every entry, then writes them all with one write. An invalid entry throws a
   * ValidationError before anything is written; a failed write is cut back off the file, so a
   * rejected append leaves neither lines nor a moved head behind.
   */
  async append(entries: readonly AuditEntry[]): Promise<void> {
    requireArray(entries, 'entries');
    if (this.#damaged) throw new StoreUnavailableError('audit log needs reopening after a failed write');
    if (this.#fd === undefined) throw new ClosedError('audit log is closed');
    if (entries.length === 0) return;
    const { text, head } = sealAuditLines(this.#head, entries);
    const bytes = Buffer.from(text, 'utf8');
    storeStep('audit append', () => {
      if (this.#size > 0 && this.#size + bytes.length > this.#maxFileBytes) this.#rotate();
      this.#write(bytes);
    });
    this.#size += bytes.length;
    this.#head = head;
  }

  /** Closes the current file; appends after this throw ClosedError. */
  close(): void {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    closeSync(fd);
  }

  #rotate(): void {
    const next = this.#fileNumber + 1;
    const fd = openPrivateFile(join(this.#dir, fileName(next)), 'a+');
    closeSync(this.#fd!);
    this.#fd = fd;
    this.#fileNumber = next;
    this.#size = 0;
  }

  #write(bytes: Buffer): void {
    const fd = this.#fd!;
    try {
      // One write(2) in practice; the loop only matters if the OS accepts part of it.
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    } catch (err) {
      try {
        ftruncateSync(fd, this.#size);
      } catch {
        // The file may now end in a partial line, which a later append would bury in the middle:
        // stop here; reopening the log repairs the tail.
        this.#damaged = true;
        this.#fd = undefined;
        closeSync(fd);
      }
      throw err;
    }
  }
}

/** `new JsonlAuditSink(opts)` for callers that prefer to await opening. */
export async function openJsonlAuditSink(opts: JsonlAuditSinkOptions): Promise<JsonlAuditSink> {
  return new JsonlAuditSink(opts);
}

/**
 * Walks every file in order and checks the whole chain across them. A gap in the file numbers,
 * a line that does not parse, a broken link or hash, or a torn line anywhere but at the very end
 * of the last file (a write in progress, or cut short by a crash) fails. A missing or empty
 * directory is a valid, empty log.
 */
export async function verifyAuditLog(dir: string): Promise<AuditVerification> {
  let head = EMPTY_CHAIN;
  let records = 0;
  const files = listAuditFiles(dir);
  for (let i = 0; i < files.length; i++) {
    const { name, number } = files[i]!;
    const fail = (reason: string): AuditVerification => ({
      valid: false,
      records,
      brokenAtSeq: head.seq + 1,
      file: name,
      reason,
    });
    if (number !== i + 1) return { ...fail(`${fileName(i + 1)} is missing`), file: fileName(i + 1) };
    const isLast = i === files.length - 1;
    let lineNo = 0;
    for await (const line of readLines(join(dir, name))) {
      lineNo++;
      if (!line.complete) {
        if (isLast) break;
        return fail(`line ${lineNo} is torn`);
      }
      let record: AuditRecord;
      try {
        record = parseAuditLine(line.text);
      } catch (err) {
        if (err instanceof ValidationError) return fail(`line ${lineNo} does not parse: ${err.message}`);
        throw err;
      }
      const check = verifyAuditRecords([record], head);
      if (!check.valid) return fail(`line ${lineNo}: ${check.reason}`);
      head = check.head;
      records++;
    }
  }
  return { valid: true, records };
}

/**
 * Every record of the log in order, for summaries: parsed, not verified (see `verifyAuditLog`).
 * A torn line at the very end (a write in progress) is skipped; anything else that does not
 * parse throws a ValidationError naming the file and line.
 */
export async function* readAuditLog(dir: string): AsyncIterable<AuditRecord> {
  const files = listAuditFiles(dir);
  for (let i = 0; i < files.length; i++) {
    const { name } = files[i]!;
    let lineNo = 0;
    for await (const line of readLines(join(dir, name))) {
      lineNo++;
      if (!line.complete) {
        if (i === files.length - 1) return;
        throw new ValidationError([{ path: `${name}:${lineNo}`, message: 'is torn' }]);
      }
      yield parseLineOf(name, lineNo, line.text);
    }
  }
}

/** parseAuditLine, with the file and line in every issue's path. */
function parseLineOf(name: string, lineNo: number, text: string): AuditRecord {
  try {
    return parseAuditLine(text);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const issues = err.issues.map((issue) => ({ ...issue, path: `${name}:${lineNo}.${issue.path}` }));
    throw new ValidationError(issues, { cause: err });
  }
}

interface OpenedLog {
  readonly fd: number;
  readonly fileNumber: number;
  readonly size: number;
  readonly head: ChainHead;
}

/** Opens the last file for append, cutting off a torn tail, and finds the chain head. */
function openLog(dir: string): OpenedLog {
  makePrivateDir(dir);
  const files = listAuditFiles(dir);
  const fileNumber = files.at(-1)?.number ?? 1;
  const fd = openPrivateFile(join(dir, fileName(fileNumber)), 'a+');
  try {
    const lastNewline = lastNewlineBefore(fd, fstatSync(fd).size);
    const size = lastNewline + 1;
    // Bytes after the last newline are a write a crash cut short; its append never resolved.
    if (size < fstatSync(fd).size) ftruncateSync(fd, size);
    let head = size > 0 ? lastRecordHead(fd, lastNewline, fileName(fileNumber)) : undefined;
    // The last file is empty only right after a rotation: the head is in an earlier file.
    for (let i = files.length - 2; head === undefined && i >= 0; i--) {
      head = headOfFile(join(dir, files[i]!.name), files[i]!.name);
    }
    return { fd, fileNumber, size, head: head ?? EMPTY_CHAIN };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

function headOfFile(path: string, name: string): ChainHead | undefined {
  const fd = openSync(path, 'r');
  try {
    const lastNewline = lastNewlineBefore(fd, fstatSync(fd).size);
    return lastNewline < 0 ? undefined : lastRecordHead(fd, lastNewline, name);
  } finally {
    closeSync(fd);
  }
}

/** The head from the complete line that ends at `lastNewline`. */
function lastRecordHead(fd: number, lastNewline: number, name: string): ChainHead {
  const start = lastNewlineBefore(fd, lastNewline) + 1;
  const bytes = Buffer.alloc(lastNewline - start);
  readSync(fd, bytes, 0, bytes.length, start);
  try {
    const record = parseAuditLine(bytes.toString('utf8'));
    return { seq: record.seq, hash: record.hash };
  } catch (err) {
    // Extending a chain from a head we cannot read would hide the damage; `audit verify` shows it.
    throw new StoreUnavailableError(`the last record of ${name} is unreadable; the log needs verifying`, {
      cause: err,
    });
  }
}

/** Position of the last newline strictly before `before`, or -1; reads backwards in chunks. */
function lastNewlineBefore(fd: number, before: number): number {
  const buf = Buffer.allocUnsafe(TAIL_CHUNK);
  let end = before;
  while (end > 0) {
    const start = Math.max(0, end - TAIL_CHUNK);
    const n = readSync(fd, buf, 0, end - start, start);
    const i = buf.subarray(0, n).lastIndexOf(NEWLINE);
    if (i >= 0) return start + i;
    end = start;
  }
  return -1;
}

interface AuditFile {
  readonly name: string;
  readonly number: number;
}

/** The log's files in number order; none when the directory does not exist. */
function listAuditFiles(dir: string): AuditFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const files: AuditFile[] = [];
  for (const name of names) {
    const m = FILE_PATTERN.exec(name);
    if (m !== null) files.push({ name, number: Number(m[1]) });
  }
  return files.sort((a, b) => a.number - b.number);
}

function fileName(n: number): string {
  return `audit-${String(n).padStart(6, '0')}.jsonl`;
}

interface Line {
  readonly text: string;
  /** False for trailing bytes without a newline. */
  readonly complete: boolean;
}

async function* readLines(path: string): AsyncGenerator<Line> {
  let rest = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    rest += chunk as string;
    let start = 0;
    for (let nl = rest.indexOf('\n'); nl !== -1; nl = rest.indexOf('\n', start)) {
      yield { text: rest.slice(start, nl), complete: true };
      start = nl + 1;
    }
    rest = rest.slice(start);
  }
  if (rest.length > 0) yield { text: rest, complete: false };
}

import { spawn } from 'node:child_process';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonlAuditSink, readAuditLog, verifyAuditLog } from '../../src/adapters/embedded/audit-log.ts';
import type { AuditEntry, AuditRecord } from '../../src/domain/audit-types.ts';
import { ClosedError, StoreUnavailableError } from '../../src/domain/errors.ts';
import { Outcome } from '../../src/domain/types.ts';

function entry(i: number): AuditEntry {
  return {
    at: 1_700_000_000_000 + i,
    tenantId: 'tenant-1',
    userId: `user-${i}`,
    channel: 'email',
    notificationId: `01HF7YAT0062QBZN3ZRXDW${String(i).padStart(4, '0')}`,
    eventId: `event-${i}`,
    outcome: Outcome.Sent,
    target: '0123456789abcdef',
    attempt: 1,
  };
}

function entries(from: number, count: number): AuditEntry[] {
  return Array.from({ length: count }, (_, i) => entry(from + i));
}

async function all(dir: string): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  for await (const record of readAuditLog(dir)) records.push(record);
  return records;
}

function files(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .sort();
}

/** Rewrites line `lineIndex` (0-based) of a file with `change`. */
function editLine(path: string, lineIndex: number, change: (line: string) => string): void {
  const lines = readFileSync(path, 'utf8').split('\n');
  lines[lineIndex] = change(lines[lineIndex]!);
  writeFileSync(path, lines.join('\n'));
}

describe('JsonlAuditSink', () => {
  let dir: string;
  const open: JsonlAuditSink[] = [];
  const openSink = (maxFileBytes?: number): JsonlAuditSink => {
    const sink = new JsonlAuditSink({ dir, ...(maxFileBytes === undefined ? {} : { maxFileBytes }) });
    open.push(sink);
    return sink;
  };

  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'fanout-audit-')), 'log');
  });
  afterEach(() => {
    for (const sink of open.splice(0)) sink.close();
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });

  it('creates its directory and writes a chain that verifies', async () => {
    // Prepare
    const sink = openSink();
    // Act
    await sink.append(entries(1, 10));
    await sink.append(entries(11, 5));
    // Assess
    expect(files(dir)).toEqual(['audit-000001.jsonl']);
    expect(await verifyAuditLog(dir)).toEqual({ valid: true, records: 15 });
    expect((await all(dir)).map((r) => r.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
  });

  it('continues the chain after reopening', async () => {
    // Prepare
    const first = openSink();
    await first.append(entries(1, 4));
    const head = first.head;
    first.close();
    // Act
    const second = openSink();
    await second.append(entries(5, 3));
    // Assess
    expect(second.head.seq).toBe(7);
    const records = await all(dir);
    expect(records[4]!.prev).toBe(head.hash);
    expect(await verifyAuditLog(dir)).toEqual({ valid: true, records: 7 });
  });

  it('cuts off a torn final line on open, then extends the chain from the last whole record', async () => {
    // Prepare: a crash in the middle of a write left half a line
    const sink = openSink();
    await sink.append(entries(1, 3));
    sink.close();
    const path = join(dir, 'audit-000001.jsonl');
    const sizeBefore = statSync(path).size;
    appendFileSync(path, '{"seq":4,"prev":"00');
    expect(await verifyAuditLog(dir)).toEqual({ valid: true, records: 3 });
    // Act
    const reopened = openSink();
    await reopened.append(entries(4, 2));
    // Assess
    expect(statSync(path).size).toBeGreaterThan(sizeBefore);
    expect(readFileSync(path, 'utf8')).not.toContain('"prev":"00{');
    expect(await verifyAuditLog(dir)).toEqual({ valid: true, records: 5 });
  });

  it('starts the next numbered file past maxFileBytes and keeps one chain across files', async () => {
    // Prepare
    const sink = openSink(4096);
    // Act
    for (let i = 0; i < 20; i++) await sink.append(entries(i * 3 + 1, 3));
    // Assess
    const names = files(dir);
    expect(names.length).toBeGreaterThan(2);
    expect(names.slice(0, 2)).toEqual(['audit-000001.jsonl', 'audit-000002.jsonl']);
    expect(sink.currentFile).toBe(names.at(-1));
    for (const name of names) expect(statSync(join(dir, name)).size).toBeLessThanOrEqual(4096);
    expect(await verifyAuditLog(dir)).toEqual({ valid: true, records: 60 });
  });

  it('never splits one append across files, even one larger than maxFileBytes', async () => {
    // Prepare
    const sink = openSink(512);
    await sink.append(entries(1, 1));
    // Act
    await sink.append(entries(2, 10));
    // Assess
    const names = files(dir);
    expect(names).toEqual(['audit-000001.jsonl', 'audit-000002.jsonl']);
    expect(readFileSync(join(dir, names[1]!), 'utf8').split('\n')).toHaveLength(11);
    expect(await verifyAuditLog(dir)).toEqual({ valid: true, records: 11 });
  });

  it('resumes from the previous file when a crash came right after a rotation', async () => {
    // Prepare: the newest file was created and nothing was written to it yet
    const sink = openSink(1024);
    for (let i = 0; i < 6; i++) await sink.append(entries(i * 3 + 1, 3));
    sink.close();
    const last = files(dir).at(-1)!;
    const next = `audit-${String(Number(last.slice(6, 12)) + 1).padStart(6, '0')}.jsonl`;
    writeFileSync(join(dir, next), '');
    // Act
    const reopened = openSink(1024);
    await reopened.append(entries(100, 1));
    // Assess
    expect(reopened.head.seq).toBe(19);
    expect(await verifyAuditLog(dir)).toEqual({ valid: true, records: 19 });
  });

  it('fails verification at the seq of a middle line whose byte was changed', async () => {
    // Prepare
    const sink = openSink();
    await sink.append(entries(1, 10));
    editLine(join(dir, 'audit-000001.jsonl'), 5, (line) => line.replace('user-6', 'user-7'));
    // Act
    const result = await verifyAuditLog(dir);
    // Assess
    expect(result).toMatchObject({ valid: false, records: 5, brokenAtSeq: 6, file: 'audit-000001.jsonl' });
    expect(result.reason).toContain('hash');
  });

  it('fails verification at a deleted line', async () => {
    // Prepare
    const sink = openSink();
    await sink.append(entries(1, 10));
    const path = join(dir, 'audit-000001.jsonl');
    const lines = readFileSync(path, 'utf8').split('\n');
    lines.splice(3, 1);
    writeFileSync(path, lines.join('\n'));
    // Act / Assess
    expect(await verifyAuditLog(dir)).toMatchObject({ valid: false, records: 3, brokenAtSeq: 4 });
  });

  it('fails verification when a whole file in the middle is missing', async () => {
    // Prepare
    const sink = openSink(1024);
    for (let i = 0; i < 20; i++) await sink.append(entries(i * 3 + 1, 3));
    const names = files(dir);
    const firstFileRecords = readFileSync(join(dir, names[0]!), 'utf8').split('\n').length - 1;
    unlinkSync(join(dir, names[1]!));
    // Act
    const result = await verifyAuditLog(dir);
    // Assess
    expect(result).toMatchObject({
      valid: false,
      records: firstFileRecords,
      brokenAtSeq: firstFileRecords + 1,
      file: names[1],
    });
  });

  it('fails verification when the first file is missing', async () => {
    // Prepare
    const sink = openSink(1024);
    for (let i = 0; i < 20; i++) await sink.append(entries(i * 3 + 1, 3));
    unlinkSync(join(dir, 'audit-000001.jsonl'));
    // Act / Assess
    expect(await verifyAuditLog(dir)).toMatchObject({ valid: false, records: 0, brokenAtSeq: 1 });
  });

  it('fails verification on a line that does not parse, and on a torn line before the end', async () => {
    // Prepare
    const sink = openSink(1024);
    for (let i = 0; i < 20; i++) await sink.append(entries(i * 3 + 1, 3));
    const names = files(dir);
    sink.close();
    const copy = readFileSync(join(dir, names[0]!), 'utf8');
    editLine(join(dir, names[0]!), 2, () => 'not json');
    // Act
    const unparsable = await verifyAuditLog(dir);
    writeFileSync(join(dir, names[0]!), copy.slice(0, -10));
    const torn = await verifyAuditLog(dir);
    // Assess
    expect(unparsable).toMatchObject({ valid: false, records: 2, brokenAtSeq: 3, file: names[0] });
    expect(unparsable.reason).toContain('does not parse');
    expect(torn).toMatchObject({ valid: false, file: names[0] });
    expect(torn.reason).toContain('torn');
  });

  it('treats a missing directory as an empty, valid log', async () => {
    // Act / Assess
    expect(await verifyAuditLog(join(dir, 'nothing-here'))).toEqual({ valid: true, records: 0 });
    expect(await all(join(dir, 'nothing-here'))).toEqual([]);
  });

  it('refuses to open a log whose last record is unreadable', async () => {
    // Prepare
    const sink = openSink();
    await sink.append(entries(1, 3));
    sink.close();
    editLine(join(dir, 'audit-000001.jsonl'), 2, () => '{"seq":"three"}');
    // Act / Assess
    expect(() => openSink()).toThrow(StoreUnavailableError);
  });

  it('leaves neither lines nor a moved head behind when an append fails', async () => {
    // Prepare: the next file's name is taken by a directory, so rotating fails
    const sink = openSink(512);
    await sink.append(entries(1, 1));
    const head = sink.head;
    mkdirSync(join(dir, 'audit-000002.jsonl'));
    // Act
    const failed = sink.append(entries(2, 3));
    // Assess
    await expect(failed).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(sink.head).toEqual(head);
    rmdirSync(join(dir, 'audit-000002.jsonl'));
    await sink.append(entries(2, 3));
    expect(await verifyAuditLog(dir)).toEqual({ valid: true, records: 4 });
  });

  it('rejects appends after close', async () => {
    // Prepare
    const sink = openSink();
    sink.close();
    // Act / Assess
    await expect(sink.append(entries(1, 1))).rejects.toBeInstanceOf(ClosedError);
  });

  it('loses no acknowledged record when the writing process is killed, and the chain goes on', async () => {
    // Prepare: a child appends batches and reports each resolved append
    const moduleUrl = new URL('../../src/adapters/embedded/audit-log.ts', import.meta.url).href;
    const script = `
      const { JsonlAuditSink } = await import(${JSON.stringify(moduleUrl)});
      const sink = new JsonlAuditSink({ dir: process.argv[1], maxFileBytes: 64 * 1024 });
      for (let i = 1; ; i++) {
        const batch = Array.from({ length: 7 }, (_, j) => ({
          at: 1700000000000 + i, tenantId: 't', userId: 'u' + j, channel: 'push',
          notificationId: 'n' + i + '-' + j, eventId: 'e' + i, outcome: 'sent',
        }));
        await sink.append(batch);
        process.stdout.write('acked ' + sink.head.seq + '\\n');
      }`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let acked = 0;
    // Act: kill it mid-stream once it has acknowledged a few files' worth
    for await (const line of createInterface({ input: child.stdout! })) {
      acked = Number(line.split(' ')[1]);
      if (acked >= 3000) {
        child.kill('SIGKILL');
        break;
      }
    }
    await new Promise((resolve) => child.once('exit', resolve));
    const sink = openSink(64 * 1024);
    await sink.append(entries(1, 2));
    // Assess
    const result = await verifyAuditLog(dir);
    expect(result.valid).toBe(true);
    expect(result.records).toBeGreaterThanOrEqual(acked + 2);
    expect(files(dir).length).toBeGreaterThan(1);
  });
});

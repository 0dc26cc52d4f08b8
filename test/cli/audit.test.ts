import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFanout, smallDemoArgs, tempDir } from './run-fanout.ts';

/** The audit files of a data dir, in chain order. */
function auditFiles(dataDir: string): string[] {
  const dir = join(dataDir, 'audit');
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .map((name) => join(dir, name));
}

/** A copy of the demo's data dir to tamper with, and the middle line of its first audit file. */
function tamperable(source: string): { dir: string; file: string; lines: string[]; middle: number } {
  const dir = tempDir('audit-tampered');
  cpSync(source, dir, { recursive: true });
  const file = auditFiles(dir)[0]!;
  const lines = readFileSync(file, 'utf8').split('\n');
  return { dir, file, lines, middle: Math.floor((lines.length - 1) / 2) };
}

function seqOf(line: string): number {
  return (JSON.parse(line) as { seq: number }).seq;
}

describe('fanout audit verify', () => {
  const dataDir = tempDir('audit');
  const copies: string[] = [];

  beforeAll(async () => {
    const demo = await runFanout(smallDemoArgs(dataDir));
    expect(demo.code).toBe(0);
  });

  afterAll(() => {
    for (const dir of [dataDir, ...copies]) rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0 for the log a demo wrote, and counts its records', async () => {
    // Prepare: the demo in beforeAll
    // Act
    const result = await runFanout(['audit', 'verify', '--data-dir', dataDir, '--json']);
    // Assess
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { valid: boolean; records: number };
    expect(report.valid).toBe(true);
    expect(report.records).toBeGreaterThan(0);
  });

  it('exits 1 and names the seq when one byte of a middle record is flipped', async () => {
    // Prepare
    const { dir, file, lines, middle } = tamperable(dataDir);
    copies.push(dir);
    const line = lines[middle]!;
    const at = line.indexOf('"userId":"') + '"userId":"'.length;
    const flipped = line.slice(0, at) + (line[at] === 'u' ? 'v' : 'u') + line.slice(at + 1);
    lines[middle] = flipped;
    writeFileSync(file, lines.join('\n'));
    // Act
    const result = await runFanout(['audit', 'verify', '--data-dir', dir]);
    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`seq ${seqOf(line)}`);
  });

  it('exits 1 and names the seq of the missing record when a middle line is deleted', async () => {
    // Prepare
    const { dir, file, lines, middle } = tamperable(dataDir);
    copies.push(dir);
    const removed = lines.splice(middle, 1)[0]!;
    writeFileSync(file, lines.join('\n'));
    // Act
    const result = await runFanout(['audit', 'verify', '--data-dir', dir, '--json']);
    // Assess
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { valid: boolean; brokenAtSeq: number };
    expect(report.valid).toBe(false);
    expect(report.brokenAtSeq).toBe(seqOf(removed));
  });

  it('exits 1 when the data dir has no audit log', async () => {
    // Prepare
    const empty = tempDir('audit-empty');
    copies.push(empty);
    // Act
    const result = await runFanout(['audit', 'verify', '--data-dir', empty]);
    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no audit log');
  });

  it('is a usage error without the verify subcommand', async () => {
    // Prepare, Act
    const result = await runFanout(['audit', '--data-dir', dataDir]);
    // Assess
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain("expected 'verify'");
  });
});

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readOrCreateSecretFile } from '../../src/lib/secret-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'fanout-secret-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MODULE = new URL('../../src/lib/secret-file.ts', import.meta.url).href;

/** One process creating (or reading) `file`, printing what it got. */
function creator(file: string): Promise<string> {
  const script = `import { readOrCreateSecretFile } from ${JSON.stringify(MODULE)};
process.stdout.write(readOrCreateSecretFile(${JSON.stringify(file)}, () => 'x'.repeat(200000) + process.pid));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}`))));
  });
}

describe('readOrCreateSecretFile', () => {
  it('writes once, owner-only, and reads back what the first writer wrote', () => {
    // Act
    const file = join(dir, 'one');
    const first = readOrCreateSecretFile(file, () => 'first');
    const second = readOrCreateSecretFile(file, () => 'second');
    // Assess
    expect([first, second]).toEqual(['first', 'first']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('gives processes racing on a fresh file one whole value, never a half-written one', async () => {
    // Act: six processes write a 200 kB value each at once
    const file = join(dir, 'raced');
    const got = await Promise.all(Array.from({ length: 6 }, () => creator(file)));
    // Assess
    expect(new Set(got).size).toBe(1);
    expect(got[0]).toMatch(/^x{200000}\d+$/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

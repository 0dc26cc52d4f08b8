import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const DB_MODULE = fileURLToPath(new URL('../../src/adapters/embedded/db.ts', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Opens `path` in a process of its own, as `fanout serve` and `fanout work` each do; its exit code and stderr. */
function openInAnotherProcess(path: string): Promise<{ code: number | null; stderr: string }> {
  const script = `const { EmbeddedDb } = await import(${JSON.stringify(DB_MODULE)});
const db = new EmbeddedDb({ path: ${JSON.stringify(path)} });
db.sqlite.exec('CREATE TABLE IF NOT EXISTS t (a INTEGER)');
db.sqlite.close();`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('EmbeddedDb opened by several processes at once', { timeout: 120_000 }, () => {
  it('opens a fresh data file in every one of them: none fails with "database is locked"', async () => {
    // Prepare: fresh files, four processes each (the README's `npm start & npm run fanout -- work`)
    const paths = Array.from({ length: 25 }, () => {
      const dir = mkdtempSync(join(tmpdir(), 'fanout-db-open-'));
      dirs.push(dir);
      return join(dir, 'fanout.db');
    });
    // Act
    const results = [];
    for (const path of paths) {
      results.push(...(await Promise.all([1, 2, 3, 4].map(() => openInAnotherProcess(path)))));
    }
    // Assess
    expect(results.filter((r) => r.code !== 0).map((r) => r.stderr)).toEqual([]);
  });
});

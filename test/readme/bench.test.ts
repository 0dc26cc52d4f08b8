import { afterAll, describe, expect, it } from 'vitest';
import { readmeCommands, removeTempDirs, run, stopAll } from './support.ts';

afterAll(async () => {
  await stopAll();
  removeTempDirs();
});

/** Every `npm run bench -- NAME` the README shows. */
const BENCHES = readmeCommands()
  .map((c) => c.match(/^npm run bench -- (\S+)$/)?.[1])
  .filter((name): name is string => name !== undefined);

// aws-cost starts the emulators and runs three demos even at its tiny size.
describe('README: every benchmark, at its tiny size', { timeout: 600_000 }, () => {
  it('shows every benchmark', () => {
    expect(BENCHES.sort()).toEqual([
      'aggregate',
      'aws-cost',
      'capacity',
      'chaos',
      'e2e',
      'fanout',
      'http',
      'inbox-read',
      'peer',
      'pipeline',
      'push',
    ]);
  });

  it('npm run bench -- capacity --json prints one JSON object', async () => {
    // Act
    const result = await run('npm run bench -- capacity --json');
    // Assess
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { name: string };
    expect(json.name).toBe('capacity');
  });

  for (const name of BENCHES) {
    it(`npm run bench -- ${name} --tiny prints its figures`, async () => {
      // Act
      const result = await run(`npm run bench -- ${name} --tiny`);
      // Assess
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(name);
      // Some figure line: a name, then a number.
      expect(result.stdout).toMatch(/\S+\s+-?[\d,]+(\.\d+)?/);
    });
  }
});

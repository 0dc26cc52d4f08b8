import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runFanout, tempDir } from './run-fanout.ts';

const LIKES = 4000;

describe('fanout demo --viral', { timeout: 300_000 }, () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const dataDir = () => {
    const dir = tempDir('viral');
    dirs.push(dir);
    return dir;
  };

  it("leaves the post's owner one item whose actor count is exactly the distinct likers", async () => {
    // Prepare: 4,000 likers, 40 exact re-sends and 20 repeat likes by the same likers
    const dir = dataDir();
    // Act
    const result = await runFanout([
      'demo',
      '--json',
      '--scale',
      'tiny',
      '--viral',
      String(LIKES),
      '--data-dir',
      dir,
      '--at',
      '2026-01-15T03:07:30Z',
    ]);
    // Assess
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary.viral).toMatchObject({ likes: LIKES, ownerItems: 1, actorCount: LIKES });
    // Every like and repeat like is a push job for the owner (re-sends are not). The storm takes
    // seconds from 03:07:30, inside one 5-minute digest window (03:05–03:10): the first like
    // pushes, every other one is folded into the window's flush, still delayed when the demo ends.
    expect(summary.viral.ownerPush.jobs).toBe(LIKES + LIKES / 200);
    expect(summary.viral.ownerPush.sent).toBe(1);
    expect(summary.viral.ownerPush.digested).toBe(summary.viral.ownerPush.jobs - 1);
    expect(summary.delayed.push).toBeGreaterThanOrEqual(1);
    expect(summary.transportDuplicates).toBe(0);
    expect(summary.auditChainValid).toBe(true);
  });

  it('prints the storm in the table, and nothing about it without --viral', async () => {
    // Act
    const [storm, calm] = await Promise.all([
      runFanout(['demo', '--scale', 'tiny', '--viral', '300', '--data-dir', dataDir()]),
      runFanout(['demo', '--scale', 'tiny', '--data-dir', dataDir()]),
    ]);
    // Assess
    expect(storm.code, storm.stderr).toBe(0);
    expect(storm.stdout).toMatch(/like storm on one post of u\d+/);
    expect(storm.stdout).toMatch(/owner items\s+1\s+one item, 300 actors: exact/);
    expect(calm.code, calm.stderr).toBe(0);
    expect(calm.stdout).not.toContain('like storm');
  });

  it('refuses a --viral that is not an integer from 0 to 1,000,000, changing nothing', async () => {
    // Prepare
    const dir = dataDir();
    // Act
    const results = await Promise.all(
      ['-1', 'lots', '1000001'].map((n) => runFanout(['demo', `--viral=${n}`, '--data-dir', dir])),
    );
    // Assess
    for (const result of results) {
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('--viral must be an integer from 0 to 1000000');
    }
  });
});

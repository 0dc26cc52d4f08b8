import { afterAll, describe, expect, it } from 'vitest';
import { removeTempDirs, run, stopAll, tempDir } from './support.ts';

afterAll(async () => {
  await stopAll();
  removeTempDirs();
});

/** The demo at its tiny scale (seconds); `--scale small` on the command line still wins. */
const TINY = { FANOUT_DEMO_SCALE: 'tiny', FANOUT_CELEBRITY_THRESHOLD: '1000' };

describe('README: try it', () => {
  it('npm run fanout -- demo prints the summary table and the next commands', async () => {
    // Prepare
    const env = { ...TINY, FANOUT_DATA_DIR: tempDir('demo') };
    // Act
    const result = await run('npm run fanout -- demo', env);
    // Assess
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Fanout demo, tenant demo');
    expect(result.stdout).toMatch(/inbox rows\s+[\d,]+/);
    expect(result.stdout).toContain('chain valid');
    expect(result.stdout).toContain('npm run fanout -- audit verify');
  });

  it('demo --json, then audit verify, dlq list push and dlq redrive push on its data dir', async () => {
    // Prepare
    const env = { ...TINY, FANOUT_DATA_DIR: tempDir('demo-json') };
    // Act
    const demo = await run('npm run fanout -- demo --json', env);
    const audit = await run('npm run fanout -- audit verify', env);
    const list = await run('npm run fanout -- dlq list push', env);
    const redrive = await run('npm run fanout -- dlq redrive push', env);
    const after = await run('npm run fanout -- dlq list push', env);
    // Assess
    expect(demo.code, demo.stderr).toBe(0);
    const summary = JSON.parse(demo.stdout.slice(demo.stdout.indexOf('{'))) as {
      events: number;
      push: { sent: number };
      deadLetterQueue: { push: number };
      transportDuplicates: number;
      auditRecords: number;
    };
    expect(summary.events).toBeGreaterThan(0);
    expect(summary.push.sent).toBeGreaterThan(0);
    expect(summary.transportDuplicates).toBe(0);
    expect(audit.code, audit.stderr).toBe(0);
    expect(audit.stdout).toMatch(/audit chain valid: [\d,]+ records/);
    expect(list.code).toBe(0);
    const dead = summary.deadLetterQueue.push;
    if (dead === 0) expect(list.stdout).toContain('no dead letters in the push queue');
    else expect(list.stdout.match(/^\S+\s+\d+\s+\d{4}-/gm)).toHaveLength(dead);
    expect(redrive.code).toBe(0);
    expect(redrive.stdout).toContain(`redrove ${dead} dead letter${dead === 1 ? '' : 's'} to the push queue`);
    expect(after.stdout).toContain('no dead letters in the push queue');
  });

  it('npm run fanout -- demo --scale small runs the small scenario', async () => {
    // Prepare
    const env = { ...TINY, FANOUT_DATA_DIR: tempDir('demo-small') };
    // Act
    const result = await run('npm run fanout -- demo --scale small', env);
    // Assess
    expect(result.code, result.stderr).toBe(0);
    // The small scenario: 150 authors' posts, 200 more events and 3 celebrity posts (tiny: 122).
    expect(result.stdout).toMatch(/^events\s+353 /m);
  });
});

import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { durableTotals, type FanoutResult, runFanout, smallDemoArgs, tempDir } from './run-fanout.ts';

const CHANNEL_FIELDS = [
  'jobs',
  'sent',
  'suppressedQuietHours',
  'suppressedNoConsent',
  'duplicate',
  'failed',
  'deadLettered',
] as const;

describe('fanout demo', () => {
  const dataDir = tempDir('demo');
  let first: FanoutResult;
  let summary: Record<string, unknown>;

  beforeAll(async () => {
    first = await runFanout(smallDemoArgs(dataDir));
    summary = JSON.parse(first.stdout) as Record<string, unknown>;
  });

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints one JSON object with every total, and nothing but it on stdout', () => {
    // Prepare: the run in beforeAll
    // Act
    const lines = first.stdout.trim().split('\n');
    // Assess
    expect(first.code).toBe(0);
    expect(lines).toHaveLength(1);
    for (const field of [
      'events',
      'inboxRows',
      'celebrityPointers',
      'transportDuplicates',
      'auditRecords',
      'auditChainValid',
      'elapsedMs',
    ]) {
      expect(summary, field).toHaveProperty(field);
    }
    for (const channel of ['push', 'email']) {
      for (const field of CHANNEL_FIELDS) {
        expect(typeof (summary[channel] as Record<string, unknown>)[field], `${channel}.${field}`).toBe(
          'number',
        );
      }
    }
  });

  it('fans out to inboxes and a celebrity pointer, and delivers with every kind of outcome', () => {
    // Prepare
    const push = summary.push as Record<(typeof CHANNEL_FIELDS)[number], number>;
    // Act: the run in beforeAll
    // Assess
    expect(summary.inboxRows).toBeGreaterThan(0);
    expect(summary.celebrityPointers).toBeGreaterThanOrEqual(1);
    expect(push.sent).toBeGreaterThan(0);
    expect(push.suppressedNoConsent).toBeGreaterThan(0);
    expect(push.suppressedQuietHours).toBeGreaterThan(0);
    expect(push.failed).toBeGreaterThan(0);
    expect(summary.transportDuplicates).toBe(0);
    expect(summary.auditChainValid).toBe(true);
    expect(summary.auditRecords).toBeGreaterThan(push.sent);
  });

  it('ends with the same totals when run again on the same data dir, and fans out nothing new', async () => {
    // Prepare: the first run's totals
    const before = durableTotals(summary);
    // Act
    const again = await runFanout(smallDemoArgs(dataDir));
    // Assess
    expect(again.code).toBe(0);
    const second = JSON.parse(again.stdout) as Record<string, unknown>;
    expect(second.eventsAppended).toBe(0);
    expect(durableTotals(second)).toEqual(before);
    expect(second.auditRecords).toBe(summary.auditRecords);
    expect(second.transportDuplicates).toBe(0);
  });

  it('prints a table for people without --json', async () => {
    // Prepare: the same data dir, already drained
    // Act
    const result = await runFanout(smallDemoArgs(dataDir).filter((a) => a !== '--json'));
    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('celebrity pointers');
    expect(result.stdout).toContain('chain valid');
  });

  it('refuses an unknown scale with exit 2, a message on stderr and nothing on stdout', async () => {
    // Prepare
    const args = ['demo', '--scale', 'huge', '--data-dir', dataDir];
    // Act
    const result = await runFanout(args);
    // Assess
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('--scale');
  });

  it('refuses a --users that is not an integer of at least 10, changing nothing', async () => {
    // Prepare
    const tooFew = ['demo', '--users', '5', '--data-dir', dataDir];
    const notANumber = ['demo', '--users', 'many', '--data-dir', dataDir];
    // Act
    const results = await Promise.all([runFanout(tooFew), runFanout(notANumber)]);
    // Assess
    for (const result of results) {
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain('--users must be an integer from 10');
    }
  });

  it('refuses an --at without a time zone, and an unknown flag', async () => {
    // Prepare
    const noZone = ['demo', '--at', '2026-01-15T03:07:30', '--data-dir', dataDir];
    const unknown = ['demo', '--colour', '--data-dir', dataDir];
    // Act
    const results = await Promise.all([runFanout(noZone), runFanout(unknown)]);
    // Assess
    for (const result of results) {
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
    }
    expect(results[0]!.stderr).toContain('--at');
  });

  it('refuses a data dir seeded with another seed', async () => {
    // Prepare
    const args = [...smallDemoArgs(dataDir), '--seed', '7'];
    // Act
    const result = await runFanout(args);
    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('another scale or seed');
  });

  it('prints help for the command on --help, and exits 0', async () => {
    // Prepare, Act
    const result = await runFanout(['demo', '--help']);
    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: fanout demo');
    expect(result.stdout).toContain('--data-dir');
  });

  it('refuses an unknown command with exit 2', async () => {
    // Prepare, Act
    const result = await runFanout(['frobnicate']);
    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown command 'frobnicate'");
  });
});

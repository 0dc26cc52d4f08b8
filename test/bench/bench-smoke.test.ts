import { spawnSync } from 'node:child_process';
import { describe, expect, inject, it } from 'vitest';
import { e2eBench, TINY_E2E } from '../../bench/e2e.ts';
import { fanoutBench } from '../../bench/fanout.ts';
import { httpBench } from '../../bench/http.ts';
import { inboxReadBench } from '../../bench/inbox-read.ts';
import { peerBench } from '../../bench/peer.ts';
import { pipelineBench } from '../../bench/pipeline.ts';
import { costByFile } from '../../bench/profile.ts';
import { pushBench } from '../../bench/push.ts';
import {
  type BenchReport,
  checkGoals,
  median,
  percentile,
  reportJson,
  reportTable,
} from '../../bench/support.ts';

/** The JSON a benchmark prints with --json, parsed back. */
function printed(report: BenchReport): Record<string, unknown> {
  const text = reportJson(report);
  expect(text).not.toContain('\n');
  return JSON.parse(text) as Record<string, unknown>;
}

function expectPositiveFigures(json: Record<string, unknown>, figures: readonly string[]): void {
  for (const figure of figures) {
    const value = json[figure];
    expect(typeof value, figure).toBe('number');
    expect(Number.isFinite(value) && (value as number) > 0, `${figure} = ${value}`).toBe(true);
  }
}

describe('benchmarks at a tiny size', () => {
  it('fanout prints the inbox write rate, the raw insert rate and their ratio', async () => {
    // Act
    const report = await fanoutBench({
      followers: 50,
      eventsPerRun: 2,
      runs: 2,
      warmupRuns: 1,
      pageSize: 20,
    });
    // Assess
    const json = printed(report);
    expect(json.name).toBe('fanout');
    expectPositiveFigures(json, ['inboxWritesPerSec', 'rawInsertsPerSec', 'ratio']);
    // What the stores hold afterwards: a row and a push job per follower per event (3 runs of 2
    // events to 50 followers, warm-up included), and no celebrity pointer.
    expect(report.settings).toMatchObject({
      inboxRowsWritten: 300,
      pushJobsQueued: 300,
      celebrityPointersWritten: 0,
    });
  });

  it('pipeline prints deliveries per second with its batch size and concurrency', async () => {
    // Act
    const report = await pipelineBench({ users: 30, jobs: 90, batchSize: 16, concurrency: 2, profile: true });
    // Assess
    const json = printed(report);
    expect(json.name).toBe('pipeline');
    expectPositiveFigures(json, ['deliveriesPerSec']);
    expect(json.settings).toMatchObject({ batchSize: 16, concurrency: 2, sends: 90, duplicateSends: 0 });
    // The profile's table by file: which files a tiny run's few samples land in varies, so only
    // its shape is checked (a named file in it was a flaky assertion on a busy machine).
    const notes = report.notes?.join('\n') ?? '';
    expect(notes).toContain('Main-thread time of the measured span by file');
    expect(notes).toMatch(/^\S+\.ts\s+\d+\s+\d+\.\d%$/m);
  });

  it("peer prints our rate, the BullMQ peer's rate on Redis and their ratio, with the setting it chose", async () => {
    // Act: the test run's Redis; a sweep of two settings, then one round of each side
    const report = await peerBench({
      redisUrl: inject('awsEndpoints').redis,
      users: 30,
      jobs: 90,
      rounds: 1,
      concurrencies: [2, 4],
      workerCounts: [1],
      sweepJobs: 40,
      bulkSize: 16,
      ours: { batchSize: 16, concurrency: 2 },
    });
    // Assess
    const json = printed(report);
    expect(json.name).toBe('peer');
    expectPositiveFigures(json, ['oursDeliveriesPerSec', 'peerDeliveriesPerSec', 'ratio']);
    expect(report.goals).toEqual([{ figure: 'ratio', op: '>=', value: 4 }]);
    expect(json.settings).toMatchObject({
      users: 30,
      jobs: 90,
      rounds: 1,
      peerWorkers: 1,
      oursBatchSize: 16,
    });
    expect([2, 4]).toContain(report.settings.peerConcurrency);
    expect(report.notes?.join('\n')).toMatch(/concurrency +4:/);
  });

  it('http prints ingest and inbox requests per second and latencies, with no failed request', async () => {
    // Act: the real server, a few connections for a second per route
    const report = await httpBench({ connections: 2, seconds: 1, inboxRows: 3 });
    // Assess
    const json = printed(report);
    expect(json.name).toBe('http');
    expectPositiveFigures(json, ['ingestRequestsPerSec', 'inboxRequestsPerSec', 'splitIngestRequestsPerSec']);
    // Latencies are whole milliseconds from autocannon: a fast loopback run may well measure 0.
    for (const figure of ['ingestP99Ms', 'inboxP99Ms']) expect(json[figure]).toBeGreaterThanOrEqual(0);
    expect(json.settings).toMatchObject({
      ingestNon2xx: 0,
      ingestErrors: 0,
      inboxNon2xx: 0,
      inboxErrors: 0,
      splitIngestNon2xx: 0,
      splitIngestErrors: 0,
    });
  });

  it("e2e prints the time from a post's 202 to its last push and last inbox row, with the load it ran under", async () => {
    // Act: the real server, a 50-follower author posting three times over 50 background events/s
    const report = await e2eBench(TINY_E2E);
    // Assess
    const json = printed(report);
    expect(json.name).toBe('e2e');
    expectPositiveFigures(json, ['backgroundEventsPerSec']);
    if (process.platform === 'linux') expectPositiveFigures(json, ['serverPeakRssMiB']);
    // Times are whole milliseconds from two processes' clocks: a tiny post can finish within one.
    for (const figure of ['lastPush', 'lastInboxRow']) {
      for (const at of ['P50Ms', 'P99Ms', 'MaxMs'])
        expect(typeof json[`${figure}${at}`], `${figure}${at}`).toBe('number');
      expect(json[`${figure}P99Ms`] as number).toBeGreaterThanOrEqual(json[`${figure}P50Ms`] as number);
    }
    // Every post was accepted and reached every follower, by push once and by inbox row.
    expect(json.settings).toMatchObject({
      followers: 50,
      postsAccepted: 3,
      postsRefused: 0,
      postsWithEveryPush: 3,
      postsWithEveryInboxRow: 3,
      pushResends: 0,
      backgroundNon2xx: 0,
      backgroundErrors: 0,
      celebrityThreshold: 10_000,
    });
    expect(report.goals).toEqual([{ figure: 'lastPushP99Ms', op: '<', value: 2000 }]);
  });

  it('e2e refuses an author big enough to be a celebrity, whose posts would push nothing to measure', async () => {
    await expect(e2eBench({ followers: 10_000 })).rejects.toThrow(RangeError);
  });

  it('inbox-read prints page and count latency per number of celebrities followed, and the catch-up', async () => {
    // Act
    const report = await inboxReadBench({
      rows: 120,
      celebrities: [3, 6],
      pointersPerCelebrity: 5,
      iterations: 20,
      warmup: 4,
      maxDepth: 4,
    });
    // Assess
    const json = printed(report);
    expect(json.name).toBe('inbox-read');
    expectPositiveFigures(json, [
      'pageP50MsAt3',
      'pageP99MsAt3',
      'countP99MsAt3',
      'pageP99MsAt6',
      'countP99MsAt6',
      'pageP99Ratio',
      'countP99Ratio',
      'catchUpMsAt6',
    ]);
    expect(json.catchUpPointersAt3).toBe(15);
    expect(json.catchUpPointersAt6).toBe(30);
    expect(json.pageP99MsAt6 as number).toBeGreaterThanOrEqual(json.pageP50MsAt6 as number);
    expect(report.goals.map((g) => g.figure)).toContain('pageP99MsAt6');
  });
  it("push prints both APNs clients' rates and memory, and what the faults pass left of each", async () => {
    // Act: both clients in their own processes against the fake APNs, one round, 100 notifications
    const report = await pushBench({ notifications: 100, window: 20, rounds: 1, warmup: 10 });
    // Assess
    const json = printed(report);
    expect(json.name).toBe('push');
    expectPositiveFigures(json, [
      'oursPerSec',
      'nodeApnPerSec',
      'throughputRatio',
      'oursPeakRssMiB',
      'nodeApnPeakRssMiB',
      'memoryRatio',
      'oursCpuUsPerNotification',
      'nodeApnCpuUsPerNotification',
    ]);
    expect(report.goals).toEqual([{ figure: 'throughputRatio', op: '>=', value: 1 }]);
    expect(json.settings).toMatchObject({ notifications: 100, window: 20, oursConnections: 2 });
    expect(report.settings.node).toBe(process.version);
    // 2 of the 100 tokens answer 410 and 2 answer 429 once: ours retries the 429s and reports the 410s.
    expect(report.settings).toMatchObject({
      faultsOursDelivered: 98,
      faultsOursDeadReported: 2,
      faultsOursRetryLater: 0,
      faultsOursLost: 0,
      faultsNodeApnDeadReported: 2,
    });
    const s = report.settings as Record<string, number>;
    expect(s.faultsNodeApnDelivered! + s.faultsNodeApnDeadReported! + s.faultsNodeApnLost!).toBe(100);
  });
});

describe('benchmark reporting', () => {
  const report: BenchReport = {
    name: 'example',
    figures: { rate: 10, latencyMs: 7 },
    settings: { size: 3 },
    goals: [
      { figure: 'rate', op: '>=', value: 20 },
      { figure: 'latencyMs', op: '<', value: 9 },
    ],
  };

  it('shows a missed goal beside the figure without failing', () => {
    // Act
    const checks = checkGoals(report);
    const table = reportTable(report);
    // Assess
    expect(checks.map((c) => [c.figure, c.met])).toEqual([
      ['rate', false],
      ['latencyMs', true],
    ]);
    expect(table).toMatch(/rate\s+10\.0\s+>= 20\.0\s+NOT met/);
    expect(table).toMatch(/latencyMs\s+7\.000\s+< 9\.000\s+met/);
  });

  it('meets an == goal only on the exact value', () => {
    // Act
    const checks = checkGoals({
      ...report,
      goals: [
        { figure: 'rate', op: '==', value: 10 },
        { figure: 'latencyMs', op: '==', value: 6 },
      ],
    });
    // Assess
    expect(checks.map((c) => c.met)).toEqual([true, false]);
    expect(reportTable({ ...report, goals: checks })).toMatch(/rate\s+10\.0\s+== 10\.0\s+met/);
  });

  it('counts a goal on a figure the run did not produce as not met', () => {
    // Act
    const [check] = checkGoals({ ...report, goals: [{ figure: 'missing', op: '>=', value: 1 }] });
    // Assess
    expect(check?.met).toBe(false);
  });

  it('takes medians and nearest-rank percentiles, and refuses empty samples', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(() => median([])).toThrow(RangeError);
    expect(() => percentile([], 50)).toThrow(RangeError);
  });

  it('charges native and runtime time to the project file that called it', () => {
    // Prepare: deliver.ts → db.ts (a pass-through helper) → native; and an idle sample.
    const frame = (url: string) => ({ functionName: 'f', url });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame(''), children: [2, 5] },
        { id: 2, callFrame: frame('file:///app/src/handlers/deliver.ts'), children: [3] },
        { id: 3, callFrame: frame('file:///app/src/adapters/embedded/db.ts'), children: [4] },
        { id: 4, callFrame: frame('node:internal/crypto/hash') },
        { id: 5, callFrame: frame('') },
      ],
      samples: [4, 4, 2, 5],
      timeDeltas: [1000, 1000, 1000, 1000],
    };
    // Act
    const costs = costByFile(profile);
    // Assess
    expect(costs).toEqual([
      { file: 'src/handlers/deliver.ts', ms: 3, share: 0.75 },
      { file: '(runtime, gc, idle)', ms: 1, share: 0.25 },
    ]);
  });
});

describe('npm run bench', () => {
  it('prints the usage and exits 2 for an unknown benchmark or flag, running nothing', () => {
    // Act
    const unknown = spawnSync(process.execPath, ['bench/main.ts', 'no-such-bench'], { encoding: 'utf8' });
    const badFlag = spawnSync(process.execPath, ['bench/main.ts', 'fanout', '--fast'], { encoding: 'utf8' });
    // Assess
    for (const run of [unknown, badFlag]) {
      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('usage: npm run bench -- <name>');
    }
  });

  it('capacity prints the default scenario as JSON, takes scenario flags and refuses bad ones with exit 2', () => {
    // Act: as a user types it
    const json = spawnSync('npm', ['run', '-s', 'bench', '--', 'capacity', '--json'], { encoding: 'utf8' });
    const table = spawnSync('npm', ['run', '-s', 'bench', '--', 'capacity'], { encoding: 'utf8' });
    const gsi = spawnSync(
      process.execPath,
      ['bench/main.ts', 'capacity', '--json', '--users=2000000', '--unread-mode=gsi', '--regions=2'],
      { encoding: 'utf8' },
    );
    const bad = spawnSync(process.execPath, ['bench/main.ts', 'capacity', '--push-share=2'], {
      encoding: 'utf8',
    });
    const unknown = spawnSync(process.execPath, ['bench/main.ts', 'fanout', '--users=2'], {
      encoding: 'utf8',
    });
    const badLikes = ['0', '2.5', 'many'].map((n) =>
      spawnSync(process.execPath, ['bench/main.ts', 'aggregate', `--aws-likes=${n}`], { encoding: 'utf8' }),
    );
    // Assess
    expect(json.status).toBe(0);
    expect(table.status).toBe(0);
    expect(table.stdout).toContain('benchmark: capacity');
    expect(table.stdout).toContain('Monthly bill');
    const report = JSON.parse(json.stdout) as Record<string, unknown>;
    expectPositiveFigures(report, [
      'kinesis_shards',
      'fanout_concurrency',
      'push_concurrency',
      'peak_write_units_per_second',
      'peak_read_units_per_second',
      'big_author_fanout_seconds',
      'viral_like_storm_seconds',
      'redis_dedup_gb_30_days',
      'monthly_dollars_total',
      'monthly_dollars_per_replica_region',
    ]);
    expect(report.settings).toMatchObject({
      users: 10_000_000,
      daily_active_users: 1_000_000,
      events_per_day: 50_000_000,
    });
    expect(gsi.status).toBe(0);
    const other = JSON.parse(gsi.stdout) as {
      settings: Record<string, unknown>;
      peak_write_units_per_second: number;
    };
    expect(other.settings).toMatchObject({ users: 2_000_000, unread_mode: 'gsi', regions: 2 });
    expect(other.peak_write_units_per_second).toBeGreaterThan(report.peak_write_units_per_second as number);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--push-share: must be in [0, 1]');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown option --users');
    for (const run of badLikes) {
      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('--aws-likes: must be an integer from 1 to 1000000');
    }
  });
});

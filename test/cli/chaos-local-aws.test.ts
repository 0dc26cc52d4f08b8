import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readS3Audit } from '../../src/adapters/aws/s3-audit.ts';
import { type LocalAwsDemoOptions, localAwsBackend } from '../../src/cli/demo/local-aws-backend.ts';
import { runDemo } from '../../src/cli/demo/run.ts';
import type { DemoSummary } from '../../src/cli/demo/summary.ts';
import type { Reporter } from '../../src/cli/progress.ts';
import { Outcome } from '../../src/domain/types.ts';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
import type { ChannelTotals } from '../../src/runtime/embedded-stats.ts';
import { freePort, stopChild, waitForPort } from '../../src/runtime/local-aws/emulators.ts';
import type { LocalAwsProfile } from '../../src/runtime/local-aws/profile.ts';
import { emulatorClients, emulatorEndpoints } from '../support/aws.ts';
import { startThrottlingProxy, type ThrottlingProxy } from '../support/dynamodb-throttle.ts';
import { TINY } from '../support/scenarios.ts';
import { tempDir } from './run-fanout.ts';

/** Tomorrow at 03:00 UTC: ahead of the wall clock, which DynamoDB Local's TTL runs on. */
function tomorrowAt3(): number {
  return Math.ceil(Date.now() / 86_400_000) * 86_400_000 + 3 * 3_600_000;
}

/** Longer than the Redis client's 2 s command timeout: commands in flight time out. */
const REDIS_STOPPED_MS = 4_000;
/** One item read or write in this many answered as throttled while the pipeline runs. */
const THROTTLE_EVERY = 10;

/** A private Redis on a free port: the machine's shared one is never stopped. */
async function privateRedis(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  await waitForPort(port, 'redis-server', child);
  return { url: `redis://127.0.0.1:${port}`, child };
}

const dirs: string[] = [];

async function demo(
  profile: 'embedded' | 'local-aws',
  at: number,
  opts: { reporter?: Reporter; backend?: LocalAwsDemoOptions } = {},
): Promise<DemoSummary> {
  const dir = tempDir('chaos-aws');
  dirs.push(dir);
  const config = readRuntimeConfig({
    FANOUT_DATA_DIR: dir,
    FANOUT_CELEBRITY_THRESHOLD: '1000',
    FANOUT_LOG_LEVEL: 'silent',
    FANOUT_PROFILE: profile,
  });
  const run = await runDemo({
    config,
    scenario: TINY,
    at,
    reporter: opts.reporter ?? { live: false, phase() {}, bar: () => ({ update() {}, end() {} }) },
    signal: new AbortController().signal,
    ...(profile === 'local-aws' ? { openBackend: localAwsBackend(opts.backend ?? {}) } : {}),
  });
  await run.pipeline.stop();
  await run.backend.close();
  return run.summary;
}

/** What reached users: the counts a resumed or disturbed run must share with a calm one. */
function delivered(summary: DemoSummary) {
  const channel = (c: ChannelTotals) => {
    const { duplicate: _duplicate, unknown: _unknown, ...rest } = c;
    return rest;
  };
  return {
    events: summary.events,
    inboxRows: summary.inboxRows,
    celebrityPointers: summary.celebrityPointers,
    push: channel(summary.push),
    email: channel(summary.email),
    devicesRejected: summary.devicesRejected,
    deadLetterQueue: summary.deadLetterQueue,
    transportDuplicates: summary.transportDuplicates,
  };
}

// Two demo runs on emulators: a minute or two on a loaded 2-core machine (no assertion is about time).
describe('fanout demo on local-aws with Redis stopped and DynamoDB throttling', { timeout: 600_000 }, () => {
  let proxy: ThrottlingProxy;
  let redis: { url: string; child: ChildProcess };

  beforeAll(async () => {
    proxy = await startThrottlingProxy(emulatorEndpoints().dynamodb);
    redis = await privateRedis();
  });

  afterAll(async () => {
    await proxy.close();
    redis.child.kill('SIGCONT');
    await stopChild(redis.child);
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('delivers what a calm embedded run delivers: each inbox row once, no unflagged double send, every job settled', async () => {
    // Prepare: the calm reference, and faults tied to the phases the run reports
    const at = tomorrowAt3();
    const reference = await demo('embedded', at);
    let profile: LocalAwsProfile | undefined;
    let outage: Promise<void> | undefined;
    let redisStoppedDuring: string | undefined;
    const phases: string[] = [];
    const reporter: Reporter = {
      live: false,
      phase(name) {
        phases.push(name);
        // Throttling from fan-out on: seeding is set-up, not the pipeline under test.
        if (name === 'fanout') proxy.throttle(THROTTLE_EVERY);
        if (name === 'delivery' && outage === undefined) {
          redisStoppedDuring = name;
          redis.child.kill('SIGSTOP');
          outage = delay(REDIS_STOPPED_MS).then(() => {
            redis.child.kill('SIGCONT');
          });
        }
      },
      bar: () => ({ update() {}, end() {} }),
    };

    // Act
    const aws = await demo('local-aws', at, {
      reporter,
      backend: {
        endpoints: { ...emulatorEndpoints(), dynamodb: proxy.endpoint, redis: redis.url },
        onOpen: (p) => {
          profile = p;
        },
      },
    });
    await outage;
    proxy.pass();

    // Assess: the faults happened where they were aimed
    expect(redisStoppedDuring).toBe('delivery');
    expect(proxy.throttled).toBeGreaterThan(0);
    expect(phases).toContain('summary');
    // Same deliveries as the calm run; no send repeated outside a flagged ambiguous re-send
    expect(delivered(aws)).toEqual(delivered(reference));
    expect(aws.transportDuplicates).toBe(0);
    expect(aws.push.sent).toBeGreaterThan(0);
    expect(aws.email.sent).toBeGreaterThan(0);
    expect(profile).toBeDefined();
    const { tables, auditBucket } = profile!.resources;
    // The profile's own clients closed with it: read its tables and bucket with fresh ones.
    const clients = emulatorClients();
    // Every recipient's inbox row exactly once: one item per (user, event) in the inbox table
    const rows = new Map<string, number>();
    let start: Record<string, unknown> | undefined;
    do {
      const page = await clients.documents.send(
        new ScanCommand({
          TableName: tables.inbox,
          FilterExpression: 'attribute_exists(ca)',
          ProjectionExpression: 'pk, e',
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const key = `${item.pk}|${item.e}`;
        rows.set(key, (rows.get(key) ?? 0) + 1);
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    expect(rows.size).toBe(reference.inboxRows);
    expect([...rows.values()].filter((n) => n > 1)).toEqual([]);
    // Every job in the audit settled: a final decision beside any unknown outcome or duplicate
    const settled = new Map<string, boolean>();
    for await (const r of readS3Audit(clients.s3, auditBucket)) {
      const job = `${r.channel}|${r.notificationId}|${r.userId}`;
      const final = r.outcome !== Outcome.Unknown && r.outcome !== Outcome.Duplicate;
      settled.set(job, (settled.get(job) ?? false) || final);
    }
    expect(settled.size).toBe(reference.push.jobs + reference.email.jobs);
    expect([...settled].filter(([, ok]) => !ok)).toEqual([]);
    clients.destroy();
  });
});

import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DemoClock } from '../../src/cli/demo/clock.ts';
import { localAwsBackend } from '../../src/cli/demo/local-aws-backend.ts';
import { runDemo } from '../../src/cli/demo/run.ts';
import type { DemoSummary } from '../../src/cli/demo/summary.ts';
import type { Reporter } from '../../src/cli/progress.ts';
import { UsageError } from '../../src/cli/usage.ts';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
import type { ChannelTotals } from '../../src/runtime/embedded-stats.ts';
import { clearRedisKeys } from '../../src/runtime/local-aws/profile.ts';
import { closeRedis, emulatorEndpoints, readyRedis, uniqueName } from '../support/aws.ts';
import { TINY } from '../support/scenarios.ts';
import { tempDir } from './run-fanout.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const quiet: Reporter = { live: false, phase() {}, bar: () => ({ update() {}, end() {} }) };

/**
 * Tomorrow at 03:00 UTC: night in Europe, evening in the Americas, so quiet hours act. It must lie
 * ahead of the wall clock: DynamoDB Local's TTL deletes items on the wall clock, and the demo's
 * clock stamps their expiry.
 */
function tomorrowAt3(): number {
  return Math.ceil(Date.now() / 86_400_000) * 86_400_000 + 3 * 3_600_000;
}

async function demo(profile: 'embedded' | 'local-aws', at: number, unreadMode = 'gsi'): Promise<DemoSummary> {
  const dir = tempDir('demo-aws');
  dirs.push(dir);
  const config = readRuntimeConfig({
    FANOUT_DATA_DIR: dir,
    FANOUT_CELEBRITY_THRESHOLD: '1000',
    FANOUT_LOG_LEVEL: 'silent',
    FANOUT_PROFILE: profile,
    FANOUT_UNREAD_MODE: unreadMode,
  });
  const run = await runDemo({
    config,
    scenario: TINY,
    at,
    reporter: quiet,
    signal: new AbortController().signal,
    ...(profile === 'local-aws' ? { openBackend: localAwsBackend({ endpoints: emulatorEndpoints() }) } : {}),
  });
  await run.pipeline.stop();
  await run.backend.close();
  return run.summary;
}

/**
 * Every outcome but what only one profile can say (elapsed time, the embedded hash chain) and
 * what depends on timing rather than on the scenario: on a loaded machine a message can outlive
 * its visibility timeout and be received again (the dedup store catches it: a `duplicate` audit
 * record, and a deferred job may be queued twice), and a slow emulator can leave a send's outcome
 * unknown (re-sent with the same ids, an ambiguous re-send). Those change the audit's record count
 * and the delayed queue's depth, never what reached a user, which is what must match.
 */
function totals(summary: DemoSummary) {
  const {
    elapsedMs: _elapsed,
    auditChainValid: _chain,
    auditRecords: _records,
    ambiguousResends: _resends,
    delayed: _delayed,
    ...rest
  } = summary;
  return { ...rest, push: outcomes(summary.push), email: outcomes(summary.email) };
}

function outcomes(channel: ChannelTotals) {
  const { duplicate: _duplicate, unknown: _unknown, ...rest } = channel;
  return rest;
}

// Four demo runs on emulators: minutes on a loaded 2-core machine, hence the long limit (no
// assertion is about time).
describe('fanout demo --profile local-aws', { timeout: 600_000 }, () => {
  it('ends with the same totals as the embedded profile for the same scenario, seed and time', async () => {
    // Prepare
    const at = tomorrowAt3();
    // Act
    const embedded = await demo('embedded', at);
    const aws = await demo('local-aws', at);
    // Assess
    expect(totals(aws)).toEqual(totals(embedded));
    expect(embedded.auditChainValid).toBe(true);
    expect(aws.auditChainValid).toBeNull();
    expect(aws.celebrityPointers).toBe(TINY.celebrityPosts);
    expect(aws.push.sent).toBeGreaterThan(0);
    expect(aws.push.failed).toBeGreaterThan(0);
    expect(aws.push.deferred + aws.push.suppressedQuietHours).toBeGreaterThan(0);
    expect(aws.transportDuplicates).toBe(0);
  });

  it('ends with the same totals in the counter unread mode', async () => {
    // Prepare
    const at = tomorrowAt3();
    // Act
    const gsi = await demo('local-aws', at, 'gsi');
    const counter = await demo('local-aws', at, 'counter');
    // Assess
    expect(totals(counter)).toEqual(totals(gsi));
  });
});

describe('localAwsBackend with a dir', () => {
  it('refuses a dir without running emulators and a fixed prefix: nothing else outlives the run', () => {
    // Act + Assess
    expect(() => localAwsBackend({ dir: 'd', prefix: 'p' })).toThrow(UsageError);
    expect(() => localAwsBackend({ dir: 'd', endpoints: emulatorEndpoints() })).toThrow(UsageError);
  });

  it('keeps its progress in the dir and refuses the dir on another prefix', async () => {
    // Prepare: a backend on one prefix that records a finished step in its dir
    const dir = tempDir('demo-aws-dir');
    dirs.push(dir);
    const [prefix, other] = [uniqueName('dir'), uniqueName('dir')];
    const ctx = {
      config: readRuntimeConfig({ FANOUT_DATA_DIR: dir, FANOUT_PROFILE: 'local-aws', FANOUT_SHARDS: '1' }),
      clock: new DemoClock(tomorrowAt3()),
    };
    const endpoints = emulatorEndpoints();
    const first = await localAwsBackend({ endpoints, prefix, dir })(ctx);
    await first.state.once('step', async () => {});
    await first.close();
    try {
      // Act
      const again = await localAwsBackend({ endpoints, prefix, dir })(ctx);
      const ranAgain = await again.state.once('step', async () => {});
      await again.close();
      const elsewhere = localAwsBackend({ endpoints, prefix: other, dir })(ctx);
      // Assess
      expect(ranAgain).toBe(false);
      await expect(elsewhere).rejects.toThrow(UsageError);
    } finally {
      const redis = await readyRedis();
      await clearRedisKeys(redis, prefix);
      await clearRedisKeys(redis, other);
      await closeRedis(redis);
    }
  });
});

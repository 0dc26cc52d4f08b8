import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeApns, generateApnsKey, startFakeApns } from '../../fakes/fake-apns.ts';
import { demoEvents } from '../../src/cli/demo/events.ts';
import { SMALL_SCENARIO } from '../../src/cli/demo/scenario.ts';
import { CELEBRITY_ID } from '../../src/cli/demo/users.ts';
import { type FanoutResult, MAIN, PINNED_AT, runFanout, smallDemoArgs, tempDir } from './run-fanout.ts';

/**
 * "The demo can be pointed at real APNs credentials by configuration alone": the real CLI, given
 * nothing but environment variables, pushes the celebrity's posts to your one device through a
 * local APNs that checks every request the way Apple does, and nobody else's.
 */

const KEY_ID = 'KEY1234567';
const TEAM_ID = 'TEAM123456';
const TOPIC = 'com.example.fanoutdemo';
/** Your phone's token: 64 hex characters, as an iPhone hands it to its app. */
const YOUR_TOKEN = '7f'.repeat(16) + '0a1b2c3d'.repeat(4);

/**
 * Runs `fanout <args>` until it exits, or until stdout shows `marker` (a process that went on to
 * work), which then stops it with SIGTERM.
 */
function runUntil(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  marker: RegExp,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { ...process.env, FANOUT_LOG_LEVEL: 'silent', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (marker.test(stdout)) child.kill('SIGTERM');
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The ids of the celebrity's posts in the small scenario. */
const CELEBRITY_POSTS = demoEvents(SMALL_SCENARIO, Date.parse(PINNED_AT))
  .filter((e) => e.actorId === CELEBRITY_ID && e.type === 'post')
  .map((e) => e.id);

describe('fanout demo with you as a real recipient', () => {
  const dir = tempDir('demo-real');
  let fake: FakeApns;
  let apnsEnv: Record<string, string>;
  let baseline: FanoutResult;
  let real: FanoutResult;

  beforeAll(async () => {
    const key = generateApnsKey();
    fake = await startFakeApns({
      teamId: TEAM_ID,
      keyId: KEY_ID,
      publicKeyPem: key.publicKeyPem,
      topic: TOPIC,
    });
    const keyFile = join(dir, 'AuthKey.p8');
    const caFile = join(dir, 'fake-apns-ca.pem');
    writeFileSync(keyFile, key.privateKeyPem, { mode: 0o600 });
    writeFileSync(caFile, fake.ca);
    apnsEnv = {
      FANOUT_APNS_KEY_FILE: keyFile,
      FANOUT_APNS_KEY_ID: KEY_ID,
      FANOUT_APNS_TEAM_ID: TEAM_ID,
      FANOUT_APNS_TOPIC: TOPIC,
      FANOUT_APNS_ORIGIN: fake.origin,
      // Read by Node at start-up: the CLI's TLS then trusts the fake's self-signed certificate.
      NODE_EXTRA_CA_CERTS: caFile,
    };
    // Both runs at once: the same pinned scenario and the same real provider, one without you and
    // one with you. The run without you must send nothing to the provider either.
    [baseline, real] = await Promise.all([
      runFanout(smallDemoArgs(join(dir, 'baseline')), { env: apnsEnv }),
      runFanout(smallDemoArgs(join(dir, 'real')), {
        env: { ...apnsEnv, FANOUT_DEMO_DEVICES: `apns:${YOUR_TOKEN}` },
      }),
    ]);
  });

  afterAll(async () => {
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pushes exactly the celebrity posts to your token, each with a provider token APNs accepted', () => {
    // Prepare: the runs in beforeAll
    // Act
    const eventIds = fake.requests.map((r) => (r.payload as { eventId?: string }).eventId);
    // Assess
    expect(real.code, real.stderr).toBe(0);
    expect(CELEBRITY_POSTS).toHaveLength(SMALL_SCENARIO.celebrityPosts);
    expect(fake.requests.map((r) => r.token)).toEqual(CELEBRITY_POSTS.map(() => YOUR_TOKEN));
    expect([...eventIds].sort()).toEqual([...CELEBRITY_POSTS].sort());
    expect(fake.providerTokens.length).toBeGreaterThanOrEqual(1);
    for (const request of fake.requests) {
      expect(fake.providerTokens).toContain(request.providerToken);
      expect(request.headers['apns-topic']).toBe(TOPIC);
      // A time in the future on the wall clock, not the demo's pinned one: APNs would drop it.
      expect(Number(request.headers['apns-expiration']) * 1000).toBeGreaterThan(Date.now());
    }
  });

  it('sends nothing for the synthetic users, with you or without you: they stay on the recording sink', () => {
    // Prepare: the runs in beforeAll, both with APNs configured
    // Act
    const others = fake.requests.filter((r) => r.token !== YOUR_TOKEN);
    // Assess
    expect(baseline.code, baseline.stderr).toBe(0);
    expect(others).toEqual([]);
  });

  it('ends with the totals of a run without you, plus your pushes sent and their audit records', () => {
    // Prepare
    expect(baseline.code, baseline.stderr).toBe(0);
    const without = JSON.parse(baseline.stdout) as Record<string, unknown>;
    const withYou = JSON.parse(real.stdout) as Record<string, unknown>;
    const yours = CELEBRITY_POSTS.length;
    const push = without.push as Record<string, number>;
    // Act
    const expected = {
      ...without,
      push: { ...push, jobs: push.jobs! + yours, sent: push.sent! + yours },
      auditRecords: (without.auditRecords as number) + yours,
      elapsedMs: 0,
    };
    // Assess
    expect({ ...withYou, elapsedMs: 0 }).toEqual(expected);
  });

  it("refuses to deliver the demo's data through real providers outside the demo (`fanout work`)", async () => {
    // Prepare: the demo's data dir holds quiet-hours deferrals of synthetic users, due by now
    const before = fake.requests.length;
    // Act
    const result = await runUntil(['work', '--data-dir', join(dir, 'real')], apnsEnv, /working on/);
    // Assess
    expect(result.code, result.stdout).toBe(1);
    expect(result.stderr).toContain('FANOUT_DATA_DIR');
    expect(result.stderr).toContain('FANOUT_APNS_*');
    expect(fake.requests.length).toBe(before);
  });

  it('refuses a bad FANOUT_DEMO_DEVICES entry with exit 2, naming the variable but not the tokens', async () => {
    // Prepare
    const secretish = 'c0ffee'.repeat(8);
    const env = { ...apnsEnv, FANOUT_DEMO_DEVICES: `apns:${YOUR_TOKEN},pager:${secretish}` };
    // Act
    const result = await runFanout(smallDemoArgs(join(dir, 'bad-devices')), { env });
    // Assess
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('FANOUT_DEMO_DEVICES[1]');
    expect(result.stderr).not.toContain(secretish);
    expect(result.stderr).not.toContain(YOUR_TOKEN);
  });

  it('refuses you on the local-aws profile, before starting any emulator', async () => {
    // Prepare: no --at, which local-aws would refuse for lying months back
    const args = [
      'demo',
      '--json',
      '--scale',
      'small',
      '--profile',
      'local-aws',
      '--data-dir',
      join(dir, 'aws'),
    ];
    // Act
    const result = await runFanout(args, { env: { ...apnsEnv, FANOUT_DEMO_DEVICES: `apns:${YOUR_TOKEN}` } });
    // Assess
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('FANOUT_DEMO_DEVICES');
    expect(result.stderr).toContain('embedded profile only');
    expect(result.stderr).not.toContain(YOUR_TOKEN);
  });
});

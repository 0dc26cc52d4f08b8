import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { readAuditLog } from '../../src/adapters/embedded/audit-log.ts';
import { TransportRetryableError } from '../../src/domain/errors.ts';
import { notificationId } from '../../src/domain/ids.ts';
import type { DeliveryJob } from '../../src/domain/types.ts';
import { sleep } from '../../src/lib/sleep.ts';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
import { type EmbeddedPorts, openEmbeddedPorts } from '../../src/runtime/embedded.ts';
import { Pipeline } from '../../src/runtime/pipeline.ts';
import { runFanout, tempDir } from '../cli/run-fanout.ts';

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Ports on a fresh data dir whose push transport always answers "try again later". */
async function portsWithFailingPush(): Promise<{ dir: string; ports: EmbeddedPorts }> {
  const dir = tempDir('dlq');
  dirs.push(dir);
  const ports = await openEmbeddedPorts({
    config: readRuntimeConfig({ FANOUT_DATA_DIR: dir }),
    pushFault: () => new TransportRetryableError('provider unavailable'),
  });
  return { dir, ports };
}

/** Runs the pipeline until the push queue has `count` dead letters, then stops it gracefully. */
async function runUntilDeadLettered(ports: EmbeddedPorts, count: number): Promise<void> {
  const pipeline = new Pipeline(ports, { retryBaseMs: 5 });
  await pipeline.start();
  while ((await ports.queues.push.depth()).deadLettered < count) await sleep(10);
  await pipeline.stop();
}

function pushJob(now: number): DeliveryJob {
  return {
    tenantId: 't1',
    userId: 'u1',
    notificationId: notificationId('e1', 'u1', now),
    channel: 'push',
    eventId: 'e1',
    type: 'post',
    category: 'content',
    actorId: 'a1',
    createdAt: now,
  };
}

describe('dead-letter queue', () => {
  it('dead-letters a poison message after 4 receives; list shows it and redrive brings it back fresh', async () => {
    // Prepare
    const { dir, ports } = await portsWithFailingPush();
    await ports.queues.push.sendRaw(['{not a job']);
    // Act
    await runUntilDeadLettered(ports, 1);
    await ports.close();
    const listed = await runFanout(['dlq', 'list', 'push', '--json', '--data-dir', dir]);
    const redriven = await runFanout(['dlq', 'redrive', 'push', '--data-dir', dir]);
    // Assess
    expect(listed.code).toBe(0);
    const letters = JSON.parse(listed.stdout) as { receiveCount: number; tenantId: string | null }[];
    expect(letters).toHaveLength(1);
    expect(letters[0]!.receiveCount).toBe(4);
    expect(letters[0]!.tenantId).toBeNull();
    expect(redriven.code).toBe(0);
    expect(redriven.stdout).toContain('redrove 1 dead letter');
    const reopened = await openEmbeddedPorts({ config: readRuntimeConfig({ FANOUT_DATA_DIR: dir }) });
    try {
      const depth = await reopened.queues.push.depth();
      expect(depth.visible).toBe(1);
      expect(depth.deadLettered).toBe(0);
      const [message] = await reopened.queues.push.receive({ max: 10, visibilityTimeoutMs: 1000 });
      expect(message?.receiveCount).toBe(1);
      expect(message?.body).toBe('{not a job');
    } finally {
      await reopened.close();
    }
  });

  it('dead-letters a valid job whose transport keeps failing, audits it, and lists its ids only', async () => {
    // Prepare
    const { dir, ports } = await portsWithFailingPush();
    const now = Date.now();
    await ports.preferences.put({
      tenantId: 't1',
      userId: 'u1',
      timezone: 'UTC',
      consent: { push: true },
      channels: {},
      categories: {},
      updatedAt: now,
    });
    await ports.devices.register({
      tenantId: 't1',
      userId: 'u1',
      token: 'device-1',
      platform: 'apns',
      registeredAt: now,
    });
    const job = pushJob(now);
    await ports.queues.push.sendBatch([job]);
    // Act
    await runUntilDeadLettered(ports, 1);
    const stats = await ports.pushSink.stats();
    const outcomes: string[] = [];
    for await (const record of readAuditLog(ports.auditDir)) outcomes.push(record.outcome);
    await ports.close();
    const listed = await runFanout(['dlq', 'list', 'push', '--data-dir', dir]);
    // Assess
    expect(stats.sends).toBe(0);
    expect(outcomes).toEqual(['dead_lettered']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(job.notificationId);
    expect(listed.stdout).toContain('u1');
    expect(listed.stdout).not.toContain('device-1');
  });

  it('refuses an unknown channel and a missing subcommand with exit 2', async () => {
    // Prepare
    const dir = tempDir('dlq-usage');
    dirs.push(dir);
    // Act
    const results = await Promise.all([
      runFanout(['dlq', 'list', 'sms', '--data-dir', dir]),
      runFanout(['dlq', '--data-dir', dir]),
      runFanout(['dlq', 'list', 'push', '--limit', 'many', '--data-dir', dir]),
    ]);
    // Assess
    for (const result of results) {
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
    }
    expect(results[0]!.stderr).toContain('push or email');
  });
});

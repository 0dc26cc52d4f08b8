import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { readAuditLog } from '../../src/adapters/embedded/audit-log.ts';
import type { AuditEntry } from '../../src/domain/audit-types.ts';
import { notificationId } from '../../src/domain/ids.ts';
import { deliveryKey, targetDigest } from '../../src/domain/keys.ts';
import { type DeliveryJob, Outcome, type Preferences } from '../../src/domain/types.ts';
import { ClaimState } from '../../src/ports/dedup-store.ts';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
import { type EmbeddedPorts, openEmbeddedPorts } from '../../src/runtime/embedded.ts';
import { Pipeline } from '../../src/runtime/pipeline.ts';
import { tempDir } from '../cli/run-fanout.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The dedup lease of the run: the consumer parks a Busy job this long as a delayed copy. */
const LEASE_MS = 1_500;
const TENANT = 't1';

async function openPorts(): Promise<EmbeddedPorts> {
  const dir = tempDir('pipeline-drained');
  dirs.push(dir);
  return openEmbeddedPorts({
    config: readRuntimeConfig({ FANOUT_DATA_DIR: dir, FANOUT_LOG_LEVEL: 'silent' }),
  });
}

/** "HH:MM" in UTC, `offsetMs` from `now`. */
function utcTime(now: number, offsetMs: number): string {
  return new Date(now + offsetMs).toISOString().slice(11, 16);
}

/** A user with push consent and one device; in quiet hours (deferring push) when `quiet`. */
async function seedUser(ports: EmbeddedPorts, userId: string, now: number, quiet: boolean): Promise<string> {
  const prefs: Preferences = {
    tenantId: TENANT,
    userId,
    timezone: 'UTC',
    consent: { push: true },
    channels: {},
    categories: {},
    ...(quiet ? { quietHours: { start: utcTime(now, -3_600_000), end: utcTime(now, 3_600_000) } } : {}),
    updatedAt: now,
  };
  await ports.preferences.put(prefs);
  const token = `token-${userId}`;
  await ports.devices.register({ tenantId: TENANT, userId, token, platform: 'fcm', registeredAt: now });
  return token;
}

function pushJob(userId: string, now: number): DeliveryJob {
  return {
    tenantId: TENANT,
    userId,
    notificationId: notificationId('e1', userId, now),
    channel: 'push',
    eventId: 'e1',
    type: 'post',
    category: 'content',
    actorId: 'a1',
    createdAt: now,
  };
}

async function auditOf(ports: EmbeddedPorts): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  for await (const entry of readAuditLog(ports.auditDir)) entries.push(entry);
  return entries;
}

describe('Pipeline.drained', () => {
  it('waits for a job parked behind a live dedup claim to be sent, not for a quiet-hours deferral', async () => {
    // Prepare: u1's delivery already claimed under a live lease, as a claim whose answer timed
    // out lands once Redis is back; u2 in quiet hours for another hour
    const ports = await openPorts();
    const now = ports.clock.now();
    const token = await seedUser(ports, 'u1', now, false);
    await seedUser(ports, 'u2', now, true);
    const parked = pushJob('u1', now);
    const key = deliveryKey(TENANT, parked.notificationId, 'push', targetDigest(token));
    expect(await ports.dedup.claim([{ key, leaseMs: LEASE_MS }])).toEqual([ClaimState.Acquired]);
    await ports.queues.push.sendBatch([parked, pushJob('u2', now)]);
    const pipeline = new Pipeline(ports, {
      leaseMs: LEASE_MS,
      retryBaseMs: 5,
      deadLetterAudit: false,
      emailDigests: false,
    });
    // Act
    try {
      await pipeline.start();
      await pipeline.drained({ pollMs: 20 });
    } finally {
      await pipeline.stop();
    }
    const audit = await auditOf(ports);
    const depth = await ports.queues.push.depth();
    await ports.close();
    // Assess: u1's push went out once the lease ran out (an ambiguous re-send: the holder may have
    // sent); u2's deferral is still waiting for its quiet hours to end
    const outcomes = (userId: string) => audit.filter((e) => e.userId === userId).map((e) => e.outcome);
    expect(outcomes('u1')).toEqual([Outcome.Sent]);
    expect(audit.find((e) => e.userId === 'u1')?.ambiguous).toBe(true);
    expect(outcomes('u2')).toEqual([Outcome.Deferred]);
    expect(depth.delayed).toBe(1);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { notificationId } from '../../../src/domain/ids.ts';
import { targetDigest } from '../../../src/domain/keys.ts';
import { type DeliveryJob, Outcome, type UserKey } from '../../../src/domain/types.ts';
import { consumePush } from '../../../src/handlers/push-consumer.ts';
import { sqsEvent } from '../../support/events.ts';
import { auditRecords, closeWorlds, consenting, type World, world } from '../../support/world.ts';
import { type ApnsBench, apnsBench, deviceToken } from './apns-fixture.ts';

/** The real push consumer, embedded ports, and ApnsTransport against the fake APNs. */

const NOW = Date.UTC(2030, 0, 1, 12);
const ALICE: UserKey = { tenantId: 'acme', userId: 'alice' };

let w: World;
let bench: ApnsBench;

beforeAll(async () => {
  // One clock for the pipeline, the transport (JWT iat) and the fake (token age checks).
  w = world({ now: NOW });
  bench = await apnsBench({ clock: w.clock });
});
afterEach(async () => {
  await bench.closeTransports();
});
afterAll(async () => {
  await bench.close();
  closeWorlds();
});

function job(eventId: string): DeliveryJob {
  const createdAt = w.clock.now() - 1_000;
  return {
    tenantId: ALICE.tenantId,
    userId: ALICE.userId,
    notificationId: notificationId(eventId, ALICE.userId, createdAt),
    channel: 'push',
    eventId,
    type: 'mention',
    category: 'mention',
    actorId: 'bob',
    createdAt,
  };
}

async function aliceWithDevice(): Promise<string> {
  const token = deviceToken();
  await w.preferences.put(consenting(ALICE));
  await w.devices.registerMany([{ ...ALICE, token, platform: 'apns', registeredAt: w.clock.now() - 60_000 }]);
  return token;
}

describe('push consumer over APNs', () => {
  it('deactivates a device APNs says is unregistered and audits the failure with its reason', async () => {
    // Prepare
    const token = await aliceWithDevice();
    bench.fake.script(token, { status: 410, reason: 'Unregistered', timestamp: w.clock.now() - 1_000 });
    const deps = w.pushDeps({ push: bench.transport() });
    // Act
    const response = await consumePush(sqsEvent([job('e-410')]), deps);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect((await w.devices.listActive(ALICE)).map((d) => d.token)).not.toContain(token);
    const record = (await auditRecords(w)).find((r) => r.target === targetDigest(token));
    expect(record).toMatchObject({ outcome: Outcome.Failed, reason: 'Unregistered' });
  });

  it('re-sends after a dropped connection with the same apns-id and collapse id, audited as ambiguous', async () => {
    // Prepare
    const token = await aliceWithDevice();
    bench.fake.script(token, { drop: 'session' });
    const deps = w.pushDeps({ push: bench.transport() });
    const dropped = job('e-drop');
    const attempt = (receiveCount: number) =>
      consumePush(sqsEvent([{ job: dropped, messageId: 'm-drop', receiveCount }]), deps);
    // Act: the first attempt loses its answer; the retry comes after the dedup lease
    const first = await attempt(1);
    w.clock.advance(60_001);
    const retry = await attempt(2);
    // Assess
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'm-drop' }]);
    expect(retry.batchItemFailures).toEqual([]);
    const seen = bench.requestsFor(token);
    expect(seen).toHaveLength(2);
    expect(seen[1]?.headers['apns-id']).toBe(seen[0]?.headers['apns-id']);
    expect(seen[1]?.headers['apns-collapse-id']).toBe(seen[0]?.headers['apns-collapse-id']);
    const records = (await auditRecords(w)).filter((r) => r.target === targetDigest(token));
    expect(records.map((r) => [r.outcome, r.ambiguous])).toEqual([
      [Outcome.Unknown, undefined],
      [Outcome.Sent, true],
    ]);
  });
});

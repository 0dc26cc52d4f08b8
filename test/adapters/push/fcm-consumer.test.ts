import { afterEach, describe, expect, it } from 'vitest';
import { type FakeFcm, generateServiceAccount, startFakeFcm } from '../../../fakes/fake-fcm.ts';
import { FcmTransport } from '../../../src/adapters/push/fcm/fcm-transport.ts';
import type { FcmMessage } from '../../../src/adapters/push/fcm/payload.ts';
import { parseServiceAccount } from '../../../src/adapters/push/fcm/service-account.ts';
import { notificationId } from '../../../src/domain/ids.ts';
import { targetDigest } from '../../../src/domain/keys.ts';
import { type DeliveryJob, Outcome, type UserKey } from '../../../src/domain/types.ts';
import { consumePush } from '../../../src/handlers/push-consumer.ts';
import { sqsEvent } from '../../support/events.ts';
import { auditRecords, closeWorlds, consenting, type World, world } from '../../support/world.ts';

/** The push consumer with embedded ports and the real FCM transport, against the fake FCM. */

const NOW = Date.UTC(2026, 4, 1, 12);
const ALICE: UserKey = { tenantId: 'acme', userId: 'alice' };
const DEAD = 'fcm-token-uninstalled';
const LIVE = 'fcm-token-live';

const opened: { fake: FakeFcm; fcm: FcmTransport }[] = [];

afterEach(async () => {
  for (const { fake, fcm } of opened.splice(0)) {
    await fcm.close();
    await fake.close();
  }
  closeWorlds();
});

async function setUp(): Promise<{ w: World; fake: FakeFcm; fcm: FcmTransport }> {
  const w = world({ now: NOW });
  const fake = await startFakeFcm({ now: w.clock.now });
  const fcm = new FcmTransport({
    serviceAccount: parseServiceAccount(generateServiceAccount(fake.origin).json),
    origin: fake.origin,
    ca: fake.ca,
    clock: w.clock,
    logger: w.logger,
    sleep: async () => {},
  });
  opened.push({ fake, fcm });
  await w.preferences.put(consenting(ALICE));
  await w.devices.registerMany(
    [DEAD, LIVE].map((token) => ({ ...ALICE, token, platform: 'fcm' as const, registeredAt: NOW - 1 })),
  );
  return { w, fake, fcm };
}

function job(): DeliveryJob {
  const createdAt = NOW - 1000;
  return {
    ...ALICE,
    notificationId: notificationId('e1', 'alice', createdAt),
    channel: 'push',
    eventId: 'e1',
    type: 'mention',
    category: 'mention',
    actorId: 'bob',
    createdAt,
  };
}

describe('push consumer through FCM', () => {
  it('deactivates a device FCM calls UNREGISTERED, audits the reason, and still sends to the others', async () => {
    // Prepare
    const { w, fake, fcm } = await setUp();
    fake.script(DEAD, { status: 404, errorCode: 'UNREGISTERED' });
    // Act
    const response = await consumePush(sqsEvent([job()]), w.pushDeps({ push: fcm }));
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect((await w.devices.listActive(ALICE)).map((d) => d.token)).toEqual([LIVE]);
    const records = await auditRecords(w);
    expect(records.map((r) => [r.target, r.outcome, r.reason]).sort()).toEqual(
      [
        [targetDigest(DEAD), Outcome.Failed, 'unregistered'],
        [targetDigest(LIVE), Outcome.Sent, undefined],
      ].sort(),
    );
    expect(JSON.stringify([records, w.logger.lines])).not.toContain('fcm-token-');
  });

  it('re-sends an ambiguous send with the same collapse key and message id', async () => {
    // Prepare: the connection to FCM drops after the request to one device left
    const { w, fake, fcm } = await setUp();
    fake.script(LIVE, { drop: 'stream' });
    // Act
    const first = await consumePush(sqsEvent([{ job: job(), messageId: 'm1' }]), w.pushDeps({ push: fcm }));
    w.clock.advance(10 * 60_000);
    const retry = await consumePush(sqsEvent([{ job: job(), messageId: 'm1' }]), w.pushDeps({ push: fcm }));
    // Assess
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(retry.batchItemFailures).toEqual([]);
    const toLive = fake.requests
      .filter((r) => r.token === LIVE)
      .map((r) => r.body as { message: FcmMessage });
    expect(toLive).toHaveLength(2);
    expect(toLive[1]!.message.android.collapse_key).toBe(toLive[0]!.message.android.collapse_key);
    expect(toLive[1]!.message.apns.headers['apns-collapse-id']).toBe(toLive[0]!.message.android.collapse_key);
    expect(toLive[1]!.message.data.messageId).toBe(toLive[0]!.message.data.messageId);
    expect(fake.requests.filter((r) => r.token === DEAD)).toHaveLength(1);
    const toLiveAudited = (await auditRecords(w)).filter((r) => r.target === targetDigest(LIVE));
    expect(toLiveAudited.map((r) => [r.outcome, r.ambiguous])).toEqual([
      [Outcome.Unknown, undefined],
      [Outcome.Sent, true],
    ]);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { DynamoFrequencyCaps } from '../../src/adapters/aws/frequency-caps-dynamodb.ts';
import { RedisFrequencyCaps } from '../../src/adapters/aws/frequency-caps-redis.ts';
import { EmbeddedFrequencyCaps } from '../../src/adapters/embedded/frequency-caps.ts';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import type { CapDefaults } from '../../src/domain/frequency-cap.ts';
import { notificationId } from '../../src/domain/ids.ts';
import { type Category, type DeliveryJob, Outcome, type UserKey } from '../../src/domain/types.ts';
import { consumePush } from '../../src/handlers/push-consumer.ts';
import type { FrequencyCaps } from '../../src/ports/frequency-caps.ts';
import { closeRedis, emulatorClients, freshTables, readyRedis, uniqueName } from '../support/aws.ts';
import { sqsEvent } from '../support/events.ts';
import { auditRecords, closeWorlds, consenting, type World, world } from '../support/world.ts';

/**
 * The real time, whole minutes: DynamoDB Local's TTL deletes items whose `expiresAt` has passed on
 * the wall clock, so a clock in the past would let it drop counters mid-test.
 */
const NOW = Math.floor(Date.now() / 60_000) * 60_000;
const HOUR = 3_600_000;
const T = 'acme';
const ANA: UserKey = { tenantId: T, userId: 'ana' };
/** Ten pushes an hour for every user of `acme`; other tenants are not capped. */
const TEN_AN_HOUR: CapDefaults = { tenants: { [T]: { push: { limit: 10, windowSeconds: 3600 } } } };

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  closeWorlds();
  for (const close of closers.splice(0)) await close();
});

let sequence = 0;
function job(user: UserKey, createdAt: number, category: Category = 'social'): DeliveryJob {
  const eventId = `e${++sequence}`;
  return {
    tenantId: user.tenantId,
    userId: user.userId,
    notificationId: notificationId(eventId, user.userId, createdAt),
    channel: 'push',
    eventId,
    type: category === 'critical' ? 'security_alert' : 'like',
    category,
    actorId: 'bo',
    createdAt,
  };
}

async function userWorld(...users: UserKey[]): Promise<World> {
  const w = world({ now: NOW });
  for (const user of users) {
    await w.preferences.put(consenting(user));
    await w.devices.registerMany([
      { ...user, token: `${user.userId}-phone`, platform: 'apns', registeredAt: 1 },
    ]);
  }
  return w;
}

/** True when no rolling window of `windowMs` holds more than `limit` of the sorted times. */
function fitsEveryWindow(times: readonly number[], limit: number, windowMs: number): boolean {
  for (let i = limit; i < times.length; i++) if (times[i]! - times[i - limit]! < windowMs) return false;
  return true;
}

const stores: readonly [string, (w: World) => Promise<FrequencyCaps>][] = [
  ['embedded (SQLite)', async (w) => new EmbeddedFrequencyCaps({ db: w.db, clock: w.clock })],
  [
    'aws (MemoryDB Redis)',
    async (w) => {
      const redis = await readyRedis();
      closers.push(() => closeRedis(redis));
      return new RedisFrequencyCaps({ redis, clock: w.clock, keyPrefix: uniqueName('fc') });
    },
  ],
  [
    'aws (DynamoDB)',
    async (w) => {
      const clients = emulatorClients();
      const tables = await freshTables(clients, ['frequencyCaps']);
      return new DynamoFrequencyCaps({
        documents: clients.documents,
        tableName: tables.frequencyCaps,
        clock: w.clock,
      });
    },
  ],
];

describe.each(stores)('push frequency caps: %s', (_name, makeStore) => {
  it('holds a 10,000-push burst to 10 in any rolling hour, and delivers every critical push', async () => {
    // Prepare: one push every 1.2 s for 3 h 20 min, every 50th of them critical.
    const w = await userWorld(ANA);
    const deps = w.pushDeps({ caps: { store: await makeStore(w), defaults: TEN_AN_HOUR } });
    const jobs = Array.from({ length: 10_000 }, (_, i) =>
      job(ANA, NOW + i * 1_200, i % 50 === 49 ? 'critical' : 'social'),
    );
    // Act: batches of 25, as the consumer receives them, the clock at each batch's newest job.
    for (let i = 0; i < jobs.length; i += 25) {
      const batch = jobs.slice(i, i + 25);
      w.clock.set(batch.at(-1)!.createdAt);
      const response = await consumePush(sqsEvent(batch), deps);
      expect(response.batchItemFailures).toEqual([]);
    }
    // Assess
    const records = await auditRecords(w);
    const critical = new Set(jobs.filter((j) => j.category === 'critical').map((j) => j.notificationId));
    const sent = records.filter((r) => r.outcome === Outcome.Sent);
    const sentCritical = sent.filter((r) => critical.has(r.notificationId));
    const sentCapped = sent.filter((r) => !critical.has(r.notificationId)).map((r) => r.at);
    expect(sentCritical).toHaveLength(200);
    expect(fitsEveryWindow(sentCapped, 10, HOUR)).toBe(true);
    // The cap spaces pushes out; it does not starve the user: 10 in each of the 4 hours begun.
    expect(sentCapped).toHaveLength(40);
    const held = records.filter((r) => r.outcome === Outcome.SuppressedFrequencyCap);
    expect(held).toHaveLength(10_000 - 200 - 40);
    expect(held.every((r) => r.reason === 'frequency_cap' && r.target === undefined)).toBe(true);
    expect(w.pushCalls).toHaveLength(240);
  });

  it('counts a re-delivered job once: its duplicate takes no second place', async () => {
    // Prepare
    const w = await userWorld(ANA);
    const deps = w.pushDeps({ caps: { store: await makeStore(w), defaults: TEN_AN_HOUR } });
    const first = Array.from({ length: 6 }, (_, i) => job(ANA, NOW + i));
    await consumePush(sqsEvent(first), deps);
    // Act: the same six again (an SQS re-delivery), then eight new ones.
    await consumePush(sqsEvent(first), deps);
    await consumePush(sqsEvent(Array.from({ length: 8 }, (_, i) => job(ANA, NOW + 10 + i))), deps);
    // Assess
    const outcomes = (await auditRecords(w)).map((r) => r.outcome);
    expect(outcomes.filter((o) => o === Outcome.Duplicate)).toHaveLength(6);
    expect(outcomes.filter((o) => o === Outcome.Sent)).toHaveLength(10);
    expect(outcomes.filter((o) => o === Outcome.SuppressedFrequencyCap)).toHaveLength(4);
  });

  it("applies a user's own caps over the tenant's, per category, and leaves other tenants alone", async () => {
    // Prepare: Ana allows 2 social pushes an hour; Cy keeps the default; Di is in another tenant.
    const cy: UserKey = { tenantId: T, userId: 'cy' };
    const di: UserKey = { tenantId: 'globex', userId: 'di' };
    const w = await userWorld(ANA, cy, di);
    await w.preferences.put(
      consenting(ANA, { frequencyCaps: { categories: { social: { limit: 2, windowSeconds: 3600 } } } }),
    );
    const deps = w.pushDeps({ caps: { store: await makeStore(w), defaults: TEN_AN_HOUR } });
    const jobs = [ANA, cy, di].flatMap((user) => [
      ...Array.from({ length: 4 }, (_, i) => job(user, NOW + i, 'social')),
      ...Array.from({ length: 12 }, (_, i) => job(user, NOW + 10 + i, 'content')),
    ]);
    // Act
    await consumePush(sqsEvent(jobs), deps);
    // Assess
    const sent = (await auditRecords(w)).filter((r) => r.outcome === Outcome.Sent);
    const count = (user: string, type: Category) =>
      sent.filter(
        (r) =>
          r.userId === user && jobs.find((j) => j.notificationId === r.notificationId)?.category === type,
      ).length;
    // Ana: 2 social (her own rule), then content up to the tenant's 10 over every push.
    expect([count('ana', 'social'), count('ana', 'content')]).toEqual([2, 8]);
    expect([count('cy', 'social'), count('cy', 'content')]).toEqual([4, 6]);
    expect([count('di', 'social'), count('di', 'content')]).toEqual([4, 12]);
  });
});

describe('push frequency caps: failures', () => {
  it('sends nothing capped and retries the job when the store does not answer; critical still goes', async () => {
    // Prepare
    const w = await userWorld(ANA);
    const broken: FrequencyCaps = {
      take: async () => {
        throw new StoreUnavailableError('frequency caps store did not answer');
      },
    };
    const deps = w.pushDeps({ caps: { store: broken, defaults: TEN_AN_HOUR } });
    const social = job(ANA, NOW);
    const critical = job(ANA, NOW, 'critical');
    // Act
    const response = await consumePush(
      sqsEvent([
        { job: social, messageId: 'm1' },
        { job: critical, messageId: 'm2' },
      ]),
      deps,
    );
    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    expect(w.pushCalls.map((m) => m.category)).toEqual(['critical']);
  });

  it('never asks the store about a user nothing caps', async () => {
    // Prepare
    const w = await userWorld(ANA);
    let calls = 0;
    const counting: FrequencyCaps = {
      take: async (requests) => {
        calls++;
        return requests.map(() => 'granted');
      },
    };
    // Act
    await consumePush(sqsEvent([job(ANA, NOW)]), w.pushDeps({ caps: { store: counting, defaults: {} } }));
    // Assess
    expect(calls).toBe(0);
    expect(w.pushCalls).toHaveLength(1);
  });
});

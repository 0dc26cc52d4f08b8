import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisFrequencyCaps } from '../../src/adapters/aws/frequency-caps-redis.ts';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { CapAnswer } from '../../src/ports/frequency-caps.ts';
import { createRedis } from '../../src/runtime/aws-clients.ts';
import { freePort } from '../../src/runtime/local-aws/emulators.ts';
import { manualClock } from '../contracts/dedup-store.contract.ts';
import { frequencyCapsContract } from '../contracts/frequency-caps.contract.ts';
import { closeRedis, readyRedis, uniqueName } from '../support/aws.ts';

frequencyCapsContract('aws (MemoryDB Redis)', async () => {
  const redis = await readyRedis();
  const other = await readyRedis();
  // Starts at the real time so Redis's own expiry (real time) never ends a window early.
  const clock = manualClock(Date.now());
  const keyPrefix = uniqueName('fc');
  return {
    store: new RedisFrequencyCaps({ redis, clock, keyPrefix }),
    twin: new RedisFrequencyCaps({ redis: other, clock, keyPrefix }),
    clock,
    breakStore: async () => redis.disconnect(),
    close: async () => {
      await closeRedis(redis);
      await closeRedis(other);
    },
  };
});

describe('RedisFrequencyCaps', () => {
  const clients: Redis[] = [];
  afterEach(async () => {
    for (const redis of clients.splice(0)) await closeRedis(redis);
  });

  const ask = { tenantId: 'acme', userId: 'ana', slotId: 'acme#n1#push' };

  it("keeps a user's windows under one hash tag, each a set that expires a window after its newest place", async () => {
    // Prepare
    const redis = await readyRedis();
    clients.push(redis);
    const caps = new RedisFrequencyCaps({ redis, keyPrefix: uniqueName('fc') });
    const buckets = [
      { name: 'push', limit: 5, windowMs: 3_600_000 },
      { name: 'push:social', limit: 2, windowMs: 600_000 },
    ];
    // Act
    const answers = await caps.take([{ ...ask, buckets }]);
    // Assess
    expect(answers).toEqual([CapAnswer.Granted]);
    const all = caps.keyOf('acme', 'ana', 'push');
    const social = caps.keyOf('acme', 'ana', 'push:social');
    expect(all).toMatch(/:\{fc#acme#ana\}:push$/);
    expect(social).toMatch(/:\{fc#acme#ana\}:push:social$/);
    expect(await redis.zrange(all, '0', '-1')).toEqual(['acme#n1#push']);
    expect(await redis.pttl(all)).toBeGreaterThan(3_500_000);
    expect(await redis.pttl(social)).toBeLessThanOrEqual(600_000);
  });

  it('fails with StoreUnavailableError when Redis is down, answering nothing', async () => {
    // Prepare
    const redis = createRedis({ url: `redis://127.0.0.1:${await freePort()}` });
    redis.on('error', () => {});
    clients.push(redis);
    const caps = new RedisFrequencyCaps({ redis, keyPrefix: uniqueName('fc') });
    // Act
    const take = caps.take([{ ...ask, buckets: [{ name: 'push', limit: 1, windowMs: 1_000 }] }]);
    // Assess
    await expect(take).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

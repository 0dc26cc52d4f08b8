import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisRequestBuckets } from '../../src/adapters/aws/request-buckets-redis.ts';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { createRedis } from '../../src/runtime/aws-clients.ts';
import { freePort } from '../../src/runtime/local-aws/emulators.ts';
import { manualClock } from '../contracts/dedup-store.contract.ts';
import { requestBucketsContract } from '../contracts/request-buckets.contract.ts';
import { closeRedis, readyRedis, uniqueName } from '../support/aws.ts';

requestBucketsContract('aws (ElastiCache Redis)', async () => {
  const redis = await readyRedis();
  const other = await readyRedis();
  // Starts at the real time so Redis's own expiry (real time) never drops a bucket early.
  const clock = manualClock(Date.now());
  const keyPrefix = uniqueName('rl');
  return {
    store: new RedisRequestBuckets({ redis, clock, keyPrefix }),
    twin: new RedisRequestBuckets({ redis: other, clock, keyPrefix }),
    clock,
    close: async () => {
      await closeRedis(redis);
      await closeRedis(other);
    },
  };
});

describe('RedisRequestBuckets', () => {
  const clients: Redis[] = [];
  afterEach(async () => {
    for (const redis of clients.splice(0)) await closeRedis(redis);
  });

  it("keeps a tenant's buckets under one hash tag, each expiring once it is full again", async () => {
    // Prepare
    const redis = await readyRedis();
    clients.push(redis);
    const buckets = new RedisRequestBuckets({ redis, keyPrefix: uniqueName('rl') });
    const user = { group: 'acme', name: 'user#ana', rate: { perSecond: 2, burst: 4 } };
    const tenant = { group: 'acme', name: 'tenant', rate: { perSecond: 100, burst: 100 } };
    // Act
    const answer = await buckets.take([user, tenant]);
    // Assess
    expect(answer).toEqual({ allowed: true });
    expect(buckets.keyOf(user)).toMatch(/:\{rl#acme\}:user#ana$/);
    expect(buckets.keyOf(tenant)).toMatch(/:\{rl#acme\}:tenant$/);
    // One request of a 2/s bucket is refilled in 500 ms; of a 100/s one in 10 ms.
    expect(await redis.pttl(buckets.keyOf(user))).toBeGreaterThan(400);
    expect(await redis.pttl(buckets.keyOf(user))).toBeLessThanOrEqual(500);
    expect(await redis.pttl(buckets.keyOf(tenant))).toBeLessThanOrEqual(10);
  });

  it('refuses a take over buckets of different groups (they may live on different shards)', async () => {
    // Prepare
    const redis = await readyRedis();
    clients.push(redis);
    const buckets = new RedisRequestBuckets({ redis, keyPrefix: uniqueName('rl') });
    const rate = { perSecond: 1, burst: 1 };
    // Act
    const take = buckets.take([
      { group: 'acme', name: 'tenant', rate },
      { group: 'other', name: 'tenant', rate },
    ]);
    // Assess
    await expect(take).rejects.toBeInstanceOf(RangeError);
  });

  it('fails with StoreUnavailableError when Redis is down', async () => {
    // Prepare
    const redis = createRedis({ url: `redis://127.0.0.1:${await freePort()}` });
    redis.on('error', () => {});
    clients.push(redis);
    const buckets = new RedisRequestBuckets({ redis, keyPrefix: uniqueName('rl'), connectTimeoutMs: 200 });
    const bucket = { group: 'acme', name: 'tenant', rate: { perSecond: 1, burst: 1 } };
    // Act / Assess
    await expect(buckets.take([bucket])).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(buckets.peek(bucket)).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

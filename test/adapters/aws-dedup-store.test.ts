import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisDedupStore } from '../../src/adapters/aws/dedup-store.ts';
import { DEDUP_TTL_MS } from '../../src/adapters/checks/dedup-store.ts';
import { DedupUnavailableError, ValidationError } from '../../src/domain/errors.ts';
import { deliveryKey } from '../../src/domain/keys.ts';
import { ClaimState } from '../../src/ports/dedup-store.ts';
import { createRedis } from '../../src/runtime/aws-clients.ts';
import { freePort } from '../../src/runtime/local-aws/emulators.ts';
import { dedupStoreContract, manualClock } from '../contracts/dedup-store.contract.ts';
import { closeRedis, emulatorRedis, readyRedis, uniqueName } from '../support/aws.ts';

const TTL_MS = 60_000;

dedupStoreContract('aws (MemoryDB Redis)', async () => {
  const redis = await readyRedis();
  // Starts at the real time so Redis's own expiry (real time, a physical clean-up only) never
  // ends a key before the store's clock says so.
  const clock = manualClock(Date.now());
  return {
    store: new RedisDedupStore({ redis, clock, ttlMs: TTL_MS, keyPrefix: uniqueName('dd') }),
    ttlMs: TTL_MS,
    clock,
    breakStore: async () => redis.disconnect(),
    close: () => closeRedis(redis),
  };
});

describe('RedisDedupStore', () => {
  const clients: Redis[] = [];
  afterEach(async () => {
    for (const redis of clients.splice(0)) await closeRedis(redis);
  });

  async function connected(): Promise<Redis> {
    const redis = await readyRedis();
    clients.push(redis);
    return redis;
  }

  it('keeps a confirmed key 30 days by default, in Redis too (PTTL)', async () => {
    // Prepare
    const redis = await connected();
    const store = new RedisDedupStore({ redis, keyPrefix: uniqueName('dd') });
    const key = deliveryKey('t1', '01J00000000000000000000000', 'push', 'abcdef0123456789');
    await store.claim([{ key, leaseMs: 1_000 }]);
    // Act
    await store.confirm([key]);
    // Assess
    const pttl = await redis.pttl(store.keyOf(key));
    expect(pttl).toBeGreaterThan(DEDUP_TTL_MS - 60_000);
    expect(pttl).toBeLessThanOrEqual(DEDUP_TTL_MS);
    expect(await store.claim([{ key, leaseMs: 1_000 }])).toEqual([ClaimState.Done]);
    await redis.del(store.keyOf(key));
  });

  it('keeps a claim in Redis for its lease plus the TTL, not just the lease', async () => {
    // Prepare
    const redis = await connected();
    const store = new RedisDedupStore({ redis, keyPrefix: uniqueName('dd'), ttlMs: TTL_MS });
    // Act
    await store.claim([{ key: 'k1', leaseMs: 5_000 }]);
    // Assess
    const pttl = await redis.pttl(store.keyOf('k1'));
    expect(pttl).toBeGreaterThan(5_000);
    expect(pttl).toBeLessThanOrEqual(5_000 + TTL_MS);
  });

  it('puts a cluster hash tag around the tenant and notification of a delivery key', async () => {
    // Prepare
    const redis = await connected();
    const store = new RedisDedupStore({ redis, keyPrefix: 'fx' });
    // Act
    const push = store.keyOf('acme#01J0#push#d1');
    const email = store.keyOf('acme#01J0#email#e1');
    // Assess
    expect(push).toBe('fx:{acme#01J0}:d:acme#01J0#push#d1');
    expect(email).toBe('fx:{acme#01J0}:d:acme#01J0#email#e1');
    expect(store.keyOf('k1')).toBe('fx:{k1}:d:k1');
    expect(new RedisDedupStore({ redis }).keyOf('k1')).toBe('fanout:{k1}:d:k1');
  });

  it('fails closed when Redis is down: DedupUnavailableError, nothing answered', async () => {
    // Prepare
    const redis = createRedis({ url: `redis://127.0.0.1:${await freePort()}` });
    redis.on('error', () => {});
    clients.push(redis);
    const store = new RedisDedupStore({ redis, keyPrefix: uniqueName('dd') });
    // Act
    const claim = store.claim([{ key: 'k1', leaseMs: 1_000 }]);
    // Assess
    await expect(claim).rejects.toBeInstanceOf(DedupUnavailableError);
    await expect(store.confirm(['k1'])).rejects.toBeInstanceOf(DedupUnavailableError);
    await expect(store.release(['k1'])).rejects.toBeInstanceOf(DedupUnavailableError);
  });

  it('fails closed when its connection drops in the middle of a batch', async () => {
    // Prepare
    const redis = await connected();
    const store = new RedisDedupStore({ redis, keyPrefix: uniqueName('dd') });
    const requests = Array.from({ length: 100 }, (_, i) => ({ key: `k${i}`, leaseMs: 1_000 }));
    // The connection drops once half the batch has gone out: some scripts ran, some never left.
    const commands = redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const send = commands.fanoutDedupClaim!.bind(redis);
    let sent = 0;
    commands.fanoutDedupClaim = (...args) => {
      if (++sent === 50) redis.disconnect();
      return send(...args);
    };
    // Act
    const error = await store.claim(requests).catch((err: unknown) => err);
    // Assess
    expect(sent).toBe(100);
    expect(error).toBeInstanceOf(DedupUnavailableError);
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('waits for a connection still opening (a cold start) instead of failing it', async () => {
    // Prepare
    const redis = emulatorRedis();
    clients.push(redis);
    const store = new RedisDedupStore({ redis, keyPrefix: uniqueName('dd'), connectTimeoutMs: 10_000 });
    // Act
    const states = await store.claim([{ key: 'k1', leaseMs: 1_000 }]);
    // Assess
    expect(states).toEqual([ClaimState.Acquired]);
  });

  it('lets only one of two consumers acquire a key claimed at the same time', async () => {
    // Prepare
    const prefix = uniqueName('dd');
    const first = new RedisDedupStore({ redis: await connected(), keyPrefix: prefix });
    const second = new RedisDedupStore({ redis: await connected(), keyPrefix: prefix });
    // Act
    const [a, b] = await Promise.all([
      first.claim([{ key: 'k1', leaseMs: 1_000 }]),
      second.claim([{ key: 'k1', leaseMs: 1_000 }]),
    ]);
    // Assess
    expect([...a!, ...b!].sort()).toEqual([ClaimState.Acquired, ClaimState.Busy].sort());
  });

  it('fails closed when its clock throws, and rejects a bad TTL', async () => {
    // Prepare
    const redis = await connected();
    const store = new RedisDedupStore({
      redis,
      keyPrefix: uniqueName('dd'),
      clock: {
        now: () => {
          throw new Error('clock lost');
        },
      },
    });
    // Act / Assess
    await expect(store.claim([{ key: 'k1', leaseMs: 1 }])).rejects.toBeInstanceOf(DedupUnavailableError);
    for (const ttlMs of [0, -1, 1.5]) {
      expect(() => new RedisDedupStore({ redis, ttlMs })).toThrow(ValidationError);
    }
  });
});

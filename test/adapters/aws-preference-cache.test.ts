import { afterEach, describe, expect, it } from 'vitest';
import { RedisPreferenceCache } from '../../src/adapters/aws/preference-cache.ts';
import { StoreUnavailableError, ValidationError } from '../../src/domain/errors.ts';
import type { Preferences, UserKey } from '../../src/domain/types.ts';
import type { Logger } from '../../src/ports/logger.ts';
import { createRedis } from '../../src/runtime/aws-clients.ts';
import { freePort } from '../../src/runtime/local-aws/emulators.ts';
import { preferenceCacheContract } from '../contracts/preference-cache.contract.ts';
import { closeRedis, readyRedis, uniqueName } from '../support/aws.ts';

preferenceCacheContract('aws (ElastiCache Redis)', async () => {
  const redis = await readyRedis();
  return {
    cache: new RedisPreferenceCache({ redis, keyPrefix: uniqueName('pc') }),
    close: () => closeRedis(redis),
  };
});

function user(userId: string): UserKey {
  return { tenantId: 'tenant-1', userId };
}

function prefs(userId: string): Preferences {
  return {
    tenantId: 'tenant-1',
    userId,
    timezone: 'UTC',
    email: `${userId}@example.com`,
    consent: { push: true },
    channels: {},
    categories: {},
    updatedAt: 1,
  };
}

/** A logger that keeps every line, to check nothing personal is logged. */
function recordingLogger(): Logger & { readonly lines: string[] } {
  const lines: string[] = [];
  const log = (message: string, attributes?: Readonly<Record<string, unknown>>) => {
    lines.push(JSON.stringify({ message, ...attributes }));
  };
  return { lines, debug: log, info: log, warn: log, error: log };
}

describe('RedisPreferenceCache', () => {
  const closers: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  it('keys entries by a cluster hash tag around tenant#user, with the TTL it was given', async () => {
    // Prepare
    const redis = await readyRedis();
    closers.push(() => closeRedis(redis));
    const prefix = uniqueName('pc');
    const cache = new RedisPreferenceCache({ redis, keyPrefix: prefix, ttlSeconds: 120 });
    // Act
    await cache.set(user('alice'), prefs('alice'));
    await cache.set(user('bob'), null);
    // Assess
    expect(cache.keyOf(user('alice'))).toBe(`${prefix}:{tenant-1#alice}:prefs`);
    expect(await redis.get(`${prefix}:{tenant-1#bob}:prefs`)).toBe('null');
    const ttl = await redis.ttl(`${prefix}:{tenant-1#alice}:prefs`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(120);
  });

  it('defaults to a 300-second TTL and the fanout prefix', async () => {
    // Prepare
    const redis = await readyRedis();
    closers.push(() => closeRedis(redis));
    const cache = new RedisPreferenceCache({ redis });
    const who = { tenantId: uniqueName('tenant'), userId: 'alice' };
    closers.push(() => redis.del(cache.keyOf(who)));
    // Act
    await cache.set(who, null);
    // Assess
    expect(cache.keyOf(who)).toBe(`fanout:{${who.tenantId}#alice}:prefs`);
    const ttl = await redis.ttl(cache.keyOf(who));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
  });

  it('misses and skips fills when Redis is down, logging no key, but refuses to drop an invalidation', async () => {
    // Prepare
    const redis = createRedis({ url: `redis://127.0.0.1:${await freePort()}` });
    redis.on('error', () => {});
    closers.push(async () => redis.disconnect());
    const logger = recordingLogger();
    const cache = new RedisPreferenceCache({ redis, keyPrefix: uniqueName('pc'), logger });
    // Act
    const read = await cache.get(user('alice'));
    const fill = cache.set(user('alice'), prefs('alice'));
    const invalidation = cache.invalidate([user('alice'), user('bob')]);
    // Assess
    expect(read).toBeUndefined();
    await expect(fill).resolves.toBeUndefined();
    await expect(invalidation).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(logger.lines.length).toBeGreaterThan(0);
    for (const line of logger.lines) {
      expect(line).not.toContain('alice');
      expect(line).not.toContain('tenant-1');
    }
  });

  it('treats a value it cannot parse as a miss', async () => {
    // Prepare
    const redis = await readyRedis();
    closers.push(() => closeRedis(redis));
    const cache = new RedisPreferenceCache({ redis, keyPrefix: uniqueName('pc') });
    await redis.set(cache.keyOf(user('alice')), '{truncated', 'EX', 60);
    // Act / Assess
    expect(await cache.get(user('alice'))).toBeUndefined();
  });

  it('rejects a TTL that is not a whole number of seconds from 1, and undefined as a value', async () => {
    // Prepare
    const redis = await readyRedis();
    closers.push(() => closeRedis(redis));
    // Act / Assess
    for (const ttlSeconds of [0, -1, 1.5]) {
      expect(() => new RedisPreferenceCache({ redis, ttlSeconds })).toThrow(ValidationError);
    }
    await expect(
      new RedisPreferenceCache({ redis }).set(user('a'), undefined as unknown as null),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});

import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoFollowerGraph } from '../../src/adapters/aws/follower-graph.ts';
import { CachedFollowerGraph } from '../../src/adapters/aws/hot-follower-lists.ts';
import type { UserKey } from '../../src/domain/types.ts';
import type { FollowerGraph, FollowerPage, FollowerPageOptions } from '../../src/ports/follower-graph.ts';
import type { Logger } from '../../src/ports/logger.ts';
import { createRedis } from '../../src/runtime/aws-clients.ts';
import { freePort } from '../../src/runtime/local-aws/emulators.ts';
import { followerGraphContract } from '../contracts/follower-graph.contract.ts';
import { emulatorClients, emulatorRedis, freshTables, uniqueName } from '../support/aws.ts';

const clients = emulatorClients();
const redis = emulatorRedis();
afterAll(async () => {
  clients.destroy();
  await redis.quit();
});

/** Deletes every key under `prefix` (never FLUSHDB: the Redis is shared). */
async function dropKeys(prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

followerGraphContract('aws (DynamoDB + Redis hot lists)', async () => {
  const names = await freshTables(clients, ['followers']);
  const keyPrefix = uniqueName('hot');
  const graph = new CachedFollowerGraph({
    graph: new DynamoFollowerGraph({ documents: clients.documents, tableName: names.followers }),
    redis,
    keyPrefix,
  });
  return {
    graph,
    async close() {
      await graph.idle();
      await dropKeys(keyPrefix);
    },
  };
});

/** Counts the graph's page reads, and can pause the next one after it got its answer. */
class SpyGraph {
  pageReads = 0;
  #pause: { reached: () => void; gate: Promise<void> } | undefined;
  readonly inner: FollowerGraph;
  constructor(inner: FollowerGraph) {
    this.inner = inner;
  }

  /** `reached` resolves when the next page read has its answer and waits for `release`. */
  pauseNextRead(): { reached: Promise<void>; release: () => void } {
    let reached = () => {};
    let release = () => {};
    const reachedPromise = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#pause = { reached, gate };
    return { reached: reachedPromise, release };
  }

  wrap(): FollowerGraph {
    const spy = this;
    return new Proxy(this.inner, {
      get(target, prop, receiver) {
        if (prop !== 'pageFollowers') return Reflect.get(target, prop, receiver).bind(target);
        return async (author: UserKey, opts?: FollowerPageOptions) => {
          spy.pageReads++;
          const page: FollowerPage = await target.pageFollowers(author, opts);
          const pause = spy.#pause;
          spy.#pause = undefined;
          if (pause !== undefined) {
            pause.reached();
            await pause.gate;
          }
          return page;
        };
      },
    });
  }
}

function recordingLogger(): Logger & { warnings: { message: string; attributes: unknown }[] } {
  const warnings: { message: string; attributes: unknown }[] = [];
  return {
    warnings,
    debug() {},
    info() {},
    error() {},
    warn(message, attributes) {
      warnings.push({ message, attributes });
    },
  };
}

const T = 'tenant-1';
const star = { tenantId: T, userId: 'star' };
const follows = (followers: string[], alerts?: boolean) =>
  followers.map((followerId) => ({
    tenantId: T,
    authorId: 'star',
    followerId,
    ...(alerts === undefined ? {} : { alerts }),
  }));

describe('CachedFollowerGraph', () => {
  let spy: SpyGraph;
  let keyPrefix: string;
  let graph: CachedFollowerGraph;

  beforeEach(async () => {
    const names = await freshTables(clients, ['followers']);
    spy = new SpyGraph(new DynamoFollowerGraph({ documents: clients.documents, tableName: names.followers }));
    keyPrefix = uniqueName('hot');
    graph = new CachedFollowerGraph({ graph: spy.wrap(), redis, keyPrefix });
  });
  afterEach(async () => {
    await graph.idle();
    await dropKeys(keyPrefix);
  });

  const listKey = () => `${keyPrefix}:{${T}#star}:followers`;

  it('reads DynamoDB on a miss, rebuilds the hot list, then serves pages from Redis', async () => {
    // Prepare
    await graph.follow([...follows(['carol', 'bob'], true), ...follows(['dave'])]);
    // Act
    const miss = await graph.pageFollowers(star);
    await graph.idle();
    const readsAfterBuild = spy.pageReads;
    const hit = await graph.pageFollowers(star);
    const alertsHit = await graph.pageFollowers(star, { alertsOnly: true });
    // Assess
    expect(miss).toEqual({ followers: ['bob', 'carol', 'dave'] });
    expect(hit).toEqual(miss);
    expect(alertsHit).toEqual({ followers: ['bob', 'carol'] });
    expect(spy.pageReads).toBe(readsAfterBuild);
    expect(await redis.ttl(listKey())).toBeGreaterThan(0);
  });

  it('pages every follower once when a traversal moves from DynamoDB to Redis', async () => {
    // Prepare
    const followers = Array.from({ length: 9 }, (_, i) => `f${i}`);
    await graph.follow(follows(followers));
    // Act
    const first = await graph.pageFollowers(star, { limit: 4 });
    await graph.idle();
    const second = await graph.pageFollowers(star, { limit: 4, after: first.next! });
    const third = await graph.pageFollowers(star, { limit: 4, after: second.next! });
    // Assess
    expect([...first.followers, ...second.followers, ...third.followers]).toEqual(followers);
    expect(third.next).toBeUndefined();
  });

  it('drops the hot list when the author gains or loses a follower', async () => {
    // Prepare
    await graph.follow(follows(['bob']));
    await graph.pageFollowers(star);
    await graph.idle();
    // Act
    await graph.follow(follows(['carol']));
    const existsAfterFollow = await redis.exists(listKey());
    const afterFollow = await graph.pageFollowers(star);
    await graph.idle();
    await graph.unfollow(follows(['bob']));
    const afterUnfollow = await graph.pageFollowers(star);
    // Assess
    expect(existsAfterFollow).toBe(0);
    expect(afterFollow.followers).toEqual(['bob', 'carol']);
    expect(afterUnfollow.followers).toEqual(['carol']);
  });

  it('does not publish a rebuild that read the graph before a follow', async () => {
    // Prepare
    await graph.follow(follows(['bob']));
    await graph.pageFollowers(star);
    const paused = spy.pauseNextRead();
    await paused.reached;
    // Act
    await graph.follow(follows(['late']));
    paused.release();
    await graph.idle();
    // Assess
    expect(await redis.exists(listKey())).toBe(0);
    expect((await graph.pageFollowers(star)).followers).toEqual(['bob', 'late']);
  });

  it('keeps authors above maxCachedFollowers in DynamoDB only', async () => {
    // Prepare
    const small = new CachedFollowerGraph({ graph: spy.wrap(), redis, keyPrefix, maxCachedFollowers: 2 });
    await small.follow(follows(['a', 'b', 'c']));
    // Act
    const page = await small.pageFollowers(star);
    await small.idle();
    // Assess
    expect(page.followers).toEqual(['a', 'b', 'c']);
    expect(await redis.exists(listKey())).toBe(0);
  });

  it('answers from DynamoDB when Redis is down, and logs counts only', async () => {
    // Prepare
    const down = createRedis({ url: `redis://127.0.0.1:${await freePort()}` });
    down.on('error', () => {});
    const logger = recordingLogger();
    const offline = new CachedFollowerGraph({ graph: spy.wrap(), redis: down, keyPrefix, logger });
    // Act
    await offline.follow(follows(['bob', 'carol'], true));
    const page = await offline.pageFollowers(star, { limit: 1 });
    const rest = await offline.pageFollowers(star, { limit: 1, after: page.next! });
    await offline.idle();
    // Assess
    expect([...page.followers, ...rest.followers]).toEqual(['bob', 'carol']);
    expect(await offline.followerCount(star)).toBe(2);
    expect(logger.warnings.length).toBeGreaterThan(0);
    expect(JSON.stringify(logger.warnings)).not.toMatch(/bob|carol|star/);
    down.disconnect();
  });
});

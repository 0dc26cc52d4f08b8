import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { authorPartition } from '../../domain/keys.ts';
import type { FollowEdge, UserId, UserKey } from '../../domain/types.ts';
import { errorName } from '../../lib/error-name.ts';
import type {
  AuthorTierState,
  FollowerGraph,
  FollowerPage,
  FollowerPageOptions,
} from '../../ports/follower-graph.ts';
import { type Logger, silentLogger } from '../../ports/logger.ts';
import { checkFollowerPage } from '../checks/follower-graph.ts';

export interface CachedFollowerGraphOptions {
  /** The full graph (DynamoDB): every write goes there, every miss reads it. */
  readonly graph: FollowerGraph;
  /** ElastiCache; a client that fails fast (see `createRedis`), so a miss never waits on it. */
  readonly redis: Redis;
  /** How long a hot list lives; also bounds staleness should an invalidation be lost. @default 600 */
  readonly ttlSeconds?: number;
  /** Authors with more followers stay in DynamoDB only (a hot list is rebuilt whole). @default 100_000 */
  readonly maxCachedFollowers?: number;
  readonly logger?: Logger;
  /** First part of every key, so tests and environments share one Redis apart. @default 'fanout' */
  readonly keyPrefix?: string;
}

const BUILD_PAGE = 5000;
/** Generation keys outlive any build by far: a build older than half of this is dropped. */
const GENERATION_TTL_SECONDS = 900;
const MAX_BUILD_MS = (GENERATION_TTL_SECONDS * 1000) / 2;
/** Staging keys of a build that died half-way go away on their own. */
const STAGING_TTL_SECONDS = 300;
const INVALIDATE_CONCURRENCY = 16;
/** Every hot list holds this member so an existing key means "complete"; ids are never empty. */
const SENTINEL = '';

/**
 * Moves a fully staged hot list into place, unless the author's followers changed since the build
 * began (an invalidation replaced the generation): a build that read DynamoDB before a follow
 * must not publish a list missing it. KEYS: list, alerts list, generation, staged list, staged
 * alerts. ARGV: the generation seen when the build began ('' for none), TTL seconds.
 */
const PUBLISH = `
if (redis.call('GET', KEYS[3]) or '') ~= ARGV[1] then
  redis.call('DEL', KEYS[4], KEYS[5])
  return 0
end
redis.call('RENAME', KEYS[4], KEYS[1])
redis.call('RENAME', KEYS[5], KEYS[2])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1`;

interface HotKeys {
  readonly followers: string;
  readonly alerts: string;
  readonly generation: string;
}

/**
 * A FollowerGraph whose follower pages come from a hot list in Redis when there is one:
 * two sorted sets per author, `fanout:{tenant#author}:followers` and `…:alerts` (one hash tag, so
 * one cluster slot), all scores 0 so members sort by their bytes, which is the order DynamoDB
 * sorts `f#<follower>` in. `after` is the last follower id in both, so a traversal may switch
 * between Redis and DynamoDB from one page to the next and still see every follower once.
 *
 * A miss reads DynamoDB and, at the start of a traversal, rebuilds the list in the background
 * (staged under a fresh key, published atomically by a script), for authors up to
 * `maxCachedFollowers`. Writes go to DynamoDB first, then replace the author's generation and
 * delete the lists. Redis failing never fails a read: it falls back to DynamoDB with a warning.
 * Counts, tiers and celebrity followings always come from the graph. In Lambda a rebuild still
 * running when the handler returns is frozen with the container; `idle()` waits for it.
 */
export class CachedFollowerGraph implements FollowerGraph {
  readonly #graph: FollowerGraph;
  readonly #redis: Redis;
  readonly #ttl: number;
  readonly #max: number;
  readonly #logger: Logger;
  readonly #prefix: string;
  readonly #building = new Map<string, Promise<void>>();

  constructor(opts: CachedFollowerGraphOptions) {
    this.#graph = opts.graph;
    this.#redis = opts.redis;
    this.#ttl = opts.ttlSeconds ?? 600;
    this.#max = opts.maxCachedFollowers ?? 100_000;
    this.#logger = opts.logger ?? silentLogger;
    this.#prefix = opts.keyPrefix ?? 'fanout';
  }

  async follow(edges: readonly FollowEdge[]): Promise<void> {
    try {
      await this.#graph.follow(edges);
    } finally {
      // Also after a failure: part of the batch may have been applied.
      if (Array.isArray(edges)) await this.#invalidate(edges);
    }
  }

  async unfollow(edges: readonly Omit<FollowEdge, 'alerts'>[]): Promise<void> {
    try {
      await this.#graph.unfollow(edges);
    } finally {
      if (Array.isArray(edges)) await this.#invalidate(edges);
    }
  }

  followerCount(author: UserKey): Promise<number> {
    return this.#graph.followerCount(author);
  }

  async pageFollowers(author: UserKey, opts: FollowerPageOptions = {}): Promise<FollowerPage> {
    const limit = checkFollowerPage(author, opts);
    const hot = await this.#readHot(author, opts.alertsOnly === true, opts.after, limit);
    if (Array.isArray(hot)) {
      const followers = hot.slice(0, limit);
      return hot.length > limit ? { followers, next: followers[followers.length - 1]! } : { followers };
    }
    const page = await this.#graph.pageFollowers(author, opts);
    // Rebuilt once per traversal, at its start; not while Redis is failing.
    if (hot === 'miss' && opts.after === undefined) this.#scheduleBuild(author);
    return page;
  }

  tier(author: UserKey): Promise<AuthorTierState | undefined> {
    return this.#graph.tier(author);
  }

  setTier(author: UserKey, state: AuthorTierState): Promise<void> {
    return this.#graph.setTier(author, state);
  }

  celebrityFollowings(user: UserKey): Promise<UserId[]> {
    return this.#graph.celebrityFollowings(user);
  }

  followedAmong(user: UserKey, authorIds: readonly UserId[]): Promise<Set<UserId>> {
    return this.#graph.followedAmong(user, authorIds);
  }

  hasFollowed(user: UserKey): Promise<boolean> {
    return this.#graph.hasFollowed(user);
  }

  /** Resolves once every background rebuild started so far has ended (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#building.size > 0) await Promise.allSettled([...this.#building.values()]);
  }

  /** Up to `limit + 1` ids after `after`; 'miss' without a hot list, 'down' when Redis failed. */
  async #readHot(
    author: UserKey,
    alertsOnly: boolean,
    after: string | undefined,
    limit: number,
  ): Promise<string[] | 'miss' | 'down'> {
    const keys = this.#keys(author);
    const key = alertsOnly ? keys.alerts : keys.followers;
    // '(' + after: strictly after it; '(' alone: strictly after the sentinel.
    const min = `(${after ?? SENTINEL}`;
    try {
      const replies = await this.#redis
        .multi()
        .exists(key)
        .zrangebylex(key, min, '+', 'LIMIT', 0, limit + 1)
        .exec();
      const [exists, range] = replies ?? [];
      if (exists?.[0] || range?.[0]) throw exists?.[0] ?? range?.[0];
      return exists?.[1] === 1 ? (range?.[1] as string[]) : 'miss';
    } catch (err) {
      this.#logger.warn('hot follower list unavailable; paging DynamoDB', { error: errorName(err), limit });
      return 'down';
    }
  }

  #scheduleBuild(author: UserKey): void {
    const id = authorPartition(author.tenantId, author.userId);
    if (this.#building.has(id)) return;
    const build = this.#build(author)
      .catch((err: unknown) => {
        this.#logger.warn('hot follower list not rebuilt', { error: errorName(err) });
      })
      .finally(() => this.#building.delete(id));
    this.#building.set(id, build);
  }

  /** Copies the author's followers from the graph into staged sets, then publishes them. */
  async #build(author: UserKey): Promise<void> {
    const started = Date.now();
    const keys = this.#keys(author);
    // Read before the graph, so any write after this point changes what PUBLISH compares.
    const generation = (await this.#redis.get(keys.generation)) ?? '';
    if ((await this.#graph.followerCount(author)) > this.#max) return;
    const tag = `${this.#prefix}:{${authorPartition(author.tenantId, author.userId)}}`;
    const run = randomUUID();
    const staged = { followers: `${tag}:build:${run}:followers`, alerts: `${tag}:build:${run}:alerts` };
    let published = false;
    try {
      await this.#redis
        .multi()
        .zadd(staged.followers, 0, SENTINEL)
        .zadd(staged.alerts, 0, SENTINEL)
        .expire(staged.followers, STAGING_TTL_SECONDS)
        .expire(staged.alerts, STAGING_TTL_SECONDS)
        .exec();
      let copied = 0;
      for (const alertsOnly of [false, true]) {
        const into = alertsOnly ? staged.alerts : staged.followers;
        let after: string | undefined;
        do {
          // The latest, never `recent`: a list built from a read that missed a follow made before
          // the generation was read would be published, and served until it expires.
          const page = await this.#graph.pageFollowers(author, {
            limit: BUILD_PAGE,
            ...(alertsOnly ? { alertsOnly } : {}),
            ...(after === undefined ? {} : { after }),
          });
          // The author grew past the limit since the count was read: leave it to DynamoDB.
          if (!alertsOnly) copied += page.followers.length;
          if (copied > this.#max) return;
          if (page.followers.length > 0) {
            await this.#redis.zadd(into, ...page.followers.flatMap((f) => [0, f]));
          }
          after = page.next;
        } while (after !== undefined);
      }
      if (Date.now() - started > MAX_BUILD_MS) return;
      const args = [keys.followers, keys.alerts, keys.generation, staged.followers, staged.alerts];
      published = (await this.#redis.eval(PUBLISH, 5, ...args, generation, this.#ttl)) === 1;
    } finally {
      if (!published) await this.#redis.del(staged.followers, staged.alerts).catch(() => 0);
    }
  }

  /** New generation and no lists for every author the edges name; failures are logged, not thrown. */
  async #invalidate(edges: readonly Omit<FollowEdge, 'alerts'>[]): Promise<void> {
    const authors = new Map<string, UserKey>();
    for (const e of edges) {
      if (typeof e?.tenantId !== 'string' || typeof e.authorId !== 'string') continue;
      authors.set(authorPartition(e.tenantId, e.authorId), { tenantId: e.tenantId, userId: e.authorId });
    }
    const list = [...authors.values()];
    let failed = 0;
    let lastError: unknown;
    for (let i = 0; i < list.length; i += INVALIDATE_CONCURRENCY) {
      const results = await Promise.allSettled(
        list.slice(i, i + INVALIDATE_CONCURRENCY).map(async (author) => {
          const keys = this.#keys(author);
          const replies = await this.#redis
            .multi()
            .set(keys.generation, randomUUID(), 'EX', GENERATION_TTL_SECONDS)
            .del(keys.followers, keys.alerts)
            .exec();
          const error = replies?.find(([err]) => err !== null)?.[0];
          if (error) throw error;
        }),
      );
      for (const r of results) {
        if (r.status === 'rejected') {
          failed++;
          lastError = r.reason;
        }
      }
    }
    if (failed > 0) {
      // The lists expire within ttlSeconds; until then those authors' pages may be stale.
      this.#logger.warn('hot follower lists not invalidated', {
        error: errorName(lastError),
        authors: failed,
        ttlSeconds: this.#ttl,
      });
    }
  }

  #keys(author: UserKey): HotKeys {
    const tag = `${this.#prefix}:{${authorPartition(author.tenantId, author.userId)}}`;
    return { followers: `${tag}:followers`, alerts: `${tag}:alerts`, generation: `${tag}:generation` };
  }
}

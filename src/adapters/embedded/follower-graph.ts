import type { StatementSync } from 'node:sqlite';
import type { FollowEdge, UserId, UserKey } from '../../domain/types.ts';
import { Tier } from '../../domain/types.ts';
import type {
  AuthorTierState,
  FollowerGraph,
  FollowerPage,
  FollowerPageOptions,
} from '../../ports/follower-graph.ts';
import { checkAuthorIds, checkFollowerPage, checkTierState, validateEdge } from '../checks/follower-graph.ts';
import { requireArray, requireUser } from '../checks/input.ts';
import type { EmbeddedDb } from './db.ts';
import { storeStep } from './store-step.ts';

export interface EmbeddedFollowerGraphOptions {
  readonly db: EmbeddedDb;
}

/**
 * Who follows whom, on SQLite. Edges are keyed (tenant, author, follower), so an author's
 * followers page by keyset on the follower id; an index on (tenant, follower) answers "whom does
 * this user follow". A per-author row keeps the follower count (changed in the same transaction
 * as the edges, counting only edges that really appeared or disappeared), the tier, and a sticky
 * `ever_celebrity` flag: a demoted author is still named by `celebrityFollowings` (whose
 * pointers wake a follower's live stream). `followers_seen` remembers every user who ever followed anyone (hasFollowed).
 */
export class EmbeddedFollowerGraph implements FollowerGraph {
  readonly #db: EmbeddedDb;
  readonly #s: Record<
    | 'insertEdge'
    | 'updateAlerts'
    | 'deleteEdge'
    | 'addCount'
    | 'count'
    | 'page'
    | 'pageAlerts'
    | 'tier'
    | 'setTier'
    | 'celebrities'
    | 'seen'
    | 'hasFollowed'
    | 'followedAmong',
    StatementSync
  >;

  constructor(opts: EmbeddedFollowerGraphOptions) {
    this.#db = opts.db;
    const sqlite = opts.db.sqlite;
    this.#s = storeStep('follower graph set-up', () => {
      const hadSeen = sqlite
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'followers_seen'")
        .get();
      sqlite.exec(`
        CREATE TABLE IF NOT EXISTS follows (
          tenant_id TEXT NOT NULL,
          author_id TEXT NOT NULL,
          follower_id TEXT NOT NULL,
          alerts INTEGER NOT NULL,
          PRIMARY KEY (tenant_id, author_id, follower_id)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS follows_by_follower ON follows (tenant_id, follower_id);
        CREATE INDEX IF NOT EXISTS follows_alerts ON follows (tenant_id, author_id, follower_id) WHERE alerts = 1;
        CREATE TABLE IF NOT EXISTS authors (
          tenant_id TEXT NOT NULL,
          author_id TEXT NOT NULL,
          follower_count INTEGER NOT NULL DEFAULT 0,
          tier TEXT,
          tier_changed_at INTEGER,
          ever_celebrity INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (tenant_id, author_id)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS followers_seen (
          tenant_id TEXT NOT NULL,
          follower_id TEXT NOT NULL,
          PRIMARY KEY (tenant_id, follower_id)
        ) WITHOUT ROWID;
      `);
      // A data file from before this table: whoever follows anyone now has followed.
      if (hadSeen === undefined) {
        sqlite.exec(
          'INSERT OR IGNORE INTO followers_seen (tenant_id, follower_id) SELECT DISTINCT tenant_id, follower_id FROM follows',
        );
      }
      return {
        insertEdge: sqlite.prepare(
          'INSERT OR IGNORE INTO follows (tenant_id, author_id, follower_id, alerts) VALUES (?, ?, ?, ?)',
        ),
        updateAlerts: sqlite.prepare(
          'UPDATE follows SET alerts = ? WHERE tenant_id = ? AND author_id = ? AND follower_id = ? AND alerts <> ?',
        ),
        deleteEdge: sqlite.prepare(
          'DELETE FROM follows WHERE tenant_id = ? AND author_id = ? AND follower_id = ?',
        ),
        addCount: sqlite.prepare(
          `INSERT INTO authors (tenant_id, author_id, follower_count) VALUES (?, ?, ?)
           ON CONFLICT (tenant_id, author_id) DO UPDATE SET follower_count = follower_count + excluded.follower_count`,
        ),
        count: sqlite.prepare('SELECT follower_count FROM authors WHERE tenant_id = ? AND author_id = ?'),
        // `LIMIT CAST(? AS INTEGER)`, not `LIMIT ?`: with node:sqlite the bare parameter made these
        // short range reads several times slower (docs/benchmarks.md).
        page: sqlite.prepare(
          `SELECT follower_id FROM follows WHERE tenant_id = ? AND author_id = ? AND follower_id > ?
           ORDER BY follower_id LIMIT CAST(? AS INTEGER)`,
        ),
        // `alerts = 1` spelled out so the planner uses the partial index.
        pageAlerts: sqlite.prepare(
          `SELECT follower_id FROM follows WHERE tenant_id = ? AND author_id = ? AND follower_id > ? AND alerts = 1
           ORDER BY follower_id LIMIT CAST(? AS INTEGER)`,
        ),
        tier: sqlite.prepare(
          'SELECT tier, tier_changed_at FROM authors WHERE tenant_id = ? AND author_id = ? AND tier IS NOT NULL',
        ),
        setTier: sqlite.prepare(
          `INSERT INTO authors (tenant_id, author_id, tier, tier_changed_at, ever_celebrity) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (tenant_id, author_id) DO UPDATE SET tier = excluded.tier,
             tier_changed_at = excluded.tier_changed_at,
             ever_celebrity = max(ever_celebrity, excluded.ever_celebrity)`,
        ),
        celebrities: sqlite.prepare(
          `SELECT f.author_id FROM follows f
           JOIN authors a ON a.tenant_id = f.tenant_id AND a.author_id = f.author_id
           WHERE f.tenant_id = ? AND f.follower_id = ? AND a.ever_celebrity = 1
           ORDER BY f.author_id`,
        ),
        seen: sqlite.prepare('INSERT OR IGNORE INTO followers_seen (tenant_id, follower_id) VALUES (?, ?)'),
        hasFollowed: sqlite.prepare(
          'SELECT 1 AS found FROM followers_seen WHERE tenant_id = ? AND follower_id = ?',
        ),
        // CROSS JOIN keeps json_each outside: one key look-up per author asked about.
        followedAmong: sqlite.prepare(
          `SELECT DISTINCT f.author_id FROM json_each(?) j CROSS JOIN follows f
           WHERE f.tenant_id = ? AND f.author_id = j.value AND f.follower_id = ?`,
        ),
      };
    });
  }

  async follow(edges: readonly FollowEdge[]): Promise<void> {
    requireArray(edges, 'edges');
    edges.forEach(validateEdge);
    const { insertEdge, updateAlerts, seen } = this.#s;
    storeStep('follow', () =>
      this.#db.transaction(() => {
        const counts = new CountDeltas();
        const followers = new Set<string>();
        for (const edge of edges) {
          const key = `${edge.tenantId}\u0000${edge.followerId}`;
          if (followers.has(key)) continue;
          followers.add(key);
          seen.run(edge.tenantId, edge.followerId);
        }
        for (const edge of edges) {
          const alerts = edge.alerts === true ? 1 : 0;
          if (insertEdge.run(edge.tenantId, edge.authorId, edge.followerId, alerts).changes === 0) {
            // Already following: a re-follow only updates `alerts` and must not count twice.
            updateAlerts.run(alerts, edge.tenantId, edge.authorId, edge.followerId, alerts);
          } else {
            counts.add(edge.tenantId, edge.authorId, 1);
          }
        }
        counts.apply(this.#s.addCount);
      }),
    );
  }

  async unfollow(edges: readonly Omit<FollowEdge, 'alerts'>[]): Promise<void> {
    requireArray(edges, 'edges');
    edges.forEach(validateEdge);
    const { deleteEdge } = this.#s;
    storeStep('unfollow', () =>
      this.#db.transaction(() => {
        const counts = new CountDeltas();
        for (const edge of edges) {
          if (deleteEdge.run(edge.tenantId, edge.authorId, edge.followerId).changes !== 0) {
            counts.add(edge.tenantId, edge.authorId, -1);
          }
        }
        counts.apply(this.#s.addCount);
      }),
    );
  }

  async followerCount(author: UserKey): Promise<number> {
    requireUser(author, 'author');
    const row = storeStep('follower count', () => this.#s.count.get(author.tenantId, author.userId)) as
      | { follower_count: number }
      | undefined;
    return row?.follower_count ?? 0;
  }

  async pageFollowers(author: UserKey, opts: FollowerPageOptions = {}): Promise<FollowerPage> {
    const limit = checkFollowerPage(author, opts);
    const statement = opts.alertsOnly === true ? this.#s.pageAlerts : this.#s.page;
    // One extra row tells whether another page exists, so the last page carries no `next`.
    const rows = storeStep('page followers', () =>
      statement.all(author.tenantId, author.userId, opts.after ?? '', limit + 1),
    ) as { follower_id: string }[];
    const followers = rows.slice(0, limit).map((row) => row.follower_id);
    return rows.length > limit ? { followers, next: followers[followers.length - 1]! } : { followers };
  }

  async tier(author: UserKey): Promise<AuthorTierState | undefined> {
    requireUser(author, 'author');
    const row = storeStep('tier read', () => this.#s.tier.get(author.tenantId, author.userId)) as
      | { tier: Tier; tier_changed_at: number }
      | undefined;
    return row === undefined ? undefined : { tier: row.tier, changedAt: row.tier_changed_at };
  }

  async setTier(author: UserKey, state: AuthorTierState): Promise<void> {
    checkTierState(author, state);
    const celebrity = state.tier === Tier.Celebrity ? 1 : 0;
    storeStep('tier write', () =>
      this.#s.setTier.run(author.tenantId, author.userId, state.tier, state.changedAt, celebrity),
    );
  }

  async celebrityFollowings(user: UserKey): Promise<UserId[]> {
    requireUser(user);
    const rows = storeStep('celebrity followings', () =>
      this.#s.celebrities.all(user.tenantId, user.userId),
    ) as {
      author_id: string;
    }[];
    return rows.map((row) => row.author_id);
  }

  async followedAmong(user: UserKey, authorIds: readonly UserId[]): Promise<Set<UserId>> {
    requireUser(user);
    checkAuthorIds(authorIds);
    if (authorIds.length === 0) return new Set();
    const rows = storeStep('followed among', () =>
      this.#s.followedAmong.all(JSON.stringify(authorIds), user.tenantId, user.userId),
    ) as { author_id: string }[];
    return new Set(rows.map((row) => row.author_id));
  }

  async hasFollowed(user: UserKey): Promise<boolean> {
    requireUser(user);
    return storeStep('has followed', () => this.#s.hasFollowed.get(user.tenantId, user.userId)) !== undefined;
  }
}

/**
 * Follower-count changes per author, summed in memory and written once per author: a bulk import
 * of a million edges of one author is one counter update, not a million.
 */
class CountDeltas {
  readonly #byTenant = new Map<string, Map<string, number>>();

  add(tenantId: string, authorId: string, delta: number): void {
    let authors = this.#byTenant.get(tenantId);
    if (authors === undefined) {
      authors = new Map();
      this.#byTenant.set(tenantId, authors);
    }
    authors.set(authorId, (authors.get(authorId) ?? 0) + delta);
  }

  apply(addCount: StatementSync): void {
    for (const [tenantId, authors] of this.#byTenant) {
      for (const [authorId, delta] of authors) {
        if (delta !== 0) addCount.run(tenantId, authorId, delta);
      }
    }
  }
}

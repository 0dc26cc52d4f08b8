import type { FollowEdge, Tier, UserId, UserKey } from '../domain/types.ts';
import type { FreshnessOptions } from './read-freshness.ts';

export interface FollowerPageOptions extends FreshnessOptions {
  /** Opaque position returned as `next` by the previous page. */
  readonly after?: string;
  /** @default 1000 */
  readonly limit?: number;
  /** Only followers who asked for alerts (push for a celebrity's events). */
  readonly alertsOnly?: boolean;
}

export interface FollowerPage {
  readonly followers: readonly UserId[];
  /** Undefined on the last page. */
  readonly next?: string;
}

/** An author's tier as last decided by the fan-out worker. */
export interface AuthorTierState {
  readonly tier: Tier;
  /** Epoch ms of the last change. */
  readonly changedAt: number;
}

/** Who follows whom, per tenant. */
export interface FollowerGraph {
  /** Idempotent; re-following updates `alerts`. Maintains follower counts. */
  follow(edges: readonly FollowEdge[]): Promise<void>;
  /** Idempotent; unknown edges are ignored. */
  unfollow(edges: readonly Omit<FollowEdge, 'alerts'>[]): Promise<void>;
  followerCount(author: UserKey): Promise<number>;
  /** Followers in a stable order; every follower exactly once across pages. */
  pageFollowers(author: UserKey, opts?: FollowerPageOptions): Promise<FollowerPage>;
  tier(author: UserKey): Promise<AuthorTierState | undefined>;
  setTier(author: UserKey, state: AuthorTierState): Promise<void>;
  /**
   * Authors this user follows whose events reach them through the celebrity feed: those that
   * are celebrities now, or were once (their pointers stay readable after a demotion, so a tier
   * change loses nothing). Its cost grows with the tenant's celebrities: the live stream uses it
   * to know whose pointers should wake it, never the inbox read path.
   */
  celebrityFollowings(user: UserKey): Promise<UserId[]>;
  /** Which of `authorIds` this user follows now. */
  followedAmong(user: UserKey, authorIds: readonly UserId[]): Promise<Set<UserId>>;
  /**
   * True once the user has followed anyone, and from then on (unfollowing everyone does not
   * clear it): a reader who never did has no celebrity pointer to catch up on.
   */
  hasFollowed(user: UserKey): Promise<boolean>;
}

import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.ts';
import type { FollowEdge, UserId, UserKey } from '../../src/domain/types.ts';
import { Tier } from '../../src/domain/types.ts';
import type { FollowerGraph, FollowerPageOptions } from '../../src/ports/follower-graph.ts';

/** What a suite run needs: a fresh, empty graph per test. */
export interface FollowerGraphHarness {
  readonly graph: FollowerGraph;
  close(): Promise<void>;
}

const T1 = 'tenant-1';
const T2 = 'tenant-2';

function key(tenantId: string, userId: string): UserKey {
  return { tenantId, userId };
}

function edges(
  tenantId: string,
  authorId: string,
  followers: readonly string[],
  alerts?: boolean,
): FollowEdge[] {
  return followers.map((followerId) => ({
    tenantId,
    authorId,
    followerId,
    ...(alerts === undefined ? {} : { alerts }),
  }));
}

/** Every follower of `author`, page after page; also returns how many pages it took. */
async function allFollowers(
  graph: FollowerGraph,
  author: UserKey,
  opts: Omit<FollowerPageOptions, 'after'> = {},
): Promise<{ followers: UserId[]; pages: number }> {
  const followers: UserId[] = [];
  let after: string | undefined;
  let pages = 0;
  do {
    const page = await graph.pageFollowers(author, { ...opts, ...(after === undefined ? {} : { after }) });
    followers.push(...page.followers);
    after = page.next;
    pages++;
    if (pages > 10_000) throw new Error('paging does not end');
  } while (after !== undefined);
  return { followers, pages };
}

/** The FollowerGraph port's contract: exact counts, complete paging, sticky celebrity followings. */
export function followerGraphContract(name: string, make: () => Promise<FollowerGraphHarness>): void {
  describe(`FollowerGraph contract: ${name}`, () => {
    let h: FollowerGraphHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    it('counts and lists the followers it was given', async () => {
      // Act
      await h.graph.follow(edges(T1, 'alice', ['bob', 'carol', 'dave']));
      // Assess
      expect(await h.graph.followerCount(key(T1, 'alice'))).toBe(3);
      expect((await allFollowers(h.graph, key(T1, 'alice'))).followers.sort()).toEqual([
        'bob',
        'carol',
        'dave',
      ]);
    });

    it('has no followers and one empty last page for an unknown author', async () => {
      // Act
      const page = await h.graph.pageFollowers(key(T1, 'nobody'));
      // Assess
      expect(await h.graph.followerCount(key(T1, 'nobody'))).toBe(0);
      expect(page).toEqual({ followers: [] });
    });

    it('counts a repeated follow once, within one call and across calls', async () => {
      // Act
      await h.graph.follow(edges(T1, 'alice', ['bob', 'bob', 'carol']));
      await h.graph.follow(edges(T1, 'alice', ['bob', 'carol']));
      // Assess
      expect(await h.graph.followerCount(key(T1, 'alice'))).toBe(2);
      expect((await allFollowers(h.graph, key(T1, 'alice'))).followers).toHaveLength(2);
    });

    it('keeps counts exact through re-follow, unfollow and unfollow of unknown edges', async () => {
      // Prepare
      await h.graph.follow(edges(T1, 'alice', ['bob', 'carol', 'dave']));
      // Act
      await h.graph.follow(edges(T1, 'alice', ['bob'], true));
      await h.graph.unfollow(edges(T1, 'alice', ['carol', 'carol', 'zed']));
      await h.graph.unfollow(edges(T1, 'alice', ['carol']));
      await h.graph.unfollow(edges(T1, 'nobody', ['bob']));
      // Assess
      expect(await h.graph.followerCount(key(T1, 'alice'))).toBe(2);
      expect(await h.graph.followerCount(key(T1, 'nobody'))).toBe(0);
      expect((await allFollowers(h.graph, key(T1, 'alice'))).followers.sort()).toEqual(['bob', 'dave']);
    });

    it('follows again after an unfollow and counts it again', async () => {
      // Prepare
      await h.graph.follow(edges(T1, 'alice', ['bob']));
      await h.graph.unfollow(edges(T1, 'alice', ['bob']));
      // Act
      await h.graph.follow(edges(T1, 'alice', ['bob']));
      // Assess
      expect(await h.graph.followerCount(key(T1, 'alice'))).toBe(1);
    });

    it('keeps a count equal to the number of edges after any sequence of follows and unfollows', async () => {
      let run = 0;
      const op = fc.record({ follow: fc.boolean(), follower: fc.integer({ min: 0, max: 9 }) });
      await fc.assert(
        fc.asyncProperty(fc.array(fc.array(op, { maxLength: 6 }), { maxLength: 8 }), async (calls) => {
          // Prepare
          const author = key(T1, `author-${run++}`);
          const expected = new Set<string>();
          // Act
          for (const call of calls) {
            const follows = call.filter((o) => o.follow).map((o) => `f${o.follower}`);
            const unfollows = call.filter((o) => !o.follow).map((o) => `f${o.follower}`);
            await h.graph.follow(edges(T1, author.userId, follows));
            await h.graph.unfollow(edges(T1, author.userId, unfollows));
            for (const f of follows) expected.add(f);
            for (const f of unfollows) expected.delete(f);
          }
          // Assess
          expect(await h.graph.followerCount(author)).toBe(expected.size);
          expect((await allFollowers(h.graph, author)).followers.sort()).toEqual([...expected].sort());
        }),
        { numRuns: 30 },
      );
    });

    it('pages every follower exactly once, in a stable order, the last page without next', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 0, maxLength: 40 }),
          fc.integer({ min: 1, max: 9 }),
          async (followers, limit) => {
            // Prepare
            const author = key(T1, `author-${run++}`);
            await h.graph.follow(edges(T1, author.userId, followers));
            // Act
            const first = await allFollowers(h.graph, author, { limit });
            const second = await allFollowers(h.graph, author, { limit });
            // Assess
            expect([...first.followers].sort()).toEqual([...followers].sort());
            expect(second.followers).toEqual(first.followers);
            expect(first.pages).toBe(Math.max(1, Math.ceil(followers.length / limit)));
          },
        ),
        { numRuns: 40 },
      );
    });

    it('pages only followers who asked for alerts when alertsOnly is set', async () => {
      // Prepare
      const loud = Array.from({ length: 7 }, (_, i) => `loud-${i}`);
      const quiet = Array.from({ length: 9 }, (_, i) => `quiet-${i}`);
      await h.graph.follow([...edges(T1, 'star', quiet, false), ...edges(T1, 'star', loud, true)]);
      await h.graph.follow(edges(T1, 'star', ['mid']));
      // Act
      const alerted = await allFollowers(h.graph, key(T1, 'star'), { alertsOnly: true, limit: 3 });
      const everyone = await allFollowers(h.graph, key(T1, 'star'), { limit: 3 });
      // Assess
      expect(alerted.followers.sort()).toEqual(loud);
      expect(everyone.followers).toHaveLength(17);
    });

    it('pages the same followers when a recent read is enough, once writes have settled', async () => {
      // Prepare
      const followers = Array.from({ length: 7 }, (_, i) => `f-${i}`);
      await h.graph.follow(edges(T1, 'paged', followers));
      // Act
      const recent = await allFollowers(h.graph, key(T1, 'paged'), { limit: 3, freshness: 'recent' });
      // Assess
      expect(recent.followers).toEqual(
        (await allFollowers(h.graph, key(T1, 'paged'), { limit: 3 })).followers,
      );
      await expect(
        h.graph.pageFollowers(key(T1, 'paged'), { freshness: 'stale' as 'recent' }),
      ).rejects.toBeInstanceOf(ValidationError);
    });

    it('updates alerts on a re-follow without changing the count', async () => {
      // Prepare
      await h.graph.follow(edges(T1, 'star', ['bob', 'carol'], true));
      // Act
      await h.graph.follow(edges(T1, 'star', ['bob'], false));
      await h.graph.follow(edges(T1, 'star', ['dave'], false));
      await h.graph.follow(edges(T1, 'star', ['dave'], true));
      // Assess
      const alerted = await allFollowers(h.graph, key(T1, 'star'), { alertsOnly: true });
      expect(alerted.followers.sort()).toEqual(['carol', 'dave']);
      expect(await h.graph.followerCount(key(T1, 'star'))).toBe(3);
    });

    it('has no tier until one is set, then the latest one', async () => {
      // Prepare
      const star = key(T1, 'star');
      const before = await h.graph.tier(star);
      // Act
      await h.graph.setTier(star, { tier: Tier.Celebrity, changedAt: 1000 });
      await h.graph.setTier(star, { tier: Tier.Regular, changedAt: 2000 });
      // Assess
      expect(before).toBeUndefined();
      expect(await h.graph.tier(star)).toEqual({ tier: Tier.Regular, changedAt: 2000 });
    });

    it('lists the celebrities a user follows, and keeps one after its demotion', async () => {
      // Prepare
      await h.graph.follow([
        ...edges(T1, 'star', ['fan']),
        ...edges(T1, 'neighbour', ['fan']),
        ...edges(T1, 'newcomer', ['fan']),
        ...edges(T1, 'other-star', ['someone-else']),
      ]);
      await h.graph.setTier(key(T1, 'star'), { tier: Tier.Celebrity, changedAt: 1 });
      await h.graph.setTier(key(T1, 'neighbour'), { tier: Tier.Regular, changedAt: 1 });
      await h.graph.setTier(key(T1, 'other-star'), { tier: Tier.Celebrity, changedAt: 1 });
      const whileCelebrity = await h.graph.celebrityFollowings(key(T1, 'fan'));
      // Act
      await h.graph.setTier(key(T1, 'star'), { tier: Tier.Regular, changedAt: 2 });
      const afterDemotion = await h.graph.celebrityFollowings(key(T1, 'fan'));
      // Assess
      expect(whileCelebrity).toEqual(['star']);
      expect(afterDemotion).toEqual(['star']);
    });

    it('drops a celebrity from the followings once the user unfollows it', async () => {
      // Prepare
      await h.graph.follow(edges(T1, 'star', ['fan']));
      await h.graph.setTier(key(T1, 'star'), { tier: Tier.Celebrity, changedAt: 1 });
      // Act
      await h.graph.unfollow(edges(T1, 'star', ['fan']));
      // Assess
      expect(await h.graph.celebrityFollowings(key(T1, 'fan'))).toEqual([]);
    });

    it('never mixes two tenants that use the same ids', async () => {
      // Prepare
      await h.graph.follow([...edges(T1, 'alice', ['bob', 'carol'], true), ...edges(T2, 'alice', ['bob'])]);
      await h.graph.setTier(key(T1, 'alice'), { tier: Tier.Celebrity, changedAt: 1 });
      // Act
      await h.graph.unfollow(edges(T2, 'alice', ['carol']));
      // Assess
      expect(await h.graph.followerCount(key(T1, 'alice'))).toBe(2);
      expect(await h.graph.followerCount(key(T2, 'alice'))).toBe(1);
      expect((await allFollowers(h.graph, key(T2, 'alice'))).followers).toEqual(['bob']);
      expect((await allFollowers(h.graph, key(T2, 'alice'), { alertsOnly: true })).followers).toEqual([]);
      expect(await h.graph.tier(key(T2, 'alice'))).toBeUndefined();
      expect(await h.graph.celebrityFollowings(key(T1, 'bob'))).toEqual(['alice']);
      expect(await h.graph.celebrityFollowings(key(T2, 'bob'))).toEqual([]);
    });

    it('counts a bulk follow of many edges in one call exactly', async () => {
      // Prepare
      const followers = Array.from({ length: 5000 }, (_, i) => `f-${i}`);
      // Act
      await h.graph.follow(edges(T1, 'star', [...followers, ...followers.slice(0, 100)]));
      // Assess
      expect(await h.graph.followerCount(key(T1, 'star'))).toBe(5000);
      expect((await allFollowers(h.graph, key(T1, 'star'), { limit: 1000 })).followers).toHaveLength(5000);
    });

    it('answers which of some authors a user follows, per tenant, as edges come and go', async () => {
      // Prepare
      await h.graph.follow([...edges(T1, 'star', ['alice']), ...edges(T1, 'idol', ['alice', 'bob'])]);
      await h.graph.follow(edges(T2, 'nobody', ['alice']));
      // Act
      const before = await h.graph.followedAmong(key(T1, 'alice'), ['star', 'idol', 'nobody', 'star']);
      await h.graph.unfollow([{ tenantId: T1, authorId: 'star', followerId: 'alice' }]);
      const after = await h.graph.followedAmong(key(T1, 'alice'), ['star', 'idol', 'nobody']);
      // Assess
      expect(before).toEqual(new Set(['star', 'idol']));
      expect(after).toEqual(new Set(['idol']));
      expect(await h.graph.followedAmong(key(T1, 'alice'), [])).toEqual(new Set());
      expect(await h.graph.followedAmong(key(T2, 'alice'), ['star', 'idol', 'nobody'])).toEqual(
        new Set(['nobody']),
      );
      await expect(h.graph.followedAmong(key(T1, 'alice'), [''])).rejects.toBeInstanceOf(ValidationError);
    });

    it('remembers who has ever followed anyone, unfollowing everyone included', async () => {
      // Prepare
      const never = await h.graph.hasFollowed(key(T1, 'alice'));
      // Act
      await h.graph.follow(edges(T1, 'star', ['alice']));
      const following = await h.graph.hasFollowed(key(T1, 'alice'));
      await h.graph.unfollow([{ tenantId: T1, authorId: 'star', followerId: 'alice' }]);
      // Assess
      expect([never, following]).toEqual([false, true]);
      expect(await h.graph.hasFollowed(key(T1, 'alice'))).toBe(true);
      expect(await h.graph.hasFollowed(key(T2, 'alice'))).toBe(false);
      // Being followed is not following.
      expect(await h.graph.hasFollowed(key(T1, 'star'))).toBe(false);
    });

    it('rejects a batch holding an invalid edge and applies none of it', async () => {
      // Prepare
      const bad = { tenantId: T1, authorId: 'alice', followerId: '' };
      // Act
      const following = h.graph.follow([...edges(T1, 'alice', ['bob']), bad]);
      // Assess
      await expect(following).rejects.toBeInstanceOf(ValidationError);
      expect(await h.graph.followerCount(key(T1, 'alice'))).toBe(0);
      expect(await h.graph.hasFollowed(key(T1, 'bob'))).toBe(false);
    });

    it('rejects a page limit below one and a tier it does not know', async () => {
      // Act / Assess
      await expect(h.graph.pageFollowers(key(T1, 'alice'), { limit: 0 })).rejects.toBeInstanceOf(
        ValidationError,
      );
      await expect(
        h.graph.setTier(key(T1, 'alice'), { tier: 'famous' as Tier, changedAt: 1 }),
      ).rejects.toBeInstanceOf(ValidationError);
    });
  });
}

import type { UserId, UserKey } from '../domain/types.ts';
import type { FollowerGraph } from '../ports/follower-graph.ts';

/**
 * Which recipients get this celebrity's pointer into their inbox: exactly those who follow the
 * author, whose catch-up copies it in (an unfollow catches them up first, so they keep it).
 * Explicit recipients are few (the owner of a liked post, the people mentioned), so one edge
 * look-up each is cheap.
 */
export async function recipientsMergingPointer(
  author: UserKey,
  recipients: readonly UserId[],
  graph: FollowerGraph,
): Promise<ReadonlySet<UserId>> {
  const merging = new Set<UserId>();
  for (const userId of recipients) {
    const followed = await graph.followedAmong({ tenantId: author.tenantId, userId }, [author.userId]);
    if (followed.has(author.userId)) merging.add(userId);
  }
  return merging;
}

import { ValidationError } from '../../domain/errors.ts';
import { type FollowEdge, Tier, type UserKey } from '../../domain/types.ts';
import type { AuthorTierState, FollowerPageOptions } from '../../ports/follower-graph.ts';
import { requireArray, requireLimit, requireText, requireUser } from './input.ts';

/**
 * Argument checks of the FollowerGraph port, shared by the embedded graph, the DynamoDB graph and
 * the Redis hot lists in front of it, so all three refuse bad input with the same path and message.
 */

/** Followers per page when the caller names no limit. */
const DEFAULT_PAGE = 1000;
const TIERS: ReadonlySet<string> = new Set(Object.values(Tier));

/** Throws a ValidationError naming the first bad field of edge `i`. */
export function validateEdge(edge: Omit<FollowEdge, 'alerts'> & { alerts?: unknown }, i: number): void {
  requireText(edge?.tenantId, `edges[${i}].tenantId`);
  requireText(edge.authorId, `edges[${i}].authorId`);
  requireText(edge.followerId, `edges[${i}].followerId`);
  if (edge.alerts !== undefined && typeof edge.alerts !== 'boolean') {
    throw new ValidationError([{ path: `edges[${i}].alerts`, message: 'must be a boolean' }]);
  }
}

/** Checks the arguments of `pageFollowers`; returns the page size to use. */
export function checkFollowerPage(author: UserKey, opts: FollowerPageOptions): number {
  requireUser(author, 'author');
  const limit = opts.limit ?? DEFAULT_PAGE;
  requireLimit(limit);
  if (opts.after !== undefined && typeof opts.after !== 'string') {
    throw new ValidationError([{ path: 'after', message: 'must be the `next` of a previous page' }]);
  }
  if (opts.freshness !== undefined && opts.freshness !== 'latest' && opts.freshness !== 'recent') {
    throw new ValidationError([{ path: 'freshness', message: "must be 'latest' or 'recent'" }]);
  }
  return limit;
}

/** Checks the arguments of `setTier`. */
export function checkTierState(author: UserKey, state: AuthorTierState): void {
  requireUser(author, 'author');
  if (!TIERS.has(state?.tier)) throw new ValidationError([{ path: 'tier', message: 'is not a tier' }]);
  if (!Number.isFinite(state.changedAt)) {
    throw new ValidationError([{ path: 'changedAt', message: 'must be epoch ms' }]);
  }
}

/** Checks the author ids of `followedAmong`. */
export function checkAuthorIds(authorIds: readonly string[]): void {
  requireArray(authorIds, 'authorIds');
  authorIds.forEach((id, i) => {
    requireText(id, `authorIds[${i}]`);
  });
}

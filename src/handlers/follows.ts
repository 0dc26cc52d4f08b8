import type { FollowEdge, UserKey } from '../domain/types.ts';
import { type CatchUpDeps, catchUp } from './catch-up.ts';

/** Followers caught up at once by one call (a bulk import names up to 1,000 edges). */
const CATCH_UP_CONCURRENCY = 8;

/**
 * Adds follow edges. Each follower is caught up first (catch-up.ts), so a celebrity's events
 * reach them from the follow on, as a regular author's do: pointers that arrived before the edge
 * existed lie behind their mark by then and are never copied in (no backfill). A follower who
 * never followed anyone gets a mark at the log's tail (one small write).
 */
export async function follow(edges: readonly FollowEdge[], deps: CatchUpDeps): Promise<void> {
  await catchUpFollowers(edges, deps);
  await deps.graph.follow(edges);
}

/**
 * Removes follow edges. Each follower is caught up first, so the pointers that arrived while they
 * followed stay in their inbox, as a regular author's rows do (and an explicit recipient whose row
 * fan-out skipped because they followed the celebrity keeps that event).
 */
export async function unfollow(
  edges: readonly Omit<FollowEdge, 'alerts'>[],
  deps: CatchUpDeps,
): Promise<void> {
  await catchUpFollowers(edges, deps);
  await deps.graph.unfollow(edges);
}

/** One catch-up per distinct follower of `edges`, a few at a time. */
async function catchUpFollowers(
  edges: readonly Omit<FollowEdge, 'alerts'>[],
  deps: CatchUpDeps,
): Promise<void> {
  const followers = new Map<string, UserKey>();
  for (const e of edges) {
    followers.set(`${e.tenantId.length}:${e.tenantId}${e.followerId}`, {
      tenantId: e.tenantId,
      userId: e.followerId,
    });
  }
  const pending = [...followers.values()];
  const worker = async () => {
    for (let user = pending.pop(); user !== undefined; user = pending.pop()) await catchUp(user, deps);
  };
  await Promise.all(Array.from({ length: Math.min(CATCH_UP_CONCURRENCY, pending.length) }, worker));
}

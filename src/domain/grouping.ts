import { MAX_DIGEST_WINDOW_MS, MIN_DIGEST_WINDOW_MS } from './digest.ts';
import type { UserId } from './types.ts';

/**
 * Aggregation: which notifications of one recipient fold into one inbox item ("Ana, Bo and
 * 14,998 others liked your post"). Pure rules; the inbox adapters keep the distinct actors.
 */

/** How one event type aggregates. */
export interface AggregationRule {
  /** Fold events of this type on the same object into one item per recipient. */
  readonly aggregate: boolean;
  /**
   * Length of a group's window in ms, aligned to the epoch (86,400,000: one item per object per
   * UTC day). Absent: one item per object for as long as the inbox keeps it, which moves to the
   * top and becomes unread again whenever a new actor joins.
   */
  readonly windowMs?: number;
  /**
   * Push digest window in ms (src/domain/digest.ts): at most one push per group per window.
   * Absent: DEFAULT_DIGEST_WINDOW_MS (5 minutes). 60,000..900,000.
   */
  readonly digestWindowMs?: number;
}

/** Rules by event type; a type not listed does not aggregate. */
export type AggregationPolicy = Readonly<Record<string, AggregationRule>>;

/**
 * The default: `like` aggregates per (recipient, type, object) with no window; `post`, `mention`
 * and every other type stay one item per event.
 */
export const DEFAULT_AGGREGATION: AggregationPolicy = Object.freeze({
  like: Object.freeze({ aggregate: true }),
});

const RULE_FIELDS: readonly string[] = ['aggregate', 'windowMs', 'digestWindowMs'];

/** Newest actors an aggregated item shows by name; the rest are counted. */
export const GROUP_ACTORS_SHOWN = 3;

/** Longest window a tenant may set: the inbox keeps items 90 days. */
export const MAX_GROUP_WINDOW_MS = 90 * 24 * 60 * 60 * 1000;
/** Shortest window: a minute. */
export const MIN_GROUP_WINDOW_MS = 60 * 1000;

/** What an aggregated inbox item shows about its group. */
export interface GroupSummary {
  /** The newest actors, newest first, at most GROUP_ACTORS_SHOWN. */
  readonly actors: readonly UserId[];
  /** The exact number of distinct actors in the group. */
  readonly actorCount: number;
}

/**
 * The policy in force for a tenant: the default with the tenant's own rules on top (a rule per
 * type replaces the default's rule for that type).
 */
export function effectiveAggregation(override: AggregationPolicy | undefined): AggregationPolicy {
  return override === undefined ? DEFAULT_AGGREGATION : { ...DEFAULT_AGGREGATION, ...override };
}

/**
 * The group key of an event for one recipient's inbox, or undefined when it stands alone: its type
 * does not aggregate, or it names no object. The recipient is the inbox the key lives in, so the
 * key itself is (type, object[, window start]). Deterministic: a re-delivered event gets the
 * same key.
 */
export function groupKeyOf(
  event: { readonly type: string; readonly objectId?: string; readonly occurredAt: number },
  policy: AggregationPolicy,
): string | undefined {
  const rule = Object.hasOwn(policy, event.type) ? policy[event.type] : undefined;
  if (rule === undefined || !rule.aggregate || event.objectId === undefined) return undefined;
  const base = `${event.type}\u001f${event.objectId}`;
  if (rule.windowMs === undefined) return base;
  const start = Math.floor(event.occurredAt / rule.windowMs) * rule.windowMs;
  return `${base}\u001f${start}`;
}

/**
 * Checks a tenant's aggregation rules as an API or CLI receives them; returns the problems found
 * (path and message), none when valid.
 */
export function aggregationProblems(input: unknown): { path: string; message: string }[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return [{ path: 'aggregation', message: 'must be an object of rules by event type' }];
  }
  const problems: { path: string; message: string }[] = [];
  const entries = Object.entries(input);
  if (entries.length > 100) problems.push({ path: 'aggregation', message: 'at most 100 event types' });
  for (const [type, rule] of entries) {
    const path = `aggregation.${type}`;
    if (type.length === 0 || type.length > 64)
      problems.push({ path, message: 'type must be 1-64 characters' });
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
      problems.push({ path, message: 'must be an object' });
      continue;
    }
    const r = rule as Record<string, unknown>;
    if (typeof r.aggregate !== 'boolean')
      problems.push({ path: `${path}.aggregate`, message: 'must be a boolean' });
    if (
      r.windowMs !== undefined &&
      (!Number.isInteger(r.windowMs) ||
        (r.windowMs as number) < MIN_GROUP_WINDOW_MS ||
        (r.windowMs as number) > MAX_GROUP_WINDOW_MS)
    ) {
      problems.push({
        path: `${path}.windowMs`,
        message: `must be an integer ${MIN_GROUP_WINDOW_MS}..${MAX_GROUP_WINDOW_MS}`,
      });
    }
    if (
      r.digestWindowMs !== undefined &&
      (!Number.isInteger(r.digestWindowMs) ||
        (r.digestWindowMs as number) < MIN_DIGEST_WINDOW_MS ||
        (r.digestWindowMs as number) > MAX_DIGEST_WINDOW_MS)
    ) {
      problems.push({
        path: `${path}.digestWindowMs`,
        message: `must be an integer ${MIN_DIGEST_WINDOW_MS}..${MAX_DIGEST_WINDOW_MS}`,
      });
    }
    const extra = Object.keys(r).filter((k) => !RULE_FIELDS.includes(k));
    for (const k of extra) problems.push({ path: `${path}.${k}`, message: 'is not a rule field' });
  }
  return problems;
}

/**
 * The newest `GROUP_ACTORS_SHOWN` actors after `joined` join `shown` (each with the time of its
 * activity), newest first; an actor already shown keeps its newer time.
 */
export function newestActors<A extends { readonly actorId: UserId; readonly at: number }>(
  shown: readonly A[],
  joined: readonly A[],
): A[] {
  const byActor = new Map<UserId, A>();
  for (const a of [...shown, ...joined]) {
    const seen = byActor.get(a.actorId);
    if (seen === undefined || a.at > seen.at) byActor.set(a.actorId, a);
  }
  return [...byActor.values()]
    .sort((x, y) => y.at - x.at || (x.actorId < y.actorId ? -1 : x.actorId > y.actorId ? 1 : 0))
    .slice(0, GROUP_ACTORS_SHOWN);
}

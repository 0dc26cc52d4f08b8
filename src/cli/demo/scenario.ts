import { ValidationError } from '../../domain/errors.ts';

/** The size and shape of a demo run. Same scenario and seed ⇒ same graph, events and totals. */
export interface Scenario {
  readonly tenantId: string;
  readonly seed: number;
  /** Followers of the one big celebrity. @default 1_000_000 */
  readonly celebrityFollowers: number;
  /** Regular authors, with power-law follower counts below the threshold. @default 3000 */
  readonly authors: number;
  /** Users who follow regular authors and have preferences and devices. @default 60_000 */
  readonly activeUsers: number;
  /** Events besides one post per regular author: comments, likes, mentions. @default 2000 */
  readonly extraEvents: number;
  /** Posts by the celebrity. @default 3 */
  readonly celebrityPosts: number;
  /** Share of celebrity followers who turned alerts on. @default 0.002 */
  readonly alertShare: number;
  /**
   * A like storm on one user's post: this many distinct likers, with re-sends and repeat likes
   * (src/cli/demo/viral.ts). Absent or 0: none, and the scenario's fingerprint is as before.
   */
  readonly viralLikes?: number;
}

export const DEFAULT_SCENARIO: Scenario = {
  tenantId: 'demo',
  seed: 42,
  celebrityFollowers: 1_000_000,
  authors: 3000,
  activeUsers: 60_000,
  extraEvents: 2000,
  celebrityPosts: 3,
  alertShare: 0.002,
};

/** A small scenario for tests and quick looks: still two tiers and every outcome. */
export const SMALL_SCENARIO: Scenario = {
  ...DEFAULT_SCENARIO,
  celebrityFollowers: 12_000,
  authors: 150,
  activeUsers: 3000,
  extraEvents: 200,
  alertShare: 0.01,
};

/**
 * A tiny scenario for tests and a first look in seconds: two tiers, every outcome. Its celebrity
 * has `threshold` followers (at least 1,200) so it is a celebrity whatever the configured tier line.
 */
export function tinyScenario(threshold: number): Scenario {
  return {
    ...SMALL_SCENARIO,
    celebrityFollowers: Math.max(1200, threshold),
    authors: 60,
    activeUsers: 900,
    extraEvents: 60,
    celebrityPosts: 2,
  };
}

export function checkScenario(s: Scenario, threshold: number): Scenario {
  const issues: { path: string; message: string }[] = [];
  const positive = (path: keyof Scenario, min = 1) => {
    const v = s[path] as number;
    if (!Number.isInteger(v) || v < min) issues.push({ path, message: `must be an integer ≥ ${min}` });
  };
  positive('celebrityFollowers');
  positive('authors');
  positive('activeUsers', 10);
  positive('extraEvents', 0);
  positive('celebrityPosts', 0);
  if (s.celebrityFollowers < threshold) {
    issues.push({ path: 'celebrityFollowers', message: `must reach the celebrity threshold (${threshold})` });
  }
  if (
    s.viralLikes !== undefined &&
    !(Number.isInteger(s.viralLikes) && s.viralLikes >= 0 && s.viralLikes <= 1_000_000)
  )
    issues.push({ path: 'viralLikes', message: 'must be an integer from 0 to 1,000,000' });
  if (!(s.alertShare >= 0 && s.alertShare <= 1))
    issues.push({ path: 'alertShare', message: 'must be in [0, 1]' });
  if (issues.length > 0) throw new ValidationError(issues);
  return s;
}

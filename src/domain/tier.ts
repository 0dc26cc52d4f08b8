import type { Tier } from './types.ts';

export interface TierPolicy {
  /** Followers at which an author becomes a celebrity. @default 10_000 */
  readonly threshold: number;
  /**
   * Fraction below the threshold an author must fall to become regular again, so an author near
   * the line does not flap. @default 0.1 (demote below 9,000 with the default threshold)
   */
  readonly hysteresis: number;
}

export const DEFAULT_TIER_POLICY: TierPolicy = { threshold: 10_000, hysteresis: 0.1 };

/** The tier an author should have now, given the tier they had (undefined: never decided). */
export function decideTier(current: Tier | undefined, followerCount: number, policy: TierPolicy): Tier {
  throw new Error(`not implemented ${current} ${followerCount} ${policy}`);
}

/** Validates a policy (threshold ≥ 1, 0 ≤ hysteresis < 1); throws ValidationError. */
export function tierPolicy(input: Partial<TierPolicy>): TierPolicy {
  throw new Error(`not implemented ${input}`);
}

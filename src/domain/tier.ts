import { type FieldIssue, ValidationError } from './errors.ts';
import { Tier } from './types.ts';

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
  if (current === Tier.Celebrity) {
    const demoteBelow = policy.threshold * (1 - policy.hysteresis);
    return followerCount < demoteBelow ? Tier.Regular : Tier.Celebrity;
  }
  return followerCount >= policy.threshold ? Tier.Celebrity : Tier.Regular;
}

/** Validates a policy (threshold ≥ 1, 0 ≤ hysteresis < 1); throws ValidationError. */
export function tierPolicy(input: Partial<TierPolicy>): TierPolicy {
  const threshold = input.threshold ?? DEFAULT_TIER_POLICY.threshold;
  const hysteresis = input.hysteresis ?? DEFAULT_TIER_POLICY.hysteresis;
  const issues: FieldIssue[] = [];
  if (typeof threshold !== 'number' || !Number.isInteger(threshold) || threshold < 1) {
    issues.push({ path: 'threshold', message: 'must be an integer ≥ 1' });
  }
  if (typeof hysteresis !== 'number' || !Number.isFinite(hysteresis) || hysteresis < 0 || hysteresis >= 1) {
    issues.push({ path: 'hysteresis', message: 'must be a number in [0, 1)' });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return { threshold, hysteresis };
}

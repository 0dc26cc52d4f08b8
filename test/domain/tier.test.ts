import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.ts';
import { DEFAULT_TIER_POLICY, decideTier, tierPolicy } from '../../src/domain/tier.ts';
import type { Tier } from '../../src/domain/types.ts';

const policy = DEFAULT_TIER_POLICY;

describe('decideTier', () => {
  it('decides a never-decided author by the threshold alone', () => {
    expect(decideTier(undefined, 9_999, policy)).toBe('regular');
    expect(decideTier(undefined, 10_000, policy)).toBe('celebrity');
  });

  it('promotes a regular author at the threshold', () => {
    expect(decideTier('regular', 9_999, policy)).toBe('regular');
    expect(decideTier('regular', 10_000, policy)).toBe('celebrity');
  });

  it('demotes a celebrity only below threshold × (1 − hysteresis)', () => {
    expect(decideTier('celebrity', 9_999, policy)).toBe('celebrity');
    expect(decideTier('celebrity', 9_000, policy)).toBe('celebrity');
    expect(decideTier('celebrity', 8_999, policy)).toBe('regular');
  });

  it('does not flap while the count wanders around the line inside the band', () => {
    // Prepare: counts oscillate between 9,000 and 11,000 after crossing up once
    const counts = [9_500, 10_000, 9_999, 9_100, 10_400, 9_000, 9_999, 11_000, 9_001];
    // Act
    let tier: Tier | undefined;
    const tiers = counts.map((c) => {
      tier = decideTier(tier, c, policy);
      return tier;
    });
    // Assess
    expect(tiers).toEqual(['regular', ...Array(counts.length - 1).fill('celebrity')]);
  });

  it('changes tier at most once per crossing of the whole band', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20_000 }), { maxLength: 200 }), (counts) => {
        let tier: Tier | undefined;
        let changes = 0;
        let bandCrossings = 0;
        let side: 'low' | 'high' | undefined;
        for (const c of counts) {
          const next = decideTier(tier, c, policy);
          if (tier !== undefined && next !== tier) changes++;
          tier = next;
          // Count moves between "below 9,000" and "at or above 10,000"
          // (a first count inside the band starts regular, like one below it)
          const s = c < 9_000 ? 'low' : c >= 10_000 ? 'high' : (side ?? 'low');
          if (side !== undefined && s !== side) bandCrossings++;
          side = s;
        }
        expect(changes).toBeLessThanOrEqual(bandCrossings);
      }),
    );
  });
});

describe('tierPolicy', () => {
  it('fills the defaults', () => {
    expect(tierPolicy({})).toEqual({ threshold: 10_000, hysteresis: 0.1 });
    expect(tierPolicy({ threshold: 5 })).toEqual({ threshold: 5, hysteresis: 0.1 });
  });

  it.each([
    [{ threshold: 0 }, 'threshold'],
    [{ threshold: 1.5 }, 'threshold'],
    [{ hysteresis: -0.1 }, 'hysteresis'],
    [{ hysteresis: 1 }, 'hysteresis'],
    [{ hysteresis: Number.NaN }, 'hysteresis'],
  ])('rejects %o', (input, path) => {
    try {
      tierPolicy(input);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).issues.map((i) => i.path)).toEqual([path]);
    }
  });
});

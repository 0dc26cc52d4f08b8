import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.ts';
import { type CapDefaults, capBuckets, parseCapDefaults } from '../../src/domain/frequency-cap.ts';

const DEFAULTS: CapDefaults = {
  default: { push: { limit: 20, windowSeconds: 3600 } },
  tenants: {
    acme: {
      push: { limit: 10, windowSeconds: 3600 },
      categories: { social: { limit: 3, windowSeconds: 600 } },
    },
  },
};

describe('capBuckets', () => {
  it("takes the user's rule, else the tenant's, else the default, per scope", () => {
    // Act
    const tenant = capBuckets(DEFAULTS, 'acme', undefined, 'social');
    const fallback = capBuckets(DEFAULTS, 'globex', undefined, 'social');
    const user = capBuckets(
      DEFAULTS,
      'acme',
      { frequencyCaps: { push: { limit: 50, windowSeconds: 86_400 } } },
      'social',
    );
    // Assess
    expect(tenant).toEqual([
      { name: 'push', limit: 10, windowMs: 3_600_000 },
      { name: 'push:social', limit: 3, windowMs: 600_000 },
    ]);
    expect(fallback).toEqual([{ name: 'push', limit: 20, windowMs: 3_600_000 }]);
    expect(user).toEqual([
      { name: 'push', limit: 50, windowMs: 86_400_000 },
      { name: 'push:social', limit: 3, windowMs: 600_000 },
    ]);
  });

  it('never caps critical, and caps nothing without rules', () => {
    // Act / Assess
    expect(capBuckets(DEFAULTS, 'acme', undefined, 'critical')).toEqual([]);
    expect(capBuckets({}, 'acme', undefined, 'social')).toEqual([]);
    // A tenant id that is an Object.prototype key is just another tenant.
    expect(capBuckets({ tenants: {} }, 'constructor', undefined, 'social')).toEqual([]);
  });
});

describe('parseCapDefaults', () => {
  it('reads the defaults document', () => {
    // Act
    const parsed = parseCapDefaults(JSON.stringify(DEFAULTS));
    // Assess
    expect(parsed).toEqual(DEFAULTS);
  });

  it('names every problem at once, and refuses a cap on critical', () => {
    // Prepare
    const text = JSON.stringify({
      default: { push: { limit: 0, windowSeconds: 3600 }, extra: 1 },
      tenants: { acme: { categories: { critical: { limit: 1, windowSeconds: 60 }, social: { limit: 2 } } } },
    });
    // Act
    const error = (() => {
      try {
        parseCapDefaults(text);
      } catch (err) {
        return err;
      }
    })();
    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path)).toEqual([
      'frequencyCaps.default.extra',
      'frequencyCaps.default.push.limit',
      'frequencyCaps.tenants.acme.categories.critical',
      'frequencyCaps.tenants.acme.categories.social.windowSeconds',
    ]);
  });

  it('refuses text that is no JSON object', () => {
    // Act / Assess
    for (const text of [
      '{',
      '[]',
      '"x"',
      '{"tenants": []}',
      '{"default": {"push": {"limit": 1, "windowSeconds": 604801}}}',
    ]) {
      expect(() => parseCapDefaults(text)).toThrow(ValidationError);
    }
  });
});

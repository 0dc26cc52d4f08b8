import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DIGEST_WINDOW_MS,
  digestFlushKey,
  digestSlotKey,
  digestWindow,
  digestWindowEnd,
  digestWindowOf,
} from '../../src/domain/digest.ts';
import { aggregationProblems, effectiveAggregation } from '../../src/domain/grouping.ts';

const ANA = { tenantId: 'acme', userId: 'ana' };

describe('digest windows', () => {
  it('aligns windows to the epoch: a window ends where the next begins', () => {
    const at = Date.UTC(2026, 4, 1, 12, 7, 30);
    const w = digestWindow(at, DEFAULT_DIGEST_WINDOW_MS);
    expect(digestWindowEnd(w, DEFAULT_DIGEST_WINDOW_MS)).toBe(Date.UTC(2026, 4, 1, 12, 10));
    expect(digestWindow(Date.UTC(2026, 4, 1, 12, 10), DEFAULT_DIGEST_WINDOW_MS)).toBe(w + 1);
  });

  it('takes the tenant rule of the type, 5 minutes by default', () => {
    const policy = effectiveAggregation({ like: { aggregate: true, digestWindowMs: 60_000 } });
    expect(digestWindowOf('like', policy)).toBe(60_000);
    expect(digestWindowOf('like', effectiveAggregation(undefined))).toBe(DEFAULT_DIGEST_WINDOW_MS);
  });

  it('keys slots per tenant, user, group and window', () => {
    const keys = new Set([
      digestSlotKey(ANA, 'g', 1),
      digestSlotKey(ANA, 'g', 2),
      digestSlotKey({ ...ANA, userId: 'bo' }, 'g', 1),
      digestSlotKey({ ...ANA, tenantId: 'globex' }, 'g', 1),
      digestSlotKey(ANA, 'h', 1),
      digestFlushKey(ANA, 'g', 1),
    ]);
    expect(keys.size).toBe(6);
  });

  it.each([
    [59_999, false],
    [60_000, true],
    [900_000, true],
    [900_001, false],
    [300_000.5, false],
    ['300000', false],
  ])('a tenant digest window of %s is valid: %s', (digestWindowMs, valid) => {
    const problems = aggregationProblems({ like: { aggregate: true, digestWindowMs } });
    expect(problems.length === 0).toBe(valid);
    if (!valid) expect(problems[0]!.path).toBe('aggregation.like.digestWindowMs');
  });
});

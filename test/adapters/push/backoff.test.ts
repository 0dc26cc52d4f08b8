import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF, parseRetryAfter } from '../../../src/adapters/push/backoff.ts';

const policy = { attempts: 5, baseMs: 100, maxMs: 1_000 };

describe('backoffDelay', () => {
  it('draws from zero up to a ceiling that doubles per retry', () => {
    expect(backoffDelay(1, policy, undefined, () => 0.999)).toBe(100);
    expect(backoffDelay(2, policy, undefined, () => 0.999)).toBe(200);
    expect(backoffDelay(3, policy, undefined, () => 0.5)).toBe(200);
    expect(backoffDelay(1, policy, undefined, () => 0)).toBe(0);
  });

  it('never exceeds maxMs of its own accord', () => {
    expect(backoffDelay(30, policy, undefined, () => 0.999)).toBe(999);
  });

  it("waits at least the provider's Retry-After, even above maxMs", () => {
    expect(backoffDelay(1, policy, 700, () => 0.1)).toBe(700);
    expect(backoffDelay(1, policy, 3_000, () => 0.999)).toBe(3_000);
  });

  it('defaults to three tries, 200 ms base, 5 s cap', () => {
    expect(DEFAULT_BACKOFF).toEqual({ attempts: 3, baseMs: 200, maxMs: 5_000 });
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-03-01T12:00:00Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('2', now)).toBe(2_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('1.5', now)).toBe(1_500);
  });

  it('reads an HTTP-date as the time left until it, never negative', () => {
    expect(parseRetryAfter('Sat, 01 Mar 2025 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sat, 01 Mar 2025 11:00:00 GMT', now)).toBe(0);
  });

  it('gives undefined for absent or unparsable values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('2025', now)).toBe(2_025_000);
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { notificationId } from '../../src/domain/ids.ts';
import { expiresAtSeconds, INBOX_TTL_MS, isLive, liveLowerBound } from '../../src/domain/ttl.ts';

const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);

describe('ttl', () => {
  it('keeps a row live for 90 days and no longer', () => {
    const created = NOW - 90 * DAY;
    expect(INBOX_TTL_MS).toBe(90 * DAY);
    expect(isLive(created + 1, NOW)).toBe(true);
    expect(isLive(created, NOW)).toBe(false);
    expect(isLive(created - 1, NOW)).toBe(false);
  });

  it('never lets the store delete a row before reads consider it expired', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 45 }), (createdAt) => {
        const expiresAtMs = expiresAtSeconds(createdAt) * 1000;
        expect(expiresAtMs).toBeGreaterThanOrEqual(createdAt + INBOX_TTL_MS);
        expect(expiresAtMs - (createdAt + INBOX_TTL_MS)).toBeLessThan(1000);
      }),
    );
  });

  it('puts every expired id at or below the live lower bound and every live id above it', () => {
    fc.assert(
      fc.property(fc.integer({ min: -DAY, max: DAY }), fc.string({ minLength: 1 }), (offset, recipient) => {
        // Prepare
        const createdAt = NOW - INBOX_TTL_MS + offset;
        const value = notificationId('evt', recipient, createdAt);
        // Act
        const bound = liveLowerBound(NOW);
        // Assess
        expect(value > bound).toBe(isLive(createdAt, NOW));
      }),
    );
  });

  it('honours a custom ttl', () => {
    expect(isLive(NOW - 999, NOW, 1000)).toBe(true);
    expect(isLive(NOW - 1000, NOW, 1000)).toBe(false);
    expect(expiresAtSeconds(1_500, 1_000)).toBe(3);
  });
});

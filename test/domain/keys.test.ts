import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { authorPartition, deliveryKey, targetDigest, userPartition } from '../../src/domain/keys.ts';

describe('keys', () => {
  it('starts every key with the tenant', () => {
    expect(userPartition({ tenantId: 't1', userId: 'u1' })).toBe('t1#u1');
    expect(authorPartition('t1', 'a1')).toBe('t1#a1');
    expect(deliveryKey('t1', '01HF7YAT0062QBZN3ZRXDW3GP0', 'push', 'abcd')).toMatch(/^t1#/);
  });

  it('digests a target to 16 stable hex chars that do not contain it', () => {
    const token = 'a'.repeat(64);
    const digest = targetDigest(token);
    expect(digest).toMatch(/^[0-9a-f]{16}$/);
    expect(targetDigest(token)).toBe(digest);
    expect(digest).toBe('ffe054fe7ae0cb6d');
  });

  it('gives distinct targets distinct digests', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string(), { minLength: 2, maxLength: 200 }), (targets) => {
        expect(new Set(targets.map(targetDigest)).size).toBe(targets.length);
      }),
    );
  });
});

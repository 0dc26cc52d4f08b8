import { describe, expect, it } from 'vitest';
import { createUserTokens } from '../../src/http/user-tokens.ts';
import { TEST_SECRET } from './support.ts';

const ALICE = { tenantId: 'acme', userId: 'alice' } as const;

describe('verified user tokens are remembered', () => {
  it('answers a remembered token as verifying it again would, up to its expiry and not after', () => {
    // Prepare
    const tokens = createUserTokens(TEST_SECRET, 60_000);
    const { token, expiresAt } = tokens.issue(ALICE, 1_000);
    // Act
    const first = tokens.verify(token, 2_000);
    const again = tokens.verify(token, 60_999);
    const atExpiry = tokens.verify(token, 61_000);
    const afterwards = tokens.verify(token, 30_000);
    // Assess
    expect(first).toEqual({ ...ALICE, expiresAt });
    expect(again).toEqual(first);
    expect(atExpiry).toBeUndefined();
    // An expired entry is dropped, and the token verified again from its claims (a clock set back).
    expect(afterwards).toEqual(first);
  });

  it('never remembers a forged token, and still refuses it after the genuine one was remembered', () => {
    // Prepare
    const tokens = createUserTokens(TEST_SECRET, 60_000);
    const forger = createUserTokens('another-secret-of-enough-bytes!!', 60_000);
    const genuine = tokens.issue(ALICE, 1_000).token;
    const forged = forger.issue(ALICE, 1_000).token;
    // Act
    const genuineUser = tokens.verify(genuine, 2_000);
    const results = [tokens.verify(forged, 2_000), tokens.verify(forged, 2_000)];
    // Assess
    expect(genuineUser).toMatchObject(ALICE);
    expect(results).toEqual([undefined, undefined]);
  });

  it('answers every genuine token when more are in use than it holds', () => {
    // Prepare
    const tokens = createUserTokens(TEST_SECRET, 60_000, { cacheSize: 2 });
    const [a, b, c] = ['a', 'b', 'c'].map(
      (userId) => tokens.issue({ tenantId: 'acme', userId }, 1_000).token,
    );
    // Act
    const answers = [a, b, a, c, a, b].map((t) => tokens.verify(t!, 2_000)?.userId);
    // Assess: remembered or dropped (the least recently used first), each verifies
    expect(answers).toEqual(['a', 'b', 'a', 'c', 'a', 'b']);
  });

  it('verifies every time with a size of 0, and refuses a negative size', () => {
    // Prepare
    const tokens = createUserTokens(TEST_SECRET, 60_000, { cacheSize: 0 });
    const { token } = tokens.issue(ALICE, 1_000);
    // Act / Assess
    expect(tokens.verify(token, 2_000)).toMatchObject(ALICE);
    expect(tokens.verify(token, 61_000)).toBeUndefined();
    expect(() => createUserTokens(TEST_SECRET, 60_000, { cacheSize: -1 })).toThrow(RangeError);
  });
});

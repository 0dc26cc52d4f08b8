import { describe, expect, it } from 'vitest';
import { createUnsubscribeTokens } from '../../src/domain/unsubscribe.ts';
import { createUserTokens } from '../../src/http/user-tokens.ts';
import { signedTokens } from '../../src/lib/signed-token.ts';
import { bearer, TEST_SECRET, testApp } from '../http/support.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The other spellings of a token's MAC that decode to the same 32 bytes: the last of its 43
 * characters carries 2 bits the decoder drops.
 */
function otherSpellings(token: string): string[] {
  const last = token.at(-1)!;
  const value = ALPHABET.indexOf(last);
  return [0, 1, 2, 3]
    .map((spare) => ALPHABET[(value & ~3) | spare]!)
    .filter((c) => c !== last)
    .map((c) => token.slice(0, -1) + c);
}

describe('signed tokens have one spelling', () => {
  it('refuses a MAC whose spare bits were changed, though it decodes to the same bytes', () => {
    // Prepare
    const tokens = signedTokens(Buffer.alloc(32, 7), 'ctx.');
    const token = tokens.sign({ a: 1 });
    const variants = otherSpellings(token);
    // Act
    const results = variants.map((v) => tokens.verify(v));
    // Assess: the variants really are the same bytes, and only the canonical text verifies
    expect(variants).toHaveLength(3);
    for (const v of variants) {
      expect(Buffer.from(v.split('.')[1]!, 'base64url')).toEqual(
        Buffer.from(token.split('.')[1]!, 'base64url'),
      );
    }
    expect(results).toEqual([undefined, undefined, undefined]);
    expect(tokens.verify(token)).toEqual({ a: 1 });
  });

  it('holds for user tokens and unsubscribe links', () => {
    // Prepare
    const users = createUserTokens(TEST_SECRET, 60_000);
    const links = createUnsubscribeTokens(TEST_SECRET);
    const userToken = users.issue({ tenantId: 'acme', userId: 'alice' }, 1_000).token;
    const link = links.sign({ tenantId: 'acme', userId: 'alice', category: 'social' });
    // Act / Assess
    expect(users.verify(userToken, 2_000)).toMatchObject({ userId: 'alice' });
    for (const v of otherSpellings(userToken)) expect(users.verify(v, 2_000)).toBeUndefined();
    expect(links.verify(link)).toBeDefined();
    for (const v of otherSpellings(link)) expect(links.verify(v)).toBeUndefined();
  });

  it('turns a respelled user token away at the API', async () => {
    // Prepare
    const t = await testApp();
    try {
      const token = (
        await t.app.inject({ method: 'POST', url: '/v1/users/alice/tokens', headers: bearer(t.keys.acme) })
      ).json().token as string;
      // Act
      const answers = await Promise.all(
        otherSpellings(token).map((v) =>
          t.app.inject({ method: 'GET', url: '/v1/me/inbox', headers: bearer(v) }),
        ),
      );
      const genuine = await t.app.inject({ method: 'GET', url: '/v1/me/inbox', headers: bearer(token) });
      // Assess
      expect(answers.map((r) => r.statusCode)).toEqual([401, 401, 401]);
      expect(genuine.statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });
});

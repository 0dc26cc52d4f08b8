import { decodeProtectedHeader, importSPKI, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { generateApnsKey } from '../../../fakes/fake-apns.ts';
import {
  clampRefreshAfter,
  ProviderTokens,
  parseSigningKey,
} from '../../../src/adapters/push/apns/provider-token.ts';
import { testClock } from '../../support/world.ts';

const TEAM = 'TEAM123456';
const KID = 'KEY1234567';
const START = Date.UTC(2030, 0, 1);
const MIN = 60_000;
const pems = generateApnsKey();

function tokens(refreshAfterMs?: number) {
  const clock = testClock(START);
  const key = parseSigningKey(pems.privateKeyPem)!;
  const t = new ProviderTokens({
    key,
    keyId: KID,
    teamId: TEAM,
    clock,
    ...(refreshAfterMs === undefined ? {} : { refreshAfterMs }),
  });
  return { t, clock };
}

describe('ProviderTokens', () => {
  it('mints an ES256 JWT that verifies with the public key, with kid, iss and iat in seconds', async () => {
    // Prepare
    const { t } = tokens();
    // Act
    const jwt = t.current();
    // Assess
    const { payload, protectedHeader } = await jwtVerify(jwt, await importSPKI(pems.publicKeyPem, 'ES256'));
    expect(protectedHeader).toEqual({ alg: 'ES256', kid: KID });
    expect(payload).toEqual({ iss: TEAM, iat: START / 1000 });
    expect(decodeProtectedHeader(jwt).alg).toBe('ES256');
  });

  it('keeps the token until the refresh age (50 min by default), then mints a new one', () => {
    const { t, clock } = tokens();
    const first = t.current();
    clock.advance(49 * MIN);
    expect(t.current()).toBe(first);
    clock.advance(MIN);
    const second = t.current();
    expect(second).not.toBe(first);
    clock.advance(MIN);
    expect(t.current()).toBe(second);
  });

  it('never refreshes sooner than 20 min nor later than 55 min, whatever the option says', () => {
    expect(clampRefreshAfter(MIN)).toBe(20 * MIN);
    expect(clampRefreshAfter(90 * MIN)).toBe(55 * MIN);
    expect(clampRefreshAfter(30 * MIN)).toBe(30 * MIN);
    expect(clampRefreshAfter(Number.NaN)).toBe(50 * MIN);
    const { t, clock } = tokens(MIN);
    const first = t.current();
    clock.advance(20 * MIN - 1);
    expect(t.current()).toBe(first);
    clock.advance(1);
    expect(t.current()).not.toBe(first);
  });

  it('replaces an expired token once, however many requests report it', () => {
    // Prepare
    const { t, clock } = tokens();
    const expired = t.current();
    clock.advance(1_000);
    // Act
    const replies = Array.from({ length: 10 }, () => t.replace(expired));
    // Assess
    expect(new Set(replies).size).toBe(1);
    expect(replies[0]).not.toBe(expired);
    expect(t.current()).toBe(replies[0]);
  });

  it('mints again when the replacement itself is reported expired', () => {
    const { t, clock } = tokens();
    const first = t.current();
    clock.advance(1_000);
    const second = t.replace(first);
    clock.advance(1_000);
    expect(t.replace(second)).not.toBe(second);
  });
});

describe('parseSigningKey', () => {
  it('accepts a PKCS#8 EC P-256 key and refuses anything else', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    expect(parseSigningKey(pems.privateKeyPem)).toBeDefined();
    expect(parseSigningKey(String(rsa))).toBeUndefined();
    expect(parseSigningKey(String(p384))).toBeUndefined();
    expect(parseSigningKey(pems.publicKeyPem)).toBeUndefined();
    expect(parseSigningKey('not a key')).toBeUndefined();
  });
});

import { createServer } from 'node:net';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeFcm, generateServiceAccount, startFakeFcm } from '../../../fakes/fake-fcm.ts';
import { AccessTokenSource, FCM_SCOPE, signAssertion } from '../../../src/adapters/push/fcm/access-token.ts';
import { parseServiceAccount, type ServiceAccount } from '../../../src/adapters/push/fcm/service-account.ts';
import { TransportRetryableError } from '../../../src/domain/errors.ts';

const START = Date.UTC(2030, 0, 1);
const MIN = 60_000;

let now = START;
const clock = { now: () => now };
let fake: FakeFcm;
let account: ServiceAccount;

beforeAll(async () => {
  fake = await startFakeFcm({ now: clock.now });
  account = parseServiceAccount(generateServiceAccount(fake.origin).json);
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  now = START;
  fake.tokenGrants.length = 0;
  fake.revokeAccessTokens();
});

function source(over: Partial<ServiceAccount> = {}, requestTimeoutMs?: number): AccessTokenSource {
  return new AccessTokenSource({
    serviceAccount: { ...account, ...over },
    ca: fake.ca,
    clock,
    ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }),
  });
}

/** A 127.0.0.1 port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function failure(promise: Promise<unknown>): Promise<TransportRetryableError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TransportRetryableError);
  return err as TransportRetryableError;
}

describe('FCM access token: the assertion', () => {
  it('is an RS256 JWT naming the key, for the FCM scope and the token endpoint, valid one hour', () => {
    // Act
    const jwt = signAssertion(account, START + 999);
    // Assess
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'RS256', typ: 'JWT', kid: account.privateKeyId });
    expect(decodeJwt(jwt)).toEqual({
      iss: account.clientEmail,
      scope: FCM_SCOPE,
      aud: account.tokenUri,
      iat: START / 1000,
      exp: START / 1000 + 3600,
    });
  });
});

describe('FCM access token: caching', () => {
  it('fetches once and shares the token with every caller, concurrent ones included', async () => {
    // Prepare
    const tokens = source();
    // Act
    const got = await Promise.all(Array.from({ length: 20 }, () => tokens.get()));
    const later = await tokens.get();
    // Assess
    expect(fake.tokenGrants).toHaveLength(1);
    expect(new Set([...got, later])).toEqual(new Set([fake.tokenGrants[0]!.accessToken]));
  });

  it('keeps the token until 5 minutes before it expires, then fetches a new one', async () => {
    // Prepare: the fake issues tokens for 3599 s
    const tokens = source();
    const first = await tokens.get();
    // Act
    now = START + 3599_000 - 5 * MIN - 1;
    const beforeMargin = await tokens.get();
    now = START + 3599_000 - 5 * MIN;
    const atMargin = await tokens.get();
    // Assess
    expect(beforeMargin).toBe(first);
    expect(atMargin).not.toBe(first);
    expect(fake.tokenGrants.map((g) => g.iat)).toEqual([START / 1000, (START + 3599_000 - 5 * MIN) / 1000]);
  });

  it('drops an invalidated token once, however many callers report it', async () => {
    // Prepare
    const tokens = source();
    const first = await tokens.get();
    // Act
    const renewed = await Promise.all(
      Array.from({ length: 10 }, () => {
        tokens.invalidate(first);
        return tokens.get();
      }),
    );
    tokens.invalidate(first);
    const after = await tokens.get();
    // Assess
    expect(fake.tokenGrants).toHaveLength(2);
    expect(new Set([...renewed, after])).toEqual(new Set([fake.tokenGrants[1]!.accessToken]));
  });
});

describe('FCM access token: failures', () => {
  it('is retryable, never ambiguous, when the token endpoint is down', async () => {
    // Prepare
    const tokens = source({ tokenUri: `https://127.0.0.1:${await closedPort()}/token` });
    // Act
    const err = await failure(tokens.get());
    // Assess
    expect(err.ambiguous).toBe(false);
    expect(err.message).toContain('ECONNREFUSED');
  });

  it('is retryable when the token endpoint does not answer in time', async () => {
    // Prepare
    fake.scriptToken({ hang: true });
    // Act
    const err = await failure(source({}, 200).get());
    // Assess
    expect(err.ambiguous).toBe(false);
    expect(err.message).toContain('ETIMEDOUT');
  });

  it('is retryable with the OAuth error code, and no assertion in the message, when the grant is refused', async () => {
    // Prepare: a key the fake does not know
    const stranger = parseServiceAccount(generateServiceAccount(fake.origin, { freshKey: true }).json);
    // Act
    const err = await failure(source({ privateKey: stranger.privateKey }).get());
    // Assess
    expect(err.message).toBe('fcm token endpoint answered 400 (invalid_grant)');
    expect(fake.tokenRefusals.at(-1)).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  it('tries again on the next call after a failure', async () => {
    // Prepare
    fake.scriptToken({ status: 503 });
    const tokens = source();
    // Act
    const err = await failure(tokens.get());
    const token = await tokens.get();
    // Assess
    expect(err.message).toContain('503');
    expect(token).toBe(fake.tokenGrants[0]!.accessToken);
  });

  it('keeps using a token that has not expired yet when its early refresh fails', async () => {
    // Prepare
    const tokens = source();
    const first = await tokens.get();
    fake.scriptToken({ status: 500 }, { status: 500 });
    // Act: inside the 5-minute margin, then past the real expiry
    now = START + 3599_000 - 2 * MIN;
    const inMargin = await tokens.get();
    now = START + 3599_000;
    const err = await failure(tokens.get());
    // Assess
    expect(inMargin).toBe(first);
    expect(err.ambiguous).toBe(false);
  });
});

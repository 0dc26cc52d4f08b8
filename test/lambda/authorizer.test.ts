import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { hashApiKey } from '../../src/http/auth.ts';
import { createUserTokens } from '../../src/http/user-tokens.ts';
import {
  type AuthorizerDeps,
  createAuthorizerHandler,
  readAuthorizerEnv,
} from '../../src/lambda/authorizer.ts';

const NOW = 1_750_000_000_000;
const SECRET = 'a-token-secret-of-32-bytes-long!';
const API_KEY = 'fo_acme_0123456789abcdefghijklmnopqrstuvwxyzABCDEF';

function event(authorization?: string): APIGatewayRequestAuthorizerEventV2 {
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: 'arn:aws:execute-api:eu-west-1:123456789012:abcdef123/$default/POST/v1/events',
    identitySource: authorization === undefined ? [] : [authorization],
    routeKey: 'ANY /v1/{proxy+}',
    rawPath: '/v1/events',
    rawQueryString: '',
    headers: authorization === undefined ? {} : { authorization },
    requestContext: {} as APIGatewayRequestAuthorizerEventV2['requestContext'],
  } as unknown as APIGatewayRequestAuthorizerEventV2;
}

function deps(over: Partial<AuthorizerDeps> = {}): AuthorizerDeps & { lookups: string[]; errors: string[] } {
  const lookups: string[] = [];
  const errors: string[] = [];
  const tokens = createUserTokens(SECRET, 60_000);
  return {
    lookups,
    errors,
    tenants: () => ({
      findByApiKeyHash: async (hash: string) => {
        lookups.push(hash);
        return hash === hashApiKey(API_KEY) ? { tenantId: 'acme', createdAt: 1 } : undefined;
      },
    }),
    tokens: () => tokens,
    clock: { now: () => NOW },
    logger: { error: (message: string) => void errors.push(message), warn: () => undefined },
    ...over,
  };
}

describe('HTTP API Lambda authorizer', () => {
  it('authorizes a tenant API key by its SHA-256 and names the tenant', async () => {
    // Prepare
    const d = deps();
    // Act
    const result = await createAuthorizerHandler(d)(event(`Bearer ${API_KEY}`));
    // Assess
    expect(result).toEqual({ isAuthorized: true, context: { tenantId: 'acme' } });
    expect(d.lookups).toEqual([hashApiKey(API_KEY)]);
  });

  it('counts every denial for the AuthFailures metric, and no grant', async () => {
    // Prepare
    let denials = 0;
    const d = deps({ onDeny: () => void denials++ });
    const handler = createAuthorizerHandler(d);
    const { token } = createUserTokens(SECRET, 60_000).issue({ tenantId: 'acme', userId: 'u1' }, NOW);
    // Act
    await handler(event());
    await handler(event('Bearer fo_acme_wrong'));
    await handler(event(`Bearer ${token.slice(0, -2)}AA`));
    await handler(event(`Bearer ${API_KEY}`));
    await handler(event(`Bearer ${token}`));
    // Assess
    expect(denials).toBe(3);
  });

  it('authorizes a valid user token without a table lookup', async () => {
    // Prepare
    const d = deps();
    const { token } = createUserTokens(SECRET, 60_000).issue({ tenantId: 'acme', userId: 'u1' }, NOW);
    // Act
    const result = await createAuthorizerHandler(d)(event(`bearer ${token}`));
    // Assess
    expect(result).toEqual({ isAuthorized: true, context: { tenantId: 'acme' } });
    expect(d.lookups).toEqual([]);
  });

  it('denies an expired or forged user token', async () => {
    // Prepare
    const d = deps();
    const expired = createUserTokens(SECRET, 1_000).issue({ tenantId: 'acme', userId: 'u1' }, NOW - 5_000);
    const forged = createUserTokens('another-secret-of-32-bytes-long!', 60_000).issue(
      { tenantId: 'acme', userId: 'u1' },
      NOW,
    );
    const handler = createAuthorizerHandler(d);
    // Act
    const results = await Promise.all([
      handler(event(`Bearer ${expired.token}`)),
      handler(event(`Bearer ${forged.token}`)),
    ]);
    // Assess
    expect(results.map((r) => r.isAuthorized)).toEqual([false, false]);
    expect(d.lookups).toEqual([]);
  });

  it('denies an unknown key, a missing header and a header that is not Bearer', async () => {
    // Prepare
    const handler = createAuthorizerHandler(deps());
    // Act
    const results = await Promise.all([
      handler(event('Bearer fo_acme_not-a-key')),
      handler(event()),
      handler(event(`Basic ${Buffer.from('a:b').toString('base64')}`)),
      handler(event('Bearer    ')),
    ]);
    // Assess
    expect(results).toEqual(Array(4).fill({ isAuthorized: false, context: {} }));
  });

  it('throws when the tenants table fails, so API Gateway caches no answer', async () => {
    // Prepare
    const d = deps({
      tenants: () => ({
        findByApiKeyHash: async () => {
          throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
        },
      }),
    });
    // Act
    const call = createAuthorizerHandler(d)(event(`Bearer ${API_KEY}`));
    // Assess
    await expect(call).rejects.toThrow('throttled');
    expect(d.errors).toEqual(['API key lookup failed']);
  });

  it('reads the tenants table from the prefix or its own variable, and names every missing variable', () => {
    expect(
      readAuthorizerEnv({
        AWS_REGION: 'eu-west-1',
        FANOUT_TABLE_PREFIX: 'fanout-prod',
        FANOUT_TOKEN_SECRET: SECRET,
      }),
    ).toEqual({ region: 'eu-west-1', tenantsTable: 'fanout-prod-tenants', tokenSecret: SECRET });
    expect(
      readAuthorizerEnv({
        AWS_REGION: 'eu-west-1',
        FANOUT_TABLE_PREFIX: 'fanout-prod',
        FANOUT_TABLE_TENANTS: 'tenants-x',
        FANOUT_TOKEN_SECRET: SECRET,
      }).tenantsTable,
    ).toBe('tenants-x');
    expect(() => readAuthorizerEnv({})).toThrow(
      "the authorizer function's environment is incomplete: AWS_REGION is not set; FANOUT_TABLE_TENANTS is not set, nor is FANOUT_TABLE_PREFIX; FANOUT_TOKEN_SECRET is not set",
    );
  });
});

import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoTenants } from '../../src/adapters/aws/tenants.ts';
import { buildApp } from '../../src/http/app.ts';
import { hashApiKey, newApiKey } from '../../src/http/auth.ts';
import { createUserTokens } from '../../src/http/user-tokens.ts';
import { createAuthorizerHandler } from '../../src/lambda/authorizer.ts';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
import { openEmbeddedPorts } from '../../src/runtime/embedded.ts';
import { emulatorClients, freshTables } from '../support/aws.ts';

const SECRET = 'a-token-secret-of-32-bytes-long!';
const clients = emulatorClients();
afterAll(() => clients.destroy());

function event(key: string): APIGatewayRequestAuthorizerEventV2 {
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: 'arn:aws:execute-api:eu-west-1:123456789012:abcdef123/$default/GET/v1/users/u1/preferences',
    identitySource: [`Bearer ${key}`],
    routeKey: 'ANY /v1/{proxy+}',
    rawPath: '/v1/users/u1/preferences',
    rawQueryString: '',
    headers: { authorization: `Bearer ${key}` },
    requestContext: {} as APIGatewayRequestAuthorizerEventV2['requestContext'],
  } as unknown as APIGatewayRequestAuthorizerEventV2;
}

describe('API key rotation in the AWS mode (tenants table on DynamoDB)', () => {
  it('the authorizer and the HTTP function both refuse a revoked key from the next request on', async () => {
    // Prepare: a tenant with two keys in the tenants table, the authorizer and the app over it
    const names = await freshTables(clients, ['tenants']);
    const tenants = new DynamoTenants({ documents: clients.documents, tableName: names.tenants });
    const oldKey = newApiKey('acme');
    const newKey = newApiKey('acme');
    await tenants.create('acme', hashApiKey(oldKey), 1_000);
    await tenants.addApiKey('acme', hashApiKey(newKey), 2_000);
    const authorizer = createAuthorizerHandler({
      tenants: () => tenants,
      tokens: () => createUserTokens(SECRET, 60_000),
      clock: { now: () => Date.now() },
      logger: { error: () => undefined, warn: () => undefined },
    });
    const ports = await openEmbeddedPorts({ config: readRuntimeConfig({ FANOUT_DATA_DIR: ':memory:' }) });
    const app = await buildApp({
      ports: { ...ports, tenants },
      clock: ports.clock,
      logger: ports.logger,
      options: { tokenSecret: SECRET },
    });
    const appAnswer = async (key: string) =>
      (
        await app.inject({
          method: 'GET',
          url: '/v1/users/u1/preferences',
          headers: { authorization: `Bearer ${key}` },
        })
      ).statusCode;
    try {
      const during = [await authorizer(event(oldKey)), await authorizer(event(newKey))];
      const appDuring = [await appAnswer(oldKey), await appAnswer(newKey)];
      // Act
      await tenants.revokeApiKey('acme', hashApiKey(oldKey).slice(0, 16));
      // Assess
      expect(during.map((r) => r.isAuthorized)).toEqual([true, true]);
      expect(appDuring).toEqual([404, 404]);
      expect((await authorizer(event(oldKey))).isAuthorized).toBe(false);
      expect((await authorizer(event(newKey))).isAuthorized).toBe(true);
      expect(await appAnswer(oldKey)).toBe(401);
      expect(await appAnswer(newKey)).toBe(404);
    } finally {
      await app.close();
      await ports.close();
    }
  });
});

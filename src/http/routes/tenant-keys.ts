import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../../ports/clock.ts';
import type { Tenants } from '../../ports/tenants.ts';
import { type Auth, hashApiKey, newApiKey } from '../auth.ts';
import { ApiError, ApiErrorCode } from '../errors.ts';
import { errorResponses } from '../schemas.ts';

export interface TenantKeyRoutesOptions {
  readonly tenants: Tenants;
  readonly clock: Clock;
  readonly auth: Pick<Auth, 'apiKeyAuth'>;
  /** The tenant whose API keys operate this service (FANOUT_OPS_TENANT). @default 'dev' */
  readonly operatorTenantId?: string;
}

const tenantIdParam = { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$' } as const;
const keyIdParam = { type: 'string', pattern: '^[0-9a-f]{16}$' } as const;
const keyView = {
  type: 'object',
  required: ['keyId', 'createdAt'],
  properties: { keyId: { type: 'string' }, createdAt: { type: 'string', format: 'date-time' } },
  additionalProperties: false,
} as const;

/**
 * API-key rotation for the operator, the same as `fanout tenant key create|list|revoke`:
 * `POST /v1/ops/tenants/{tenantId}/keys` (a new key, shown once), `GET …/keys` (ids and times,
 * never a key), `DELETE …/keys/{keyId}`. A rotation adds the new key, moves clients over while both
 * work, then revokes the old one, which fails from the next request on (keys are looked up on
 * every request, never cached). Only the operator tenant's API keys open these routes.
 */
export async function tenantKeyRoutes(app: FastifyInstance, opts: TenantKeyRoutesOptions): Promise<void> {
  const operator = opts.operatorTenantId ?? 'dev';
  const onRequest = async (request: FastifyRequest) => {
    await opts.auth.apiKeyAuth(request);
    if (request.tenantId !== operator) {
      throw new ApiError(403, ApiErrorCode.Forbidden, "tenant keys take the operator tenant's API key");
    }
  };
  const schema = (summary: string, params: object, response: object) => ({
    tags: ['operations'],
    summary,
    security: [{ apiKey: [] }],
    params: {
      type: 'object',
      properties: params,
      additionalProperties: false,
      required: Object.keys(params),
    },
    response: { ...response, ...errorResponses },
  });

  app.post(
    '/v1/ops/tenants/:tenantId/keys',
    {
      onRequest,
      schema: schema(
        'A new API key for the tenant, shown once (its earlier keys keep working)',
        { tenantId: tenantIdParam },
        {
          201: {
            type: 'object',
            required: ['tenantId', 'keyId', 'apiKey', 'createdAt'],
            properties: {
              tenantId: { type: 'string' },
              keyId: { type: 'string' },
              apiKey: { type: 'string' },
              createdAt: { type: 'string', format: 'date-time' },
            },
          },
        },
      ),
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const { tenantId } = request.params as { tenantId: string };
      const apiKey = newApiKey(tenantId);
      const hash = hashApiKey(apiKey);
      const at = opts.clock.now();
      await opts.tenants.addApiKey(tenantId, hash, at);
      reply.header('cache-control', 'no-store');
      return reply.code(201).send({
        tenantId,
        keyId: hash.slice(0, 16),
        apiKey,
        createdAt: new Date(at).toISOString(),
      });
    },
  );

  app.get(
    '/v1/ops/tenants/:tenantId/keys',
    {
      onRequest,
      schema: schema(
        "The tenant's live API keys, by id (never the keys)",
        { tenantId: tenantIdParam },
        {
          200: {
            type: 'object',
            required: ['tenantId', 'keys'],
            properties: { tenantId: { type: 'string' }, keys: { type: 'array', items: keyView } },
          },
        },
      ),
    },
    async (request: FastifyRequest) => {
      const { tenantId } = request.params as { tenantId: string };
      const keys = await opts.tenants.listApiKeys(tenantId);
      return {
        tenantId,
        keys: keys.map((k) => ({ keyId: k.keyId, createdAt: new Date(k.createdAt).toISOString() })),
      };
    },
  );

  app.delete(
    '/v1/ops/tenants/:tenantId/keys/:keyId',
    {
      onRequest,
      schema: schema(
        "Revokes one API key at once; refused (409) for the tenant's last key",
        { tenantId: tenantIdParam, keyId: keyIdParam },
        { 204: { type: 'null', description: 'revoked' } },
      ),
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      const { tenantId, keyId } = request.params as { tenantId: string; keyId: string };
      await opts.tenants.revokeApiKey(tenantId, keyId);
      return reply.code(204).send();
    },
  );
}

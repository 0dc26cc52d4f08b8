import { createHash, randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Clock } from '../ports/clock.ts';
import type { Tenants } from '../ports/tenants.ts';
import { ApiError, ApiErrorCode } from './errors.ts';
import type { RequestLimits } from './rate-limit.ts';
import { API_KEY_PREFIX, looksLikeUserToken, type TokenUser, type UserTokens } from './user-tokens.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The tenant the credentials belong to; '' until an auth hook ran. */
    tenantId: string;
    /** The end user of a user token; '' on server-to-server routes. */
    userId: string;
  }
}

/** A new random API key for a tenant, shown once: `fo_<tenant>_<32 random bytes, base64url>`. */
export function newApiKey(tenantId: string): string {
  return `${API_KEY_PREFIX}${tenantId}_${randomBytes(32).toString('base64url')}`;
}

/** What is stored of an API key: its SHA-256, hex. The key itself is never stored. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export interface AuthOptions {
  readonly tenants: Tenants;
  readonly tokens: UserTokens;
  readonly clock: Clock;
  /** Request limits per tenant, end user and source address; none when undefined. */
  readonly limits?: RequestLimits;
  /** Called on every wrong or missing credential (401), for the metrics. */
  readonly onFailure?: () => void;
}

/** The auth hooks and helpers of the API, bound to their stores. */
export interface Auth {
  /** onRequest hook of server-to-server routes: a tenant API key sets `request.tenantId`. */
  apiKeyAuth(request: FastifyRequest): Promise<void>;
  /** onRequest hook of end-user routes: a user token sets `request.tenantId` and `request.userId`. */
  userAuth(request: FastifyRequest): Promise<void>;
  /** The user of a valid, unexpired token, or undefined. */
  verifyUserToken(token: string, now: number): TokenUser | undefined;
  /**
   * The user of a request that carries a user token in the Authorization header or, for clients
   * that cannot send headers (EventSource), in `?access_token=`. Rate-limits the tenant. Throws
   * ApiError 401 / 403 / 429.
   */
  userFromRequest(request: FastifyRequest): Promise<TokenUser>;
}

/**
 * Builds the hooks. Messages never say whether a key or token exists elsewhere: a wrong key and
 * another tenant's are both only "not valid".
 */
export function createAuth(opts: AuthOptions): Auth {
  const { tenants, tokens, clock, limits } = opts;

  const limit = async (tenantId: string, userId?: string): Promise<void> => limits?.request(tenantId, userId);
  /** A 401, counted against the source address and in the metrics. */
  const failure = async (request: FastifyRequest, message: string): Promise<ApiError> => {
    await limits?.failed(request.ip);
    opts.onFailure?.();
    return unauthorized(message);
  };

  // Looked up on every request, never cached: a revoked key must stop working at once, in this
  // process and in every other one reading the same store (one index lookup embedded, one
  // consistent GetItem on DynamoDB).
  const tenantOfKey = async (key: string): Promise<string | undefined> =>
    (await tenants.findByApiKeyHash(hashApiKey(key)))?.tenantId;

  const userOf = async (request: FastifyRequest, credential: string | undefined): Promise<TokenUser> => {
    await limits?.checkAddress(request.ip);
    if (credential === undefined) throw await failure(request, 'a user token is required');
    const user = tokens.verify(credential, clock.now());
    if (user !== undefined) {
      // The tenant's one bucket, and the user's share of it: many user ids do not multiply the
      // tenant's allowance, and one user looping on the inbox cannot spend all of it.
      await limit(user.tenantId, user.userId);
      return user;
    }
    if (!looksLikeUserToken(credential) && (await tenantOfKey(credential)) !== undefined) {
      throw forbidden('this route takes a user token, not an API key');
    }
    throw await failure(request, 'the user token is not valid or has expired');
  };

  return {
    async apiKeyAuth(request) {
      await limits?.checkAddress(request.ip);
      const key = bearer(request);
      if (key === undefined) throw await failure(request, 'an API key is required');
      const tenantId = looksLikeUserToken(key) ? undefined : await tenantOfKey(key);
      if (tenantId === undefined) {
        if (tokens.verify(key, clock.now()) !== undefined) {
          throw forbidden('this route takes a tenant API key, not a user token');
        }
        throw await failure(request, 'the API key is not valid');
      }
      await limit(tenantId);
      request.tenantId = tenantId;
    },
    async userAuth(request) {
      const user = await userOf(request, bearer(request));
      request.tenantId = user.tenantId;
      request.userId = user.userId;
    },
    verifyUserToken: (token, now) => tokens.verify(token, now),
    async userFromRequest(request) {
      const fromHeader = bearer(request);
      const query = request.query as Record<string, unknown> | undefined;
      const fromQuery = typeof query?.access_token === 'string' ? query.access_token : undefined;
      const user = await userOf(request, fromHeader ?? fromQuery);
      request.tenantId = user.tenantId;
      request.userId = user.userId;
      return user;
    },
  };
}

/** The credential of `Authorization: Bearer <credential>`, or undefined. */
function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string' || header.length < 8) return undefined;
  if (header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const credential = header.slice(7).trim();
  return credential === '' ? undefined : credential;
}

function unauthorized(message: string): ApiError {
  return new ApiError(401, ApiErrorCode.Unauthorized, message);
}

function forbidden(message: string): ApiError {
  return new ApiError(403, ApiErrorCode.Forbidden, message);
}

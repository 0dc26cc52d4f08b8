import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type {
  APIGatewayRequestAuthorizerEventV2,
  APIGatewaySimpleAuthorizerWithContextResult,
} from 'aws-lambda';
import { hashApiKey } from '../http/auth.ts';
import { createUserTokens, looksLikeUserToken, type UserTokens } from '../http/user-tokens.ts';
import { errorName } from '../lib/error-name.ts';
import { type Environment, readSettings, required } from '../lib/settings.ts';
import type { Clock } from '../ports/clock.ts';
import type { Tenants } from '../ports/tenants.ts';
import { hmacSecret, tableSettings } from '../runtime/settings.ts';

/**
 * The HTTP API's Lambda REQUEST authorizer (simple responses, payload 2.0). It lets a request
 * through when `Authorization: Bearer <credential>` holds a tenant API key (its SHA-256 found in
 * the tenants table) or a valid user token (HMAC-signed with FANOUT_TOKEN_SECRET), and hands the
 * tenant to the integration as `context.tenantId`. API Gateway caches the answer by the
 * Authorization header, so it does not depend on the route: which credential a route takes is
 * still decided by the Fastify app, which authenticates every request again (defence in depth).
 */

/** What the authorizer hands to the integration (`requestContext.authorizer.lambda`). */
export interface AuthorizerContext {
  readonly tenantId: string;
}

export type AuthorizerResult = APIGatewaySimpleAuthorizerWithContextResult<
  AuthorizerContext | Record<string, never>
>;

export interface AuthorizerDeps {
  /** Tenants by API-key hash (the DynamoDB adapter on AWS). */
  readonly tenants: () => Pick<Tenants, 'findByApiKeyHash'>;
  readonly tokens: () => UserTokens;
  readonly clock: Clock;
  readonly logger: Pick<Logger, 'error' | 'warn'>;
  /** Called on every denial (a missing, wrong or expired credential), for the metrics. */
  readonly onDeny?: () => void;
}

/** Environment of the authorizer: the tenants table, and the HMAC key of user tokens. */
export interface AuthorizerEnv {
  readonly region: string;
  readonly tenantsTable: string;
  readonly tokenSecret: string;
}

/**
 * The authorizer's settings. It builds no `Ports` (only the tenants table and the token key), so
 * it needs far less than `readLambdaEnv`: `AWS_REGION`, `FANOUT_TABLE_TENANTS` (or
 * `FANOUT_TABLE_PREFIX`, as every function names its tables), `FANOUT_TOKEN_SECRET`. Every
 * missing variable is named at once, in one SettingsError.
 */
export function readAuthorizerEnv(source: Environment): AuthorizerEnv {
  const { region, tables, tokenSecret } = readSettings(
    source,
    {
      region: required('AWS_REGION'),
      tables: tableSettings(['tenants']),
      tokenSecret: hmacSecret('FANOUT_TOKEN_SECRET', true),
    },
    "the authorizer function's environment",
  );
  return { region, tenantsTable: tables.tenants, tokenSecret };
}

const DENY: AuthorizerResult = { isAuthorized: false, context: {} };

/** The credential of `Authorization: Bearer <credential>`, or undefined (same rule as the app's). */
function bearer(event: APIGatewayRequestAuthorizerEventV2): string | undefined {
  const headers = event.headers ?? {};
  const header = headers.authorization ?? headers.Authorization;
  if (typeof header !== 'string' || header.length < 8) return undefined;
  if (header.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const credential = header.slice(7).trim();
  return credential === '' ? undefined : credential;
}

/**
 * The handler over its dependencies. A wrong or missing credential is a deny (403 from API
 * Gateway, cached); a store error throws, so API Gateway answers 500 and caches nothing.
 */
export function createAuthorizerHandler(
  deps: AuthorizerDeps,
): (event: APIGatewayRequestAuthorizerEventV2) => Promise<AuthorizerResult> {
  const deny = (): AuthorizerResult => {
    deps.onDeny?.();
    return DENY;
  };
  return async (event) => {
    const credential = bearer(event);
    if (credential === undefined) return deny();
    if (looksLikeUserToken(credential)) {
      const user = deps.tokens().verify(credential, deps.clock.now());
      return user === undefined ? deny() : { isAuthorized: true, context: { tenantId: user.tenantId } };
    }
    try {
      const tenant = await deps.tenants().findByApiKeyHash(hashApiKey(credential));
      return tenant === undefined ? deny() : { isAuthorized: true, context: { tenantId: tenant.tenantId } };
    } catch (err) {
      deps.logger.error('API key lookup failed', { error: errorName(err) });
      throw err;
    }
  };
}

/** The tenants adapter and token verifier of this container, built on first use. */
function defaultDeps(source: Environment): AuthorizerDeps {
  let env: AuthorizerEnv | undefined;
  const envOnce = (): AuthorizerEnv => {
    env ??= readAuthorizerEnv(source);
    return env;
  };
  let tenants: Pick<Tenants, 'findByApiKeyHash'> | undefined;
  let tokens: UserTokens | undefined;
  const logger = new Logger({ serviceName: 'fanout-authorizer' });
  // The namespace and metric name the other functions use (METRICS_NAMESPACE, MetricName.AuthFailures
  // in powertools.ts, not imported: it would load the ports and the SDK into this small function).
  const metrics = new Metrics({ namespace: 'Fanout', serviceName: 'fanout-authorizer' });
  return {
    onDeny: () => {
      metrics.addMetric('AuthFailures', MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
    },
    tenants: () => {
      if (tenants === undefined) {
        const { region, tenantsTable } = envOnce();
        tenants = lazyDynamoTenants(region, tenantsTable);
      }
      return tenants;
    },
    tokens: () => {
      // Verification only: the lifetime is the issuer's business, any positive value will do.
      tokens ??= createUserTokens(envOnce().tokenSecret, 3_600_000);
      return tokens;
    },
    clock: { now: () => Date.now() },
    logger,
  };
}

/** DynamoTenants over a DynamoDB client, imported at the first lookup (tests never load the SDK). */
function lazyDynamoTenants(region: string, tableName: string): Pick<Tenants, 'findByApiKeyHash'> {
  let adapter: Promise<Pick<Tenants, 'findByApiKeyHash'>> | undefined;
  const build = async (): Promise<Pick<Tenants, 'findByApiKeyHash'>> => {
    const [{ DynamoDBClient }, { DynamoDBDocumentClient }, { NodeHttpHandler }, { DynamoTenants }] =
      await Promise.all([
        import('@aws-sdk/client-dynamodb'),
        import('@aws-sdk/lib-dynamodb'),
        import('@smithy/node-http-handler'),
        import('../adapters/aws/tenants.ts'),
      ]);
    const client = new DynamoDBClient({
      region,
      requestHandler: new NodeHttpHandler({ connectionTimeout: 3_000, requestTimeout: 5_000 }),
    });
    return new DynamoTenants({ documents: DynamoDBDocumentClient.from(client), tableName });
  };
  return {
    findByApiKeyHash: async (hash) => {
      adapter ??= build();
      const built = adapter;
      built.catch(() => {
        if (adapter === built) adapter = undefined;
      });
      return (await built).findByApiKeyHash(hash);
    },
  };
}

/** The entry point the CDK app points at (`authorizer.handler`). */
export const handler = createAuthorizerHandler(defaultDeps(process.env));

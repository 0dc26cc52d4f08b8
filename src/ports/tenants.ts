import type { AggregationPolicy } from '../domain/grouping.ts';

/** A tenant: one app using Fanout. Its API keys are stored hashed only. */
export interface TenantRecord {
  readonly tenantId: string;
  readonly createdAt: number;
  /**
   * The tenant's own aggregation rules by event type, over `DEFAULT_AGGREGATION`
   * (src/domain/grouping.ts); absent: the default alone.
   */
  readonly aggregation?: AggregationPolicy;
}

/** One API key of a tenant, as it can be shown: its id, never the key or its whole hash. */
export interface ApiKeyRecord {
  /** The first 16 hex digits of the key's SHA-256: names the key in `list` and `revoke`. */
  readonly keyId: string;
  readonly createdAt: number;
}

export interface Tenants {
  /** Fails with a ConflictError-coded FanoutError when the tenant exists. */
  create(tenantId: string, apiKeyHash: string, at: number): Promise<TenantRecord>;
  list(): Promise<TenantRecord[]>;
  get(tenantId: string): Promise<TenantRecord | undefined>;
  addApiKey(tenantId: string, apiKeyHash: string, at: number): Promise<void>;
  /**
   * Stores the tenant's aggregation rules (replacing any it had; undefined removes them). Throws
   * ValidationError for rules `aggregationProblems` refuses, NotFoundError for an unknown tenant.
   */
  setAggregation(tenantId: string, rules: AggregationPolicy | undefined): Promise<void>;
  /** The tenant an API key hash belongs to; a revoked key belongs to none, at once. */
  findByApiKeyHash(apiKeyHash: string): Promise<TenantRecord | undefined>;
  /** The tenant's live keys, oldest first; NotFoundError for an unknown tenant. */
  listApiKeys(tenantId: string): Promise<ApiKeyRecord[]>;
  /**
   * Revokes the tenant's key `keyId`: NotFoundError when the tenant has no such key, ConflictError
   * when it is the tenant's last (rotation adds the new key first, so two are live meanwhile).
   */
  revokeApiKey(tenantId: string, keyId: string): Promise<void>;
}

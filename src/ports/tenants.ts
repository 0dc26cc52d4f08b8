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
  /** The tenant an API key hash belongs to. */
  findByApiKeyHash(apiKeyHash: string): Promise<TenantRecord | undefined>;
}

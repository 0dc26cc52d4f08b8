/** A tenant: one app using Fanout. Its API keys are stored hashed only. */
export interface TenantRecord {
  readonly tenantId: string;
  readonly createdAt: number;
}

export interface Tenants {
  /** Fails with a ConflictError-coded FanoutError when the tenant exists. */
  create(tenantId: string, apiKeyHash: string, at: number): Promise<TenantRecord>;
  list(): Promise<TenantRecord[]>;
  get(tenantId: string): Promise<TenantRecord | undefined>;
  addApiKey(tenantId: string, apiKeyHash: string, at: number): Promise<void>;
  /** The tenant an API key hash belongs to. */
  findByApiKeyHash(apiKeyHash: string): Promise<TenantRecord | undefined>;
}

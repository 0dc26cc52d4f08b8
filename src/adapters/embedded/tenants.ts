import type { StatementSync } from 'node:sqlite';
import { ConflictError, NotFoundError } from '../../domain/errors.ts';
import type { AggregationPolicy } from '../../domain/grouping.ts';
import type { ApiKeyRecord, TenantRecord, Tenants } from '../../ports/tenants.ts';
import { requireText } from '../checks/input.ts';
import {
  apiKeyId,
  parseAggregation,
  requireAggregation,
  requireKeyId,
  requireTime,
} from '../checks/tenants.ts';
import type { EmbeddedDb } from './db.ts';
import { storeStep } from './store-step.ts';

export interface EmbeddedTenantsOptions {
  readonly db: EmbeddedDb;
}

interface StoredTenant {
  readonly tenant_id: string;
  readonly created_at: number;
  readonly aggregation: string | null;
}

/**
 * Tenants and their API keys on SQLite. This adapter only ever sees key hashes (the caller hashes
 * the key it shows once), so a copy of the database holds no usable key. The key table's primary
 * key is the hash: authenticating a request is one index lookup.
 */
export class EmbeddedTenants implements Tenants {
  readonly #db: EmbeddedDb;
  readonly #s: Record<
    | 'insertTenant'
    | 'get'
    | 'list'
    | 'insertKey'
    | 'keyOwner'
    | 'byKey'
    | 'setAggregation'
    | 'keysOf'
    | 'deleteKey',
    StatementSync
  >;

  constructor(opts: EmbeddedTenantsOptions) {
    this.#db = opts.db;
    const sqlite = opts.db.sqlite;
    this.#s = storeStep('tenants set-up', () => {
      sqlite.exec(`
        CREATE TABLE IF NOT EXISTS tenants (
          tenant_id TEXT PRIMARY KEY,
          created_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS tenant_api_keys (
          key_hash TEXT PRIMARY KEY,
          tenant_id TEXT NOT NULL REFERENCES tenants (tenant_id),
          created_at INTEGER NOT NULL
        ) WITHOUT ROWID;
      `);
      // A data file from before per-tenant aggregation rules.
      const columns = sqlite.prepare('PRAGMA table_info(tenants)').all() as { name: string }[];
      if (!columns.some((c) => c.name === 'aggregation'))
        sqlite.exec('ALTER TABLE tenants ADD COLUMN aggregation TEXT');
      return {
        insertTenant: sqlite.prepare(
          'INSERT INTO tenants (tenant_id, created_at) VALUES (?, ?) ON CONFLICT (tenant_id) DO NOTHING',
        ),
        get: sqlite.prepare('SELECT tenant_id, created_at, aggregation FROM tenants WHERE tenant_id = ?'),
        list: sqlite.prepare('SELECT tenant_id, created_at, aggregation FROM tenants ORDER BY tenant_id'),
        setAggregation: sqlite.prepare('UPDATE tenants SET aggregation = ? WHERE tenant_id = ?'),
        insertKey: sqlite.prepare(
          'INSERT INTO tenant_api_keys (key_hash, tenant_id, created_at) VALUES (?, ?, ?) ON CONFLICT (key_hash) DO NOTHING',
        ),
        keyOwner: sqlite.prepare('SELECT tenant_id FROM tenant_api_keys WHERE key_hash = ?'),
        keysOf: sqlite.prepare(
          'SELECT key_hash, created_at FROM tenant_api_keys WHERE tenant_id = ? ORDER BY created_at, key_hash',
        ),
        deleteKey: sqlite.prepare('DELETE FROM tenant_api_keys WHERE key_hash = ? AND tenant_id = ?'),
        byKey: sqlite.prepare(
          `SELECT t.tenant_id, t.created_at, NULL AS aggregation FROM tenant_api_keys k JOIN tenants t ON t.tenant_id = k.tenant_id
           WHERE k.key_hash = ?`,
        ),
      };
    });
  }

  /** Creates the tenant with its first key; a taken id or key hash is a ConflictError. */
  async create(tenantId: string, apiKeyHash: string, at: number): Promise<TenantRecord> {
    requireText(tenantId, 'tenantId');
    requireText(apiKeyHash, 'apiKeyHash');
    requireTime(at);
    storeStep('tenant create', () =>
      this.#db.transaction(() => {
        if (Number(this.#s.insertTenant.run(tenantId, at).changes) === 0) {
          throw new ConflictError(`tenant ${tenantId} exists`);
        }
        this.#addKey(tenantId, apiKeyHash, at);
      }),
    );
    return { tenantId, createdAt: at };
  }

  async list(): Promise<TenantRecord[]> {
    const rows = storeStep('tenants list', () => this.#s.list.all()) as unknown as StoredTenant[];
    return rows.map(toRecord);
  }

  async get(tenantId: string): Promise<TenantRecord | undefined> {
    requireText(tenantId, 'tenantId');
    const row = storeStep('tenant read', () => this.#s.get.get(tenantId)) as StoredTenant | undefined;
    return row === undefined ? undefined : toRecord(row);
  }

  /**
   * Adds a key to an existing tenant (NotFoundError otherwise). Adding a key the tenant already
   * has changes nothing; a key hash of another tenant is a ConflictError, so a key never opens two
   * tenants.
   */
  async addApiKey(tenantId: string, apiKeyHash: string, at: number): Promise<void> {
    requireText(tenantId, 'tenantId');
    requireText(apiKeyHash, 'apiKeyHash');
    requireTime(at);
    storeStep('tenant add key', () =>
      this.#db.transaction(() => {
        if (this.#s.get.get(tenantId) === undefined)
          throw new NotFoundError(`tenant ${tenantId} does not exist`);
        this.#addKey(tenantId, apiKeyHash, at);
      }),
    );
  }

  async setAggregation(tenantId: string, rules: AggregationPolicy | undefined): Promise<void> {
    requireText(tenantId, 'tenantId');
    requireAggregation(rules);
    const json = rules === undefined ? null : JSON.stringify(rules);
    const changed = storeStep(
      'tenant set aggregation',
      () => this.#s.setAggregation.run(json, tenantId).changes,
    );
    if (Number(changed) === 0) throw new NotFoundError(`tenant ${tenantId} does not exist`);
  }

  async findByApiKeyHash(apiKeyHash: string): Promise<TenantRecord | undefined> {
    requireText(apiKeyHash, 'apiKeyHash');
    const row = storeStep('tenant key lookup', () => this.#s.byKey.get(apiKeyHash)) as
      | StoredTenant
      | undefined;
    return row === undefined ? undefined : toRecord(row);
  }

  async listApiKeys(tenantId: string): Promise<ApiKeyRecord[]> {
    requireText(tenantId, 'tenantId');
    return storeStep('tenant list keys', () => {
      if (this.#s.get.get(tenantId) === undefined)
        throw new NotFoundError(`tenant ${tenantId} does not exist`);
      return this.#keysOf(tenantId).map((k) => ({ keyId: apiKeyId(k.key_hash), createdAt: k.created_at }));
    });
  }

  /** One transaction: the key is gone for every later lookup once this resolves. */
  async revokeApiKey(tenantId: string, keyId: string): Promise<void> {
    requireText(tenantId, 'tenantId');
    requireKeyId(keyId);
    storeStep('tenant revoke key', () =>
      this.#db.transaction(() => {
        const keys = this.#keysOf(tenantId);
        const matching = keys.filter((k) => apiKeyId(k.key_hash) === keyId);
        if (matching.length === 0) throw new NotFoundError(`tenant ${tenantId} has no key ${keyId}`);
        if (keys.length - matching.length < 1) {
          throw new ConflictError(
            `key ${keyId} is the last key of tenant ${tenantId}: create its successor first`,
          );
        }
        for (const k of matching) this.#s.deleteKey.run(k.key_hash, tenantId);
      }),
    );
  }

  #keysOf(tenantId: string): { key_hash: string; created_at: number }[] {
    return this.#s.keysOf.all(tenantId) as unknown as { key_hash: string; created_at: number }[];
  }

  #addKey(tenantId: string, apiKeyHash: string, at: number): void {
    if (Number(this.#s.insertKey.run(apiKeyHash, tenantId, at).changes) > 0) return;
    const owner = this.#s.keyOwner.get(apiKeyHash) as { tenant_id: string } | undefined;
    // The message names the tenant asking, never the one that holds the key.
    if (owner?.tenant_id !== tenantId)
      throw new ConflictError(`api key is taken; tenant ${tenantId} not changed`);
  }
}

function toRecord(row: StoredTenant): TenantRecord {
  const aggregation = parseAggregation(row.aggregation);
  return {
    tenantId: row.tenant_id,
    createdAt: row.created_at,
    ...(aggregation === undefined ? {} : { aggregation }),
  };
}

import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
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
import { awsCall, awsErrorName, isConditionFailure, translateAwsError } from './errors.ts';
import { type RetryPolicy, sendWithRetry } from './retry.ts';
import { cancellationCodes } from './transaction-errors.ts';

export interface DynamoTenantsOptions {
  readonly documents: DynamoDBDocumentClient;
  /** Physical name of the `tenants` table. */
  readonly tableName: string;
  readonly retry?: RetryPolicy;
}

const TENANT_SK = 'tenant';
const KEY_SK = 'key';
/** Cancellation reasons after which the same transaction may pass when sent again. */
const TRANSIENT_REASONS = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
  'RequestLimitExceeded',
]);

type TxItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;

/**
 * Tenants and their API-key hashes on DynamoDB (table `tenants`): a tenant item
 * (pk `tenant#<id>`, sk `tenant`) and one item per key (pk `key#<sha256>`, sk `key`) naming its
 * tenant and carrying the tenant's `createdAt`, so authenticating a request is ONE GetItem
 * (0.5 RCU). A key hash is a partition key of its own, so "one key opens one tenant" is a
 * condition on that item, and `create` writes both items in one transaction (4 WCU): a taken
 * tenant id or key leaves nothing behind. Only key hashes are stored, never keys.
 */
export class DynamoTenants implements Tenants {
  readonly #documents: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #retry: RetryPolicy;

  constructor(opts: DynamoTenantsOptions) {
    this.#documents = opts.documents;
    this.#table = opts.tableName;
    this.#retry = opts.retry ?? {};
  }

  /** Creates the tenant with its first key; a taken id or key hash is a ConflictError. */
  async create(tenantId: string, apiKeyHash: string, at: number): Promise<TenantRecord> {
    requireText(tenantId, 'tenantId');
    requireText(apiKeyHash, 'apiKeyHash');
    requireTime(at);
    const reasons = await this.#transact('tenant create', [
      {
        Put: {
          TableName: this.#table,
          Item: { pk: tenantPk(tenantId), sk: TENANT_SK, tenantId, createdAt: at },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      {
        Put: {
          TableName: this.#table,
          Item: { pk: keyPk(apiKeyHash), sk: KEY_SK, tenantId, tenantCreatedAt: at, createdAt: at },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ]);
    if (reasons[0] === 'ConditionalCheckFailed') throw new ConflictError(`tenant ${tenantId} exists`);
    // The message names the tenant asking, never the one that holds the key.
    if (reasons[1] === 'ConditionalCheckFailed') {
      throw new ConflictError(`api key is taken; tenant ${tenantId} not created`);
    }
    return { tenantId, createdAt: at };
  }

  /** A Scan: tenants are few (one per app using Fanout), and only the operator lists them. */
  async list(): Promise<TenantRecord[]> {
    const tenants: TenantRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await awsCall('tenants Scan', () =>
        this.#documents.send(
          new ScanCommand({
            TableName: this.#table,
            FilterExpression: 'sk = :tenant',
            ExpressionAttributeValues: { ':tenant': TENANT_SK },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of out.Items ?? []) tenants.push(toRecord(item.tenantId, item.createdAt, item.ag));
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    return tenants.sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0));
  }

  async get(tenantId: string): Promise<TenantRecord | undefined> {
    requireText(tenantId, 'tenantId');
    const item = await this.#get('tenant read', tenantPk(tenantId), TENANT_SK);
    return item === undefined ? undefined : toRecord(item.tenantId, item.createdAt, item.ag);
  }

  /** One conditional UpdateItem of the tenant item: `ag`, the rules as JSON. */
  async setAggregation(tenantId: string, rules: AggregationPolicy | undefined): Promise<void> {
    requireText(tenantId, 'tenantId');
    requireAggregation(rules);
    try {
      await this.#documents.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: tenantPk(tenantId), sk: TENANT_SK },
          UpdateExpression: rules === undefined ? 'REMOVE ag' : 'SET ag = :ag',
          ConditionExpression: 'attribute_exists(pk)',
          ...(rules === undefined ? {} : { ExpressionAttributeValues: { ':ag': JSON.stringify(rules) } }),
        }),
      );
    } catch (err) {
      if (awsErrorName(err) === 'ConditionalCheckFailedException') {
        throw new NotFoundError(`tenant ${tenantId} does not exist`);
      }
      throw translateAwsError(err, 'tenant set aggregation');
    }
  }

  /**
   * Adds a key to an existing tenant (NotFoundError otherwise). Adding a key the tenant already
   * has changes nothing; a key hash of another tenant is a ConflictError.
   */
  async addApiKey(tenantId: string, apiKeyHash: string, at: number): Promise<void> {
    requireText(tenantId, 'tenantId');
    requireText(apiKeyHash, 'apiKeyHash');
    requireTime(at);
    const tenant = await this.get(tenantId);
    if (tenant === undefined) throw new NotFoundError(`tenant ${tenantId} does not exist`);
    const reasons = await this.#transact('tenant add key', [
      {
        ConditionCheck: {
          TableName: this.#table,
          Key: { pk: tenantPk(tenantId), sk: TENANT_SK },
          ConditionExpression: 'attribute_exists(pk)',
        },
      },
      {
        Update: {
          TableName: this.#table,
          Key: { pk: keyPk(apiKeyHash), sk: KEY_SK },
          UpdateExpression:
            'SET tenantId = :tenant, tenantCreatedAt = :tenantCreatedAt, createdAt = if_not_exists(createdAt, :at)',
          ConditionExpression: 'attribute_not_exists(pk) OR tenantId = :tenant',
          ExpressionAttributeValues: {
            ':tenant': tenantId,
            ':tenantCreatedAt': tenant.createdAt,
            ':at': at,
          },
        },
      },
    ]);
    if (reasons[0] === 'ConditionalCheckFailed') throw new NotFoundError(`tenant ${tenantId} does not exist`);
    if (reasons[1] === 'ConditionalCheckFailed') {
      throw new ConflictError(`api key is taken; tenant ${tenantId} not changed`);
    }
  }

  async findByApiKeyHash(apiKeyHash: string): Promise<TenantRecord | undefined> {
    requireText(apiKeyHash, 'apiKeyHash');
    const item = await this.#get('tenant key lookup', keyPk(apiKeyHash), KEY_SK);
    return item === undefined ? undefined : toRecord(item.tenantId, item.tenantCreatedAt);
  }

  /**
   * A Scan of the key items, like `list`: keys are few, only the operator lists them, and a key
   * item stays one GetItem away for authentication (no index on the hot path).
   */
  async listApiKeys(tenantId: string): Promise<ApiKeyRecord[]> {
    requireText(tenantId, 'tenantId');
    if ((await this.get(tenantId)) === undefined)
      throw new NotFoundError(`tenant ${tenantId} does not exist`);
    const keys = await this.#keyItems(tenantId);
    return keys
      .map((k) => ({ keyId: apiKeyId(k.hash), createdAt: k.createdAt, hash: k.hash }))
      .sort((a, b) => a.createdAt - b.createdAt || (a.hash < b.hash ? -1 : 1))
      .map(({ keyId, createdAt }) => ({ keyId, createdAt }));
  }

  /**
   * Deletes the key item, on condition it still names this tenant. The authorizer and the app read
   * key items with consistent reads, so the key fails from the next request on.
   */
  async revokeApiKey(tenantId: string, keyId: string): Promise<void> {
    requireText(tenantId, 'tenantId');
    requireKeyId(keyId);
    const keys = await this.#keyItems(tenantId);
    const matching = keys.filter((k) => apiKeyId(k.hash) === keyId);
    if (matching.length === 0) throw new NotFoundError(`tenant ${tenantId} has no key ${keyId}`);
    if (keys.length - matching.length < 1) {
      throw new ConflictError(
        `key ${keyId} is the last key of tenant ${tenantId}: create its successor first`,
      );
    }
    for (const k of matching) {
      await awsCall('tenant revoke key', () =>
        this.#documents.send(
          new DeleteCommand({
            TableName: this.#table,
            Key: { pk: keyPk(k.hash), sk: KEY_SK },
            ConditionExpression: 'tenantId = :tenant',
            ExpressionAttributeValues: { ':tenant': tenantId },
          }),
        ),
      ).catch((err: unknown) => {
        // Revoked meanwhile by another call: the outcome asked for.
        if (!isConditionFailure(err)) throw err;
      });
    }
  }

  async #keyItems(tenantId: string): Promise<{ hash: string; createdAt: number }[]> {
    const keys: { hash: string; createdAt: number }[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await awsCall('tenant keys Scan', () =>
        this.#documents.send(
          new ScanCommand({
            TableName: this.#table,
            FilterExpression: 'sk = :key AND tenantId = :tenant',
            ExpressionAttributeValues: { ':key': KEY_SK, ':tenant': tenantId },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of out.Items ?? []) {
        keys.push({ hash: String(item.pk).slice('key#'.length), createdAt: item.createdAt as number });
      }
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    return keys;
  }

  async #get(what: string, pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
    const out = await awsCall(what, () =>
      this.#documents.send(new GetCommand({ TableName: this.#table, Key: { pk, sk }, ConsistentRead: true })),
    );
    return out.Item;
  }

  /**
   * Sends a transaction, again after throttling or a conflict with another transaction; resolves
   * to the cancellation reason of each item when a condition failed, or [] when it was applied.
   */
  async #transact(what: string, items: TxItems): Promise<string[]> {
    let reasons: string[] = [];
    await sendWithRetry(
      what,
      [items],
      async (batch) => {
        try {
          await this.#documents.send(new TransactWriteCommand({ TransactItems: batch[0] }));
          reasons = [];
          return [];
        } catch (err) {
          if (awsErrorName(err) !== 'TransactionCanceledException') throw err;
          const codes = cancellationCodes(err);
          if (codes.includes('ConditionalCheckFailed')) {
            reasons = codes;
            return [];
          }
          if (codes.length > 0 && codes.every((c) => c === 'None' || TRANSIENT_REASONS.has(c))) return batch;
          throw translateAwsError(err, `${what} TransactWriteItems`);
        }
      },
      this.#retry,
    );
    return reasons;
  }
}

function tenantPk(tenantId: string): string {
  return `tenant#${tenantId}`;
}

function keyPk(apiKeyHash: string): string {
  return `key#${apiKeyHash}`;
}

function toRecord(tenantId: unknown, createdAt: unknown, ag?: unknown): TenantRecord {
  const aggregation = parseAggregation(ag);
  return {
    tenantId: tenantId as string,
    createdAt: createdAt as number,
    ...(aggregation === undefined ? {} : { aggregation }),
  };
}

/**
 * The DynamoDB tables of the AWS mode, in one place: the local profile and the tests create them
 * from here, and the CDK app (infra/) declares the same keys, indexes, TTL and streams. Every
 * table uses generic string keys `pk` / `sk` so one table can hold a few item kinds (an
 * author's edges and their count item, say); every `pk` starts with the tenant id.
 */
export interface TableSpec {
  /** Partition key attribute (string). */
  readonly partitionKey: string;
  /** Sort key attribute (string), when the table has one. */
  readonly sortKey?: string;
  readonly indexes?: readonly IndexSpec[];
  /** Attribute with the epoch-seconds expiry DynamoDB's TTL deletes by. */
  readonly ttlAttribute?: string;
  /** DynamoDB Streams view, when the table feeds a consumer. */
  readonly stream?: 'NEW_AND_OLD_IMAGES' | 'KEYS_ONLY';
}

export interface IndexSpec {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly projection: 'KEYS_ONLY' | 'ALL';
}

/** Logical table → its spec. */
export const TABLES = {
  /**
   * Inbox rows (pk `tenant#user`, sk ULID), read marks and watermarks (see aws/inbox.ts).
   * The `unread` index is sparse: only unread rows carry `upk`, so a Query with Select COUNT
   * counts unread rows without reading read ones. Counter mode never writes `upk`.
   */
  inbox: {
    partitionKey: 'pk',
    sortKey: 'sk',
    indexes: [{ name: 'unread', partitionKey: 'upk', sortKey: 'sk', projection: 'KEYS_ONLY' }],
    ttlAttribute: 'expiresAt',
  },
  /** Follow edges (pk `tenant#author`, sk follower) and per-author count and tier items. */
  followers: { partitionKey: 'pk', sortKey: 'sk' },
  /** Celebrity pointers (pk `tenant#author`, sk ULID) and their by-id lookups. */
  celebrityFeed: { partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'expiresAt' },
  /** Devices by user and token ownership. */
  devices: { partitionKey: 'pk', sortKey: 'sk' },
  /** Tenants and API-key hashes. */
  tenants: { partitionKey: 'pk', sortKey: 'sk' },
  /** Preferences (pk `tenant#user`); its stream feeds cache invalidation. */
  preferences: { partitionKey: 'pk', stream: 'NEW_AND_OLD_IMAGES' },
  /**
   * Event-log idempotency: (tenant, event id) → where it went, kept for the idempotency TTL (7 days
   * by default, longer than the stream's retention on purpose), and per-shard `#latest#…` markers.
   */
  events: { partitionKey: 'pk', ttlAttribute: 'expiresAt' },
  /** Consumer checkpoints per shard (the local pollers' lease table). */
  checkpoints: { partitionKey: 'pk', sortKey: 'sk' },
  /**
   * Push frequency-cap counters (pk `tenant#user`), when they live on DynamoDB rather than
   * MemoryDB (`FANOUT_FREQUENCY_CAPS_STORE=dynamodb`); dropped by TTL a window after the newest push.
   */
  frequencyCaps: { partitionKey: 'pk', ttlAttribute: 'expiresAt' },
  /**
   * Pending email digests (aws/digest-schedule.ts): pk `digest#<shard>`, sk the due time then
   * (tenant, user, cadence), so a shard's due entries are one Query on the sort key. The sender's
   * work queue across tenants, like `checkpoints`: every item names its tenant and user, and the
   * sender reads each user's data by tenant-scoped keys. TTL drops an entry a month past due.
   */
  digestSchedule: { partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'expiresAt' },
} as const satisfies Record<string, TableSpec>;

export type TableName = keyof typeof TABLES;

/** Physical names of every table: `${prefix}-${logical}` unless set one by one. */
export type TableNames = Readonly<Record<TableName, string>>;

/** Physical names from a prefix, e.g. `fanout-prod` → `fanout-prod-inbox`. */
export function tableNames(prefix: string): TableNames {
  return Object.fromEntries(Object.keys(TABLES).map((name) => [name, `${prefix}-${name}`])) as Record<
    TableName,
    string
  >;
}

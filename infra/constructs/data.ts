import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  TABLES,
  type TableName,
  type TableNames,
  type TableSpec,
  tableNames,
} from '../../src/adapters/aws/tables.ts';

export interface FanoutDataProps {
  /**
   * Prefix of every physical table name: `<prefix>-<table>` (what `FANOUT_TABLE_PREFIX` says).
   * @default 'fanout'
   */
  readonly tablePrefix?: string;
  /**
   * Regions of Global Table replicas, besides the stack's own region.
   * @default [] (a single-region table)
   */
  readonly replicaRegions?: readonly string[];
  /**
   * ARN of a customer-managed KMS key in each replica region (a KMS key never leaves its region).
   * Required for every region of `replicaRegions`.
   * @default {}
   */
  readonly replicaKeyArns?: Readonly<Record<string, string>>;
  /**
   * What happens to the tables and their key when they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Deletion protection on every table (a second lock beside the removal policy).
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * Tables billed for provisioned capacity with auto scaling instead of on-demand (context
   * `tableBilling: provisioned`, docs/deploy.md): cheaper per unit while auto scaling follows the
   * day's traffic, at the price of a floor paid every hour and throttling on a burst the capacity
   * (and its 300 s of burst credit) cannot take until auto scaling catches up.
   * @default every table on-demand
   */
  readonly capacity?: ProvisionedCapacity;
}

/** Provisioned capacity with auto scaling on some tables (see {@link FanoutDataProps.capacity}). */
export interface ProvisionedCapacity {
  /** The tables to provision; the others stay on-demand. */
  readonly tables: readonly TableName[];
  /**
   * Consumed over provisioned capacity that auto scaling's target tracking keeps (20–90).
   * @default 70
   */
  readonly targetUtilizationPercent?: number;
  /** The floor of each table's (and index's) write capacity, paid every hour. @default 5 */
  readonly minWriteCapacity?: number;
  /** The ceiling of each table's write capacity. @default 40000 (the default per-table quota) */
  readonly maxWriteCapacity?: number;
  /** The floor of each table's (and index's) read capacity. @default 5 */
  readonly minReadCapacity?: number;
  /** The ceiling of each table's read capacity. @default 40000 */
  readonly maxReadCapacity?: number;
}

/**
 * The tables context `tableBilling: provisioned` provisions unless `provisionedTables` says
 * otherwise: those written and read per notification (inbox rows and their existence checks) and
 * per event (idempotency claims), whose traffic follows the day's curve. The rest are small or
 * bursty (a follow import, a preference change) and stay on-demand.
 */
export const DEFAULT_PROVISIONED_TABLES: readonly TableName[] = ['inbox', 'events'];

/** Defaults of {@link ProvisionedCapacity}, also what the aws-cost benchmark prices. */
export const PROVISIONED_DEFAULTS = {
  targetUtilizationPercent: 70,
  minWriteCapacity: 5,
  maxWriteCapacity: 40_000,
  minReadCapacity: 5,
  maxReadCapacity: 40_000,
} as const;

/** The billing of one table: provisioned with auto scaling when `capacity` lists it, else on-demand. */
export function tableBilling(name: TableName, capacity: ProvisionedCapacity | undefined): dynamodb.Billing {
  if (capacity === undefined || !capacity.tables.includes(name)) return dynamodb.Billing.onDemand();
  const c = { ...PROVISIONED_DEFAULTS, ...definedOnly(capacity) };
  if (
    !Number.isInteger(c.targetUtilizationPercent) ||
    c.targetUtilizationPercent < 20 ||
    c.targetUtilizationPercent > 90
  ) {
    throw new Error(
      `FanoutData: targetUtilizationPercent must be an integer from 20 to 90, not ${c.targetUtilizationPercent}`,
    );
  }
  for (const [min, max] of [
    [c.minWriteCapacity, c.maxWriteCapacity],
    [c.minReadCapacity, c.maxReadCapacity],
  ] as const) {
    if (!Number.isInteger(min) || !Number.isInteger(max) || min < 1 || max < min) {
      throw new Error(`FanoutData: provisioned capacity needs integers 1 <= min <= max, not ${min}..${max}`);
    }
  }
  return dynamodb.Billing.provisioned({
    writeCapacity: dynamodb.Capacity.autoscaled({
      minCapacity: c.minWriteCapacity,
      maxCapacity: c.maxWriteCapacity,
      targetUtilizationPercent: c.targetUtilizationPercent,
    }),
    readCapacity: dynamodb.Capacity.autoscaled({
      minCapacity: c.minReadCapacity,
      maxCapacity: c.maxReadCapacity,
      targetUtilizationPercent: c.targetUtilizationPercent,
    }),
  });
}

/**
 * The provisioned capacity that context asks for (`tableBilling: provisioned` with
 * `provisionedTables`, `capacityTargetUtilization`, `minWriteCapacity`, `maxWriteCapacity`,
 * `minReadCapacity`, `maxReadCapacity`), or undefined for on-demand (`tableBilling` unset or
 * `onDemand`). `read` gives a context value as text, undefined when unset.
 */
export function provisionedCapacityFromContext(
  read: (key: string) => string | undefined,
): ProvisionedCapacity | undefined {
  const billing = read('tableBilling') ?? 'onDemand';
  if (billing === 'onDemand') return undefined;
  if (billing !== 'provisioned') {
    throw new Error(`context tableBilling must be 'onDemand' or 'provisioned', got ${billing}`);
  }
  const raw = read('provisionedTables');
  const names =
    raw === undefined
      ? [...DEFAULT_PROVISIONED_TABLES]
      : (raw.startsWith('[') ? (JSON.parse(raw) as unknown[]).map(String) : raw.split(','))
          .map((s) => s.trim())
          .filter((s) => s !== '');
  const unknown = names.filter((name) => !(name in TABLES));
  if (names.length === 0 || unknown.length > 0) {
    throw new Error(
      `context provisionedTables must name tables of ${Object.keys(TABLES).join(', ')}, got ${raw}`,
    );
  }
  const integer = (key: string): { [k: string]: number } => {
    const value = read(key);
    if (value === undefined) return {};
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1)
      throw new Error(`context ${key} must be a positive integer, got ${value}`);
    return { [CONTEXT_KEYS[key as keyof typeof CONTEXT_KEYS]]: n };
  };
  return {
    tables: names as TableName[],
    ...Object.assign({}, ...Object.keys(CONTEXT_KEYS).map(integer)),
  };
}

/** Context keys of the provisioned capacity, and the {@link ProvisionedCapacity} field each sets. */
const CONTEXT_KEYS = {
  capacityTargetUtilization: 'targetUtilizationPercent',
  minWriteCapacity: 'minWriteCapacity',
  maxWriteCapacity: 'maxWriteCapacity',
  minReadCapacity: 'minReadCapacity',
  maxReadCapacity: 'maxReadCapacity',
} as const;

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The key attribute of a spec: every key in `TABLES` is a string. */
function stringKey(name: string): dynamodb.Attribute {
  return { name, type: dynamodb.AttributeType.STRING };
}

/**
 * The DynamoDB tables of the AWS mode, one `TableV2` per entry of `TABLES`
 * (`src/adapters/aws/tables.ts`, the one declaration of keys, indexes, TTL and streams): on-demand
 * (or provisioned with auto scaling, `capacity`), point-in-time recovery, encrypted with one customer-managed key (rotated yearly), deletion
 * protection, and Global Table replicas in `replicaRegions`. Kept on stack deletion by default.
 */
export class FanoutData extends Construct {
  /** Every table, by its logical name. */
  readonly tables: Readonly<Record<TableName, dynamodb.ITableV2>>;
  /** Physical table names, by logical name (`<prefix>-<table>`). */
  readonly tableNames: TableNames;
  /** The prefix of the physical names (`FANOUT_TABLE_PREFIX`). */
  readonly tablePrefix: string;
  /** The customer-managed key of every table in this region. */
  readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: FanoutDataProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.tablePrefix = props.tablePrefix ?? 'fanout';
    this.tableNames = tableNames(this.tablePrefix);
    const replicaRegions = props.replicaRegions ?? [];
    const replicaKeyArns = props.replicaKeyArns ?? {};
    const unknown = (props.capacity?.tables ?? []).filter((name) => !(name in TABLES));
    if (unknown.length > 0) throw new Error(`FanoutData: no table named ${unknown.join(', ')}`);
    const missing = replicaRegions.filter((region) => replicaKeyArns[region] === undefined);
    if (missing.length > 0) {
      throw new Error(
        `FanoutData: replicaKeyArns has no KMS key ARN for replica region(s) ${missing.join(', ')}`,
      );
    }

    const key = new kms.Key(this, 'Key', {
      description: `Fanout DynamoDB tables (${this.tablePrefix})`,
      enableKeyRotation: true,
      removalPolicy,
    });
    this.key = key;
    const encryption = dynamodb.TableEncryptionV2.customerManagedKey(
      key,
      replicaRegions.length === 0
        ? undefined
        : Object.fromEntries(replicaRegions.map((region) => [region, replicaKeyArns[region] as string])),
    );

    const tables = {} as Record<TableName, dynamodb.ITableV2>;
    for (const name of Object.keys(TABLES) as TableName[]) {
      const spec: TableSpec = TABLES[name];
      tables[name] = new dynamodb.TableV2(this, tableId(name), {
        tableName: this.tableNames[name],
        partitionKey: stringKey(spec.partitionKey),
        ...(spec.sortKey === undefined ? {} : { sortKey: stringKey(spec.sortKey) }),
        billing: tableBilling(name, props.capacity),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption,
        deletionProtection: props.deletionProtection ?? true,
        removalPolicy,
        ...(spec.ttlAttribute === undefined ? {} : { timeToLiveAttribute: spec.ttlAttribute }),
        ...(spec.stream === undefined ? {} : { dynamoStream: dynamodb.StreamViewType[spec.stream] }),
        globalSecondaryIndexes: (spec.indexes ?? []).map((index) => ({
          indexName: index.name,
          partitionKey: stringKey(index.partitionKey),
          ...(index.sortKey === undefined ? {} : { sortKey: stringKey(index.sortKey) }),
          projectionType: dynamodb.ProjectionType[index.projection],
        })),
        replicas: replicaRegions.map((region) => ({ region })),
      });
    }
    this.tables = tables;
  }
}

/** `celebrityFeed` → `CelebrityFeedTable`: the construct id of a table. */
function tableId(name: TableName): string {
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}Table`;
}

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
}

/** The key attribute of a spec: every key in `TABLES` is a string. */
function stringKey(name: string): dynamodb.Attribute {
  return { name, type: dynamodb.AttributeType.STRING };
}

/**
 * The DynamoDB tables of the AWS mode, one `TableV2` per entry of `TABLES`
 * (`src/adapters/aws/tables.ts`, the one declaration of keys, indexes, TTL and streams): on-demand,
 * point-in-time recovery, encrypted with one customer-managed key (rotated yearly), deletion
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
        billing: dynamodb.Billing.onDemand(),
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

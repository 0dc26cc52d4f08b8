import {
  type AttributeDefinition,
  CreateTableCommand,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { awsCall } from './errors.ts';
import { TABLES, type TableName, type TableNames, type TableSpec } from './tables.ts';

function keySchema(partitionKey: string, sortKey?: string): KeySchemaElement[] {
  return [
    { AttributeName: partitionKey, KeyType: 'HASH' },
    ...(sortKey === undefined ? [] : [{ AttributeName: sortKey, KeyType: 'RANGE' as const }]),
  ];
}

/**
 * Creates the tables for the local profile and the tests (on AWS the CDK app owns them).
 * On-demand billing, like the CDK app's default. Tables that exist already are left alone.
 */
export async function createTables(
  client: DynamoDBClient,
  names: TableNames,
  only: readonly TableName[] = Object.keys(TABLES) as TableName[],
): Promise<void> {
  await Promise.all(only.map((name) => createTable(client, names[name], TABLES[name])));
}

async function createTable(client: DynamoDBClient, tableName: string, spec: TableSpec): Promise<void> {
  const attributes = new Set<string>([spec.partitionKey]);
  if (spec.sortKey !== undefined) attributes.add(spec.sortKey);
  const indexes: GlobalSecondaryIndex[] = (spec.indexes ?? []).map((index) => {
    attributes.add(index.partitionKey);
    if (index.sortKey !== undefined) attributes.add(index.sortKey);
    return {
      IndexName: index.name,
      KeySchema: keySchema(index.partitionKey, index.sortKey),
      Projection: { ProjectionType: index.projection },
    };
  });
  const definitions: AttributeDefinition[] = [...attributes].map((a) => ({
    AttributeName: a,
    AttributeType: 'S',
  }));
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: definitions,
        KeySchema: keySchema(spec.partitionKey, spec.sortKey),
        ...(indexes.length > 0 ? { GlobalSecondaryIndexes: indexes } : {}),
        ...(spec.stream === undefined
          ? {}
          : { StreamSpecification: { StreamEnabled: true, StreamViewType: spec.stream } }),
      }),
    );
  } catch (err) {
    if ((err as { name?: string }).name === 'ResourceInUseException') return;
    throw err;
  }
  if (spec.ttlAttribute !== undefined) {
    await awsCall(`UpdateTimeToLive ${tableName}`, () =>
      client.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { Enabled: true, AttributeName: spec.ttlAttribute },
        }),
      ),
    );
  }
}

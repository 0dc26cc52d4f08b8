import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { TABLES, type TableName } from '../../src/adapters/aws/tables.ts';
import { emulatorClients, freshTables } from '../support/aws.ts';

const clients = emulatorClients();
afterAll(() => clients.destroy());

describe('createTables on DynamoDB Local', () => {
  it('creates every table with its keys, indexes, TTL and stream, and is idempotent', async () => {
    // Prepare
    const all = Object.keys(TABLES) as TableName[];
    // Act
    const names = await freshTables(clients, all);
    await freshTables(clients, all);
    // Assess
    const inbox = await clients.dynamodb.send(new DescribeTableCommand({ TableName: names.inbox }));
    expect(inbox.Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(inbox.Table?.GlobalSecondaryIndexes?.[0]?.IndexName).toBe('unread');
    const ttl = await clients.dynamodb.send(new DescribeTimeToLiveCommand({ TableName: names.inbox }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe('expiresAt');
    const prefs = await clients.dynamodb.send(new DescribeTableCommand({ TableName: names.preferences }));
    expect(prefs.Table?.StreamSpecification).toEqual({
      StreamEnabled: true,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    });
    expect(prefs.Table?.LatestStreamArn).toMatch(/^arn:aws:dynamodb:/);
  });
});

import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoFollowerGraph } from '../../src/adapters/aws/follower-graph.ts';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { followerGraphContract } from '../contracts/follower-graph.contract.ts';
import { emulatorClients, freshTables } from '../support/aws.ts';

const clients = emulatorClients();
afterAll(() => clients.destroy());

followerGraphContract('aws (DynamoDB)', async () => {
  const names = await freshTables(clients, ['followers']);
  return {
    graph: new DynamoFollowerGraph({ documents: clients.documents, tableName: names.followers }),
    async close() {},
  };
});

describe('DynamoFollowerGraph partial failures', () => {
  // One instance mocked, not the class: the contract above runs on real clients in this file.
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const documents = mockClient(client);
  const noWait = { sleep: async () => {}, random: () => 0 };
  // Every follow first puts its followers' `#followed` items.
  beforeEach(() => documents.on(BatchWriteCommand).resolves({}));
  afterEach(() => documents.reset());
  afterAll(() => documents.restore());

  function graph(maxAttempts = 4): DynamoFollowerGraph {
    return new DynamoFollowerGraph({
      documents: client,
      tableName: 'followers',
      retry: { ...noWait, maxAttempts },
    });
  }

  function canceled(...codes: string[]): TransactionCanceledException {
    return new TransactionCanceledException({
      message: 'Transaction cancelled',
      $metadata: {},
      CancellationReasons: codes.map((Code) => ({ Code })),
    });
  }

  it('reads the count and the tier asked for together with one GetItem, and apart with two', async () => {
    // Prepare
    documents.on(GetCommand).resolves({ Item: { count: 3, tier: 'regular', changedAt: 5 } });
    const g = graph();
    const author = { tenantId: 't', userId: 'star' };
    // Act
    const [count, tier] = await Promise.all([g.followerCount(author), g.tier(author)]);
    const together = documents.commandCalls(GetCommand).length;
    await g.followerCount(author);
    await g.tier(author);
    // Assess
    expect({ count, tier }).toEqual({ count: 3, tier: { tier: 'regular', changedAt: 5 } });
    expect(together).toBe(1);
    expect(documents.commandCalls(GetCommand)).toHaveLength(3);
    expect(documents.commandCalls(GetCommand).every((c) => c.args[0].input.ConsistentRead === true)).toBe(
      true,
    );
  });

  it('pages with an eventually consistent Query only when a recent page is asked for', async () => {
    // Prepare
    documents.on(QueryCommand).resolves({ Items: [] });
    const author = { tenantId: 't', userId: 'star' };
    // Act
    await graph().pageFollowers(author, { freshness: 'recent' });
    await graph().pageFollowers(author);
    // Assess
    expect(documents.commandCalls(QueryCommand).map((c) => c.args[0].input.ConsistentRead)).toEqual([
      false,
      true,
    ]);
  });

  it('re-asks only for the keys a BatchGetItem left unprocessed', async () => {
    // Prepare
    documents
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { followers: [{ pk: 't#star', sk: 'f#fan', alerts: false }] },
        UnprocessedKeys: { followers: { Keys: [{ pk: 't#other', sk: 'f#fan' }] } },
      })
      .resolves({ Responses: { followers: [{ pk: 't#other', sk: 'f#fan', alerts: false }] } });
    const g = graph();
    // Act
    await g.follow([
      { tenantId: 't', authorId: 'star', followerId: 'fan' },
      { tenantId: 't', authorId: 'other', followerId: 'fan' },
    ]);
    // Assess
    const calls = documents.commandCalls(BatchGetCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.args[0].input.RequestItems?.followers?.ConsistentRead).toBe(true);
    expect(calls[1]!.args[0].input.RequestItems?.followers?.Keys).toEqual([{ pk: 't#other', sk: 'f#fan' }]);
    expect(documents.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('re-plans a throttled or raced transaction from a fresh read, and counts the edge once', async () => {
    // Prepare
    documents.on(BatchGetCommand).resolves({ Responses: { followers: [] } });
    documents
      .on(TransactWriteCommand)
      .rejectsOnce(canceled('None', 'ThrottlingError'))
      .rejectsOnce(canceled('ConditionalCheckFailed', 'None'))
      .resolves({});
    const g = graph();
    // Act
    await g.follow([{ tenantId: 't', authorId: 'star', followerId: 'fan' }]);
    // Assess
    const txs = documents.commandCalls(TransactWriteCommand);
    expect(txs).toHaveLength(3);
    expect(documents.commandCalls(BatchGetCommand)).toHaveLength(3);
    const items = txs[2]!.args[0].input.TransactItems!;
    expect(items.map((i) => i.Put?.Item?.sk ?? i.Update?.Key?.sk)).toEqual(['f#fan', '#meta']);
    expect(items[1]!.Update?.ExpressionAttributeValues).toEqual({ ':delta': 1 });
  });

  it('writes one transaction of many edges per author, with the summed count', async () => {
    // Prepare
    documents
      .on(BatchGetCommand)
      .resolves({ Responses: { followers: [{ pk: 't#star', sk: 'f#b', alerts: false }] } });
    documents.on(TransactWriteCommand).resolves({});
    const g = graph();
    // Act
    await g.follow(
      ['a', 'b', 'c', 'a'].map((followerId) => ({ tenantId: 't', authorId: 'star', followerId })),
    );
    // Assess
    const txs = documents.commandCalls(TransactWriteCommand);
    expect(txs).toHaveLength(1);
    const items = txs[0]!.args[0].input.TransactItems!;
    expect(items).toHaveLength(3);
    expect(items[2]!.Update?.ExpressionAttributeValues).toEqual({ ':delta': 2 });
  });

  it('gives up with StoreUnavailableError when a transaction never passes', async () => {
    // Prepare
    documents.on(BatchGetCommand).resolves({ Responses: { followers: [] } });
    documents.on(TransactWriteCommand).rejects(canceled('TransactionConflict', 'None'));
    const g = graph(3);
    // Act
    const following = g.follow([{ tenantId: 't', authorId: 'star', followerId: 'fan' }]);
    // Assess
    await expect(following).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(documents.commandCalls(TransactWriteCommand)).toHaveLength(3);
  });

  it('gives up with StoreUnavailableError when keys stay unprocessed', async () => {
    // Prepare
    documents.on(QueryCommand).resolves({ Items: [{ sk: 'c#star' }] });
    documents.on(BatchGetCommand).resolves({
      UnprocessedKeys: { followers: { Keys: [{ pk: 't#star', sk: 'f#fan' }] } },
    });
    const g = graph(2);
    // Act
    const reading = g.celebrityFollowings({ tenantId: 't', userId: 'fan' });
    const following = g.follow([{ tenantId: 't', authorId: 'star', followerId: 'fan' }]);
    // Assess
    await expect(following).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(reading).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});

describe('DynamoFollowerGraph follower items', () => {
  it('puts the follower item of each distinct follower before any edge', async () => {
    // Prepare
    const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
    const documents = mockClient(client);
    const order: string[] = [];
    documents.on(BatchWriteCommand).callsFake(() => {
      order.push('followed');
      return {};
    });
    documents.on(BatchGetCommand).resolves({ Responses: { followers: [] } });
    documents.on(TransactWriteCommand).callsFake(() => {
      order.push('edges');
      return {};
    });
    const g = new DynamoFollowerGraph({ documents: client, tableName: 'followers' });
    // Act
    await g.follow([
      { tenantId: 't', authorId: 'star', followerId: 'fan' },
      { tenantId: 't', authorId: 'idol', followerId: 'fan' },
    ]);
    // Assess
    const puts = documents
      .commandCalls(BatchWriteCommand)
      .flatMap((c) => c.args[0].input.RequestItems!.followers!.map((r) => r.PutRequest!.Item));
    expect(puts).toEqual([{ pk: 't#fan', sk: '#followed' }]);
    expect(order[0]).toBe('followed');
    documents.restore();
  });
});

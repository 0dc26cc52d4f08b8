import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DynamoCelebrityFeed } from '../../src/adapters/aws/celebrity-feed.ts';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { notificationId, POINTER_RECIPIENT } from '../../src/domain/ids.ts';
import type { CelebrityPointer } from '../../src/domain/types.ts';
import { celebrityFeedContract } from '../contracts/celebrity-feed.contract.ts';
import { emulatorClients, freshTables } from '../support/aws.ts';

const clients = emulatorClients();
afterAll(() => clients.destroy());

/**
 * The suite writes pointers of 2026-01-01, whose 90-day TTL has passed by the wall clock, and
 * DynamoDB Local deletes expired items in the background like DynamoDB does: keep them longer.
 */
const TEST_TTL_MS = 10 * 365 * 24 * 60 * 60 * 1000;

celebrityFeedContract('aws (DynamoDB)', async () => {
  const names = await freshTables(clients, ['celebrityFeed']);
  return {
    feed: new DynamoCelebrityFeed({
      documents: clients.documents,
      tableName: names.celebrityFeed,
      ttlMs: TEST_TTL_MS,
    }),
    async close() {},
  };
});

const T0 = Date.UTC(2026, 0, 1);

function pointer(eventId: string, createdAt: number): CelebrityPointer {
  return {
    tenantId: 'acme',
    authorId: 'star',
    id: notificationId(eventId, POINTER_RECIPIENT, createdAt),
    eventId,
    type: 'post',
    category: 'content',
    createdAt,
  };
}

describe('DynamoCelebrityFeed partial failures', () => {
  // One instance mocked, not the class: the contract above runs on real clients in this file.
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const documents = mockClient(client);
  const noWait = { sleep: async () => {}, random: () => 0 };
  afterEach(() => documents.reset());
  afterAll(() => documents.restore());

  function feed(maxAttempts = 4, used?: [string, number, number][]): DynamoCelebrityFeed {
    return new DynamoCelebrityFeed({
      documents: client,
      tableName: 'feed',
      retry: { ...noWait, maxAttempts },
      ...(used === undefined ? {} : { capacity: { add: (t, w, r) => used.push([t, w, r]) } }),
    });
  }

  it('writes a feed item and a by-id copy per pointer, and re-sends only unprocessed items', async () => {
    // Prepare
    const p = pointer('e1', T0);
    documents.on(BatchGetCommand).resolves({ Responses: { feed: [] } });
    documents
      .on(BatchWriteCommand)
      .callsFakeOnce((input) => ({ UnprocessedItems: { feed: [input.RequestItems.feed[1]] } }))
      .resolves({});
    // Act
    await feed().put([p]);
    // Assess
    const calls = documents.commandCalls(BatchWriteCommand);
    const keys = (i: number) =>
      calls[i]!.args[0].input.RequestItems!.feed!.map(
        (r) => `${r.PutRequest!.Item!.pk}/${r.PutRequest!.Item!.sk}`,
      );
    expect(keys(0)).toEqual([`acme#star/${p.id}`, `acme#ptr#${p.id}/star`]);
    expect(keys(1)).toEqual([`acme#ptr#${p.id}/star`]);
  });

  it('completes a half-written pointer without rewriting the half that exists', async () => {
    // Prepare
    const p = pointer('e1', T0);
    documents.on(BatchGetCommand).resolves({ Responses: { feed: [{ pk: 'acme#star', sk: p.id }] } });
    documents.on(BatchWriteCommand).resolves({});
    // Act
    await feed().put([p]);
    // Assess
    const items = documents.commandCalls(BatchWriteCommand)[0]!.args[0].input.RequestItems!.feed!;
    expect(items.map((r) => r.PutRequest!.Item!.pk)).toEqual([`acme#ptr#${p.id}`]);
  });

  it('gives up with StoreUnavailableError when items stay unprocessed', async () => {
    // Prepare
    documents.on(BatchGetCommand).resolves({ Responses: { feed: [] } });
    documents.on(BatchWriteCommand).callsFake((input) => ({ UnprocessedItems: input.RequestItems }));
    // Act
    const writing = feed(3).put([pointer('e1', T0)]);
    // Assess
    await expect(writing).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(documents.commandCalls(BatchWriteCommand)).toHaveLength(3);
  });

  it('reports consumed capacity and finds a pointer with one single-item Query', async () => {
    // Prepare
    const used: [string, number, number][] = [];
    const p = pointer('e1', T0);
    documents.on(QueryCommand).resolves({
      Items: [{ pk: `acme#ptr#${p.id}`, sk: 'star', e: 'e1', t: 'post', c: 'content', ca: T0 }],
      ConsumedCapacity: { TableName: 'feed', CapacityUnits: 0.5 },
    });
    // Act
    const found = await feed(4, used).get('acme', p.id);
    // Assess
    expect(found).toEqual(p);
    expect(used).toEqual([['feed', 0, 0.5]]);
    const input = documents.commandCalls(QueryCommand)[0]!.args[0].input;
    expect(input.ExpressionAttributeValues).toEqual({ ':pk': `acme#ptr#${p.id}` });
    expect(input.Limit).toBe(1);
  });
});

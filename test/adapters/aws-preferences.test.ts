import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { BatchWriteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  DynamoPreferenceStore,
  preferenceChangeFromStreamRecord,
} from '../../src/adapters/aws/preferences.ts';
import { StoreUnavailableError, ValidationError } from '../../src/domain/errors.ts';
import type { Preferences } from '../../src/domain/types.ts';
import { compareSequence } from '../../src/ports/event-log.ts';
import { preferenceStoreContract } from '../contracts/preferences.contract.ts';
import { emulatorClients, freshTables } from '../support/aws.ts';

preferenceStoreContract('aws (DynamoDB + Streams)', async () => {
  const clients = emulatorClients();
  const names = await freshTables(clients, ['preferences']);
  return {
    store: new DynamoPreferenceStore({
      documents: clients.documents,
      dynamodb: clients.dynamodb,
      streams: clients.dynamodbStreams,
      tableName: names.preferences,
    }),
    async close() {
      clients.destroy();
    },
  };
});

function prefs(userId: string, extra: Partial<Preferences> = {}): Preferences {
  return {
    tenantId: 'tenant-1',
    userId,
    timezone: 'UTC',
    consent: { push: true },
    channels: {},
    categories: {},
    updatedAt: 1,
    ...extra,
  };
}

describe('DynamoPreferenceStore on DynamoDB Local', () => {
  const clients = emulatorClients();
  afterAll(() => clients.destroy());

  async function freshStore(): Promise<DynamoPreferenceStore> {
    const names = await freshTables(clients, ['preferences']);
    return new DynamoPreferenceStore({
      documents: clients.documents,
      dynamodb: clients.dynamodb,
      streams: clients.dynamodbStreams,
      tableName: names.preferences,
    });
  }

  it('round-trips empty maps in the table and in both stream images', async () => {
    // Prepare
    const store = await freshStore();
    const first = prefs('alice');
    const second = prefs('alice', { locale: '', updatedAt: 2 });
    // Act
    await store.put(first);
    await store.put(second);
    // Assess
    expect(await store.get({ tenantId: 'tenant-1', userId: 'alice' })).toEqual(second);
    const [insert, modify] = await store.changes(undefined, 10);
    expect(insert!.newImage).toEqual(first);
    expect(modify!.oldImage).toEqual(first);
    expect(modify!.newImage).toEqual(second);
  });

  it('writes more than one BatchWriteItem of records, a repeated user last-wins, one change each', async () => {
    // Prepare
    const store = await freshStore();
    const batch = Array.from({ length: 30 }, (_, i) => prefs(`user-${i}`));
    batch.push(prefs('user-3', { timezone: 'Asia/Tokyo' }));
    // Act
    await store.putMany(batch);
    // Assess
    expect((await store.get({ tenantId: 'tenant-1', userId: 'user-3' }))?.timezone).toBe('Asia/Tokyo');
    const changes = await store.changes(undefined, 100);
    expect(changes).toHaveLength(31);
    expect(changes.at(-1)!.eventName).toBe('MODIFY');
    const sequences = changes.map((c) => c.sequence);
    expect([...sequences].sort(compareSequence)).toEqual(sequences);
  });

  it('accepts a well-formed position of an unknown shard, resuming by sequence number', async () => {
    // Prepare
    const store = await freshStore();
    await store.putMany([prefs('a'), prefs('b'), prefs('c')]);
    const [first] = await store.changes(undefined, 1);
    const foreign = `${first!.sequence.split('.')[0]}.000000000000`;
    // Act
    const rest = await store.changes(foreign, 10);
    // Assess
    expect(rest).toHaveLength(2);
    expect(rest.map((c) => c.user.userId)).not.toContain(first!.user.userId);
  });
});

describe('DynamoPreferenceStore against a mocked SDK', () => {
  // Instances, not classes, are mocked: the DynamoDB Local tests of this file share the classes.
  const documentClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const dynamodbClient = new DynamoDBClient({ region: 'us-east-1' });
  const streamsClient = new DynamoDBStreamsClient({ region: 'us-east-1' });
  const documents = mockClient(documentClient);
  const dynamodb = mockClient(dynamodbClient);
  const streams = mockClient(streamsClient);
  afterEach(() => {
    documents.reset();
    dynamodb.reset();
    streams.reset();
  });

  function mockedStore(maxAttempts = 4): DynamoPreferenceStore {
    return new DynamoPreferenceStore({
      documents: documentClient,
      dynamodb: dynamodbClient,
      streams: streamsClient,
      tableName: 'prefs',
      clock: { now: () => 7_000 },
      retry: { maxAttempts, sleep: async () => {}, random: () => 0 },
    });
  }

  it('re-sends only the unprocessed items of a BatchWriteItem', async () => {
    // Prepare
    const store = mockedStore();
    const batch = [prefs('a'), prefs('b'), prefs('c')];
    documents
      .on(BatchWriteCommand)
      .resolvesOnce({
        UnprocessedItems: {
          prefs: [{ PutRequest: { Item: { pk: 'tenant-1#b', doc: JSON.stringify(prefs('b')) } } }],
        },
      })
      .resolves({});
    // Act
    await store.putMany(batch);
    // Assess
    const calls = documents.commandCalls(BatchWriteCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.args[0].input.RequestItems!.prefs).toHaveLength(3);
    expect(calls[1]!.args[0].input.RequestItems!.prefs!.map((r) => r.PutRequest!.Item!.pk)).toEqual([
      'tenant-1#b',
    ]);
  });

  it('splits at 25 and where a user repeats', async () => {
    // Prepare
    const store = mockedStore();
    documents.on(BatchWriteCommand).resolves({});
    const batch = [...Array.from({ length: 26 }, (_, i) => prefs(`u${i}`)), prefs('u25')];
    // Act
    await store.putMany(batch);
    // Assess
    const sizes = documents
      .commandCalls(BatchWriteCommand)
      .map((c) => c.args[0].input.RequestItems!.prefs!.length);
    expect(sizes).toEqual([25, 1, 1]);
  });

  it('retries a throttled batch and gives up with StoreUnavailableError', async () => {
    // Prepare
    const store = mockedStore(3);
    const throttled = Object.assign(new Error('slow down'), {
      name: 'ProvisionedThroughputExceededException',
    });
    documents.on(BatchWriteCommand).rejects(throttled);
    // Act
    const result = store.putMany([prefs('a')]);
    // Assess
    await expect(result).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(documents.commandCalls(BatchWriteCommand)).toHaveLength(3);
  });

  it('turns a failing PutItem into StoreUnavailableError and rejects bad records before any call', async () => {
    // Prepare
    const store = mockedStore();
    documents.on(PutCommand).rejects(Object.assign(new Error('down'), { name: 'InternalServerError' }));
    // Act / Assess
    await expect(store.put(prefs('a'))).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.putMany([prefs('a'), prefs('')])).rejects.toBeInstanceOf(ValidationError);
    expect(documents.commandCalls(BatchWriteCommand)).toHaveLength(0);
  });

  it('reads a closed parent shard to its end before its child, skipping TTL deletions', async () => {
    // Prepare
    const store = mockedStore();
    dynamodb.on(DescribeTableCommand).resolves({ Table: { LatestStreamArn: 'arn:stream' } });
    streams.on(DescribeStreamCommand).resolves({
      StreamDescription: {
        Shards: [
          {
            ShardId: 'child',
            ParentShardId: 'parent',
            SequenceNumberRange: { StartingSequenceNumber: '300' },
          },
          {
            ShardId: 'parent',
            SequenceNumberRange: { StartingSequenceNumber: '100', EndingSequenceNumber: '200' },
          },
        ],
      },
    });
    streams.on(GetShardIteratorCommand, { ShardId: 'parent' }).resolves({ ShardIterator: 'it-parent' });
    streams.on(GetShardIteratorCommand, { ShardId: 'child' }).resolves({ ShardIterator: 'it-child' });
    streams
      .on(GetRecordsCommand, { ShardIterator: 'it-parent' })
      .resolves({ Records: [sdkRecord('INSERT', 'a', '100'), sdkRecord('TTL', 'b', '150')] });
    streams
      .on(GetRecordsCommand, { ShardIterator: 'it-child' })
      .resolves({ Records: [sdkRecord('MODIFY', 'a', '300')], NextShardIterator: 'it-child-2' });
    streams
      .on(GetRecordsCommand, { ShardIterator: 'it-child-2' })
      .resolves({ Records: [], NextShardIterator: 'x' });
    // Act
    const changes = await store.changes(undefined, 10);
    // Assess
    expect(changes.map((c) => [c.eventName, c.user.userId])).toEqual([
      ['INSERT', 'a'],
      ['MODIFY', 'a'],
    ]);
    expect(changes[0]!.at).toBe(7_000);
    expect(compareSequence(changes[0]!.sequence, changes[1]!.sequence)).toBeLessThan(0);
    expect(streams.commandCalls(GetShardIteratorCommand).map((c) => c.args[0].input.ShardId)).toEqual([
      'parent',
      'child',
    ]);
  });
});

function sdkRecord(eventName: string, userId: string, sequence: string) {
  const doc = JSON.stringify(prefs(userId));
  return {
    eventName: eventName as 'INSERT',
    dynamodb: {
      SequenceNumber: sequence,
      Keys: { pk: { S: `tenant-1#${userId}` } },
      NewImage: { pk: { S: `tenant-1#${userId}` }, doc: { S: doc } },
    },
  };
}

describe('preferenceChangeFromStreamRecord', () => {
  function lambdaRecord(eventName: string, extra: Partial<NonNullable<DynamoDBRecord['dynamodb']>> = {}) {
    return {
      eventName,
      eventSource: 'aws:dynamodb',
      dynamodb: {
        ApproximateCreationDateTime: 1_700_000_000,
        Keys: { pk: { S: 'tenant-1#alice' } },
        SequenceNumber: '000000000000000000042',
        ...extra,
      },
    } as DynamoDBRecord;
  }

  it('maps a Lambda-shaped REMOVE with its old image and creation time in ms', () => {
    // Prepare
    const old = prefs('alice');
    const record = lambdaRecord('REMOVE', {
      OldImage: { pk: { S: 'tenant-1#alice' }, doc: { S: JSON.stringify(old) } },
    });
    // Act
    const change = preferenceChangeFromStreamRecord(record, 'shardId-1');
    // Assess
    expect(change).toMatchObject({
      eventName: 'REMOVE',
      user: { tenantId: 'tenant-1', userId: 'alice' },
      at: 1_700_000_000_000,
    });
    expect(change!.oldImage).toEqual(old);
    expect(change!.newImage).toBeUndefined();
    expect(change!.sequence).toMatch(/^0{38}42\.[0-9a-f]{12}$/);
  });

  it('skips TTL deletions, unknown event names and records without a usable key', () => {
    // Act / Assess
    expect(preferenceChangeFromStreamRecord(lambdaRecord('TTL'))).toBeUndefined();
    expect(
      preferenceChangeFromStreamRecord({ ...lambdaRecord('REMOVE'), eventName: undefined }),
    ).toBeUndefined();
    expect(
      preferenceChangeFromStreamRecord(lambdaRecord('INSERT', { Keys: { pk: { S: 'no-separator' } } })),
    ).toBeUndefined();
  });
});

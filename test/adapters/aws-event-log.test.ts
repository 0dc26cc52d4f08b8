import {
  ConditionalCheckFailedException,
  DeleteTableCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ProvisionedThroughputExceededException,
  PutRecordsCommand,
  type PutRecordsCommandInput,
  type PutRecordsCommandOutput,
} from '@aws-sdk/client-kinesis';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterAll, describe, expect, it } from 'vitest';
import { KinesisEventLog, type KinesisEventLogOptions } from '../../src/adapters/aws/event-log.ts';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import type { AuthorEvent } from '../../src/domain/types.ts';
import type { AwsClients } from '../../src/runtime/aws-clients.ts';
import { eventLogContract } from '../contracts/event-log.contract.ts';
import { emulatorClients, freshTables, uniqueName } from '../support/aws.ts';

const clients = emulatorClients();
afterAll(() => clients.destroy());

/** A new stream on kinesalite, ACTIVE before it is used. */
async function freshStream(kinesis: KinesisClient, shards: number): Promise<string> {
  const name = uniqueName('events');
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  for (let i = 0; i < 200; i++) {
    const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return name;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`stream ${name} did not become ACTIVE`);
}

interface LogSetup {
  readonly log: KinesisEventLog;
  readonly streamName: string;
  readonly eventsTable: string;
  close(): Promise<void>;
}

async function makeLog(
  c: AwsClients,
  shards: number,
  extra: Partial<KinesisEventLogOptions> = {},
): Promise<LogSetup> {
  const [streamName, tables] = await Promise.all([
    freshStream(c.kinesis, shards),
    freshTables(c, ['events']),
  ]);
  return {
    log: new KinesisEventLog({
      kinesis: c.kinesis,
      streamName,
      documents: c.documents,
      eventsTable: tables.events,
      ...extra,
    }),
    streamName,
    eventsTable: tables.events,
    async close() {
      await Promise.all([
        c.kinesis.send(new DeleteStreamCommand({ StreamName: streamName })),
        c.dynamodb.send(new DeleteTableCommand({ TableName: tables.events })),
      ]);
    },
  };
}

// kinesalite stamps ApproximateArrivalTimestamp with its own clock: no settable clock here.
eventLogContract('aws (kinesis, 4 shards)', () => makeLog(clients, 4));

// One shard puts every author on the same shard: order must still hold per author.
eventLogContract('aws (kinesis, 1 shard)', () => makeLog(clients, 1));

function event(id: string, extra: Partial<AuthorEvent> = {}): AuthorEvent {
  return {
    tenantId: 't1',
    id,
    type: 'post',
    actorId: 'alice',
    occurredAt: 1_700_000_000_000,
    acceptedAt: 1_700_000_000_000,
    ...extra,
  };
}

const decoder = new TextDecoder();

describe('KinesisEventLog on kinesalite and DynamoDB Local', () => {
  it('puts an event whose claim was left without a position once the lease has run out', async () => {
    // Prepare: a crash between claim and put left a claim whose lease ended a minute ago
    const setup = await makeLog(clients, 1);
    const now = Date.now();
    await clients.documents.send(
      new PutCommand({
        TableName: setup.eventsTable,
        Item: { pk: 't1#e1', claimId: 'crashed', leaseUntil: now - 60_000, expiresAt: now / 1000 + 3600 },
      }),
    );
    // Act
    const [result] = await setup.log.append([event('e1')]);
    const [again] = await setup.log.append([event('e1')]);
    // Assess
    expect(result!.fresh).toBe(true);
    expect(again).toEqual({ ...result, fresh: false });
    const records = await setup.log.read(result!.shardId, undefined, 10);
    expect(records.map((r) => JSON.parse(decoder.decode(r.data)).id)).toEqual(['e1']);
    await setup.close();
  });

  it('waits while another append holds a live claim, then takes the event over when its lease ends', async () => {
    // Prepare: a claim that is live for 5 more seconds of a clock that moves only when we wait
    let now = 1_900_000_000_000;
    const clock = { now: () => now };
    const waits: number[] = [];
    const setup = await makeLog(clients, 1, {
      clock,
      retry: {
        random: () => 0,
        sleep: async (ms) => {
          waits.push(ms);
          now += 1_000;
        },
      },
    });
    await clients.documents.send(
      new PutCommand({
        TableName: setup.eventsTable,
        Item: { pk: 't1#e1', claimId: 'other', leaseUntil: now + 5_000, expiresAt: now / 1000 + 3600 },
      }),
    );
    // Act
    const [result] = await setup.log.append([event('e1')]);
    // Assess
    expect(result!.fresh).toBe(true);
    expect(waits.length).toBeGreaterThanOrEqual(5);
    expect(await setup.log.read(result!.shardId, undefined, 10)).toHaveLength(1);
    await setup.close();
  });

  it('puts an id appended by two calls at once a single time; the other call answers with its result', async () => {
    // Prepare
    const setup = await makeLog(clients, 1);
    // Act
    const [[a], [b]] = await Promise.all([setup.log.append([event('e1')]), setup.log.append([event('e1')])]);
    // Assess
    expect([a!.fresh, b!.fresh].sort()).toEqual([false, true]);
    expect({ ...a, fresh: true }).toEqual({ ...b, fresh: true });
    expect(await setup.log.read(a!.shardId, undefined, 10)).toHaveLength(1);
    await setup.close();
  });

  it('reports records put behind its back as the newest, not the stale marker', async () => {
    // Prepare: one append through the log, then a record put straight into the stream
    const setup = await makeLog(clients, 1);
    const [result] = await setup.log.append([event('e1')]);
    const out = await clients.kinesis.send(
      new PutRecordsCommand({
        StreamName: setup.streamName,
        Records: [{ PartitionKey: 't1#alice', Data: new TextEncoder().encode('{}') }],
      }),
    );
    // Act
    const latest = await setup.log.latestSequence(result!.shardId);
    // Assess
    expect(latest).toBe(out.Records![0]!.SequenceNumber);
    await setup.close();
  });

  it('keeps the order of one author across many rounds of one call', async () => {
    // Prepare: 30 events of one author and one of another, in one call
    const setup = await makeLog(clients, 4);
    const events = [
      ...Array.from({ length: 30 }, (_, i) => event(`a${i}`, { data: { n: i } })),
      event('b0', { actorId: 'bob' }),
    ];
    // Act
    const results = await setup.log.append(events);
    // Assess
    const records = await setup.log.read(results[0]!.shardId, undefined, 100);
    const order = records
      .filter((r) => r.partitionKey === 't1#alice')
      .map((r) => JSON.parse(decoder.decode(r.data)).data.n);
    expect(order).toEqual(Array.from({ length: 30 }, (_, i) => i));
    await setup.close();
  });
});

/** A log on mocked clients: every DynamoDB write succeeds, Kinesis answers as each test says. */
function mockedLog(maxAttempts = 4) {
  const kinesis = new KinesisClient({ region: 'us-east-1', credentials: MOCK_CREDENTIALS });
  const documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({ region: 'us-east-1', credentials: MOCK_CREDENTIALS }),
  );
  const k = mockClient(kinesis);
  const d = mockClient(documents);
  d.on(PutCommand).resolves({});
  d.on(UpdateCommand).resolves({});
  d.on(DeleteCommand).resolves({});
  d.on(GetCommand).resolves({});
  const sleeps: number[] = [];
  const log = new KinesisEventLog({
    kinesis,
    streamName: 'events',
    documents,
    eventsTable: 'events-table',
    retry: { maxAttempts, random: () => 0, sleep: async (ms) => void sleeps.push(ms) },
  });
  return { log, k, d, sleeps };
}

const MOCK_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/** The event ids a PutRecords request carried, in request order. */
function idsOf(input: PutRecordsCommandInput): string[] {
  return (input.Records ?? []).map((r) => JSON.parse(decoder.decode(r.Data!)).id as string);
}

/** A PutRecords answer that fails the listed ids once and stores everything else, in order. */
function putRecordsFailingOnce(failOnce: Set<string>) {
  let seq = 1000;
  return (input: PutRecordsCommandInput): PutRecordsCommandOutput => {
    const entries = idsOf(input).map((id) => {
      if (failOnce.delete(id)) {
        return { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' };
      }
      return { ShardId: 'shardId-000000000000', SequenceNumber: String(seq++) };
    });
    return {
      FailedRecordCount: entries.filter((e) => 'ErrorCode' in e).length,
      Records: entries,
      $metadata: {},
    };
  };
}

function putRequests(k: AwsClientStub<KinesisClient>): string[][] {
  return k.commandCalls(PutRecordsCommand).map((call) => idsOf(call.args[0].input));
}

describe('KinesisEventLog with mocked clients', () => {
  it('re-sends only the records whose entries came back with an ErrorCode', async () => {
    // Prepare: three authors, the second record throttled once
    const { log, k } = mockedLog();
    k.on(PutRecordsCommand).callsFake(putRecordsFailingOnce(new Set(['e2'])));
    // Act
    const results = await log.append([
      event('e1', { actorId: 'a' }),
      event('e2', { actorId: 'b' }),
      event('e3', { actorId: 'c' }),
    ]);
    // Assess
    expect(putRequests(k)).toEqual([['e1', 'e2', 'e3'], ['e2']]);
    expect(results.map((r) => r.fresh)).toEqual([true, true, true]);
    expect(results[1]!.sequenceNumber).toBe('1002');
  });

  it('never lets an author’s later record overtake one that failed', async () => {
    // Prepare: alice's first event throttled once; bob has one event
    const { log, k } = mockedLog();
    k.on(PutRecordsCommand).callsFake(putRecordsFailingOnce(new Set(['a1'])));
    // Act
    const results = await log.append([
      event('a1'),
      event('a2'),
      event('b1', { actorId: 'bob' }),
      event('a3'),
    ]);
    // Assess: one record of alice per request, the next only once the previous one is stored
    expect(putRequests(k)).toEqual([['a1', 'b1'], ['a1'], ['a2'], ['a3']]);
    const alice = [results[0]!, results[1]!, results[3]!].map((r) => Number(r.sequenceNumber));
    expect(alice).toEqual([...alice].sort((x, y) => x - y));
  });

  it('splits a 5.5 MiB call into requests within the 5 MiB and 500-record limits', async () => {
    // Prepare: 11 authors with half a MiB each, and 600 small events of other authors
    const { log, k } = mockedLog();
    k.on(PutRecordsCommand).callsFake(putRecordsFailingOnce(new Set()));
    const big = Array.from({ length: 11 }, (_, i) =>
      event(`big${i}`, { actorId: `big-${i}`, data: { blob: 'x'.repeat(512 * 1024 - 200) } }),
    );
    const small = Array.from({ length: 600 }, (_, i) => event(`s${i}`, { actorId: `small-${i}` }));
    // Act
    await log.append(big);
    await log.append(small);
    // Assess
    const requests = k.commandCalls(PutRecordsCommand).map((call) => call.args[0].input.Records ?? []);
    const bytes = requests.map((records) =>
      records.reduce((sum, r) => sum + r.Data!.byteLength + Buffer.byteLength(r.PartitionKey!), 0),
    );
    expect(requests.map((r) => r.length)).toEqual([10, 1, 500, 100]);
    expect(bytes[0]! + bytes[1]!).toBeGreaterThan(5 * 1024 * 1024);
    for (const size of bytes) expect(size).toBeLessThanOrEqual(5 * 1024 * 1024);
  });

  it('gives up with StoreUnavailableError and releases the claims of events that never got in', async () => {
    // Prepare: bob's record fails every time; alice's two events sit in rounds one and two
    const { log, k, d } = mockedLog(3);
    k.on(PutRecordsCommand).callsFake((input: PutRecordsCommandInput) => {
      const entries = idsOf(input).map((id, i) =>
        id === 'b1'
          ? { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded' }
          : { ShardId: 'shardId-000000000000', SequenceNumber: String(2000 + i) },
      );
      return { FailedRecordCount: 1, Records: entries, $metadata: {} };
    });
    // Act
    const appending = log.append([event('a1'), event('b1', { actorId: 'bob' }), event('a2')]);
    // Assess: three attempts for b1, round two never sent, a1's result kept, the others released
    await expect(appending).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(putRequests(k)).toEqual([['a1', 'b1'], ['b1'], ['b1']]);
    const stored = d.commandCalls(UpdateCommand).map((c) => c.args[0].input.Key?.pk);
    expect(stored).toContain('t1#a1');
    const released = d.commandCalls(DeleteCommand).map((c) => c.args[0].input.Key?.pk);
    expect(released.sort()).toEqual(['t1#a2', 't1#b1']);
  });

  it('answers an event id the events table already holds without writing to Kinesis', async () => {
    // Prepare: the claim's condition fails, the stored item has a position
    const { log, k, d } = mockedLog();
    d.on(PutCommand).rejects(
      new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
    );
    d.on(GetCommand).resolves({ Item: { shardId: 'shardId-000000000003', seq: '4242' } });
    // Act
    const [result] = await log.append([event('e1')]);
    // Assess
    expect(result).toEqual({
      eventId: 'e1',
      shardId: 'shardId-000000000003',
      sequenceNumber: '4242',
      fresh: false,
    });
    expect(k.commandCalls(PutRecordsCommand)).toHaveLength(0);
  });

  it('retries a throttled GetRecords and returns the page', async () => {
    // Prepare
    const { log, k, sleeps } = mockedLog();
    k.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-1' });
    k.on(GetRecordsCommand)
      .rejectsOnce(new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} }))
      .resolves({
        Records: [
          {
            SequenceNumber: '7',
            PartitionKey: 't1#alice',
            Data: new TextEncoder().encode('{}'),
            ApproximateArrivalTimestamp: new Date(1_800_000_000_000),
          },
        ],
        NextShardIterator: 'it-2',
        MillisBehindLatest: 0,
      });
    // Act
    const records = await log.read('shardId-000000000000', undefined, 10);
    // Assess
    expect(records.map((r) => [r.sequenceNumber, r.arrivedAt])).toEqual([['7', 1_800_000_000_000]]);
    expect(k.commandCalls(GetRecordsCommand)).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
  });

  it('surfaces a GetRecords that stays throttled as StoreUnavailableError', async () => {
    // Prepare
    const { log, k } = mockedLog(3);
    k.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-1' });
    k.on(GetRecordsCommand).rejects(
      new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} }),
    );
    // Act
    const reading = log.read('shardId-000000000000', undefined, 10);
    // Assess
    await expect(reading).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(k.commandCalls(GetRecordsCommand)).toHaveLength(3);
  });

  it('reads on past empty pages while the shard is behind its tip, and re-uses the next iterator', async () => {
    // Prepare: an empty stretch, then a record, then the tip
    const { log, k } = mockedLog();
    k.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-1' });
    const record = { SequenceNumber: '9', PartitionKey: 't1#alice', Data: new Uint8Array([123, 125]) };
    k.on(GetRecordsCommand, { ShardIterator: 'it-1' }).resolves({
      Records: [],
      NextShardIterator: 'it-2',
      MillisBehindLatest: 60_000,
    });
    k.on(GetRecordsCommand, { ShardIterator: 'it-2' }).resolves({
      Records: [record],
      NextShardIterator: 'it-3',
      MillisBehindLatest: 0,
    });
    k.on(GetRecordsCommand, { ShardIterator: 'it-3' }).resolves({
      Records: [],
      NextShardIterator: 'it-4',
      MillisBehindLatest: 0,
    });
    // Act
    const first = await log.read('shardId-000000000000', undefined, 10);
    const second = await log.read('shardId-000000000000', '9', 10);
    // Assess
    expect(first.map((r) => r.sequenceNumber)).toEqual(['9']);
    expect(second).toEqual([]);
    expect(k.commandCalls(GetShardIteratorCommand)).toHaveLength(1);
    expect(k.commandCalls(GetRecordsCommand).map((c) => c.args[0].input.ShardIterator)).toEqual([
      'it-1',
      'it-2',
      'it-3',
    ]);
  });
});

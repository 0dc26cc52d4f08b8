import { DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DynamoInbox, type DynamoInboxOptions } from '../../src/adapters/aws/inbox.ts';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { maxUlidAt, minUlidAt } from '../../src/domain/ids.ts';
import type { InboxRow, UserKey } from '../../src/domain/types.ts';
import { inboxContract } from '../contracts/inbox.contract.ts';
import { emulatorClients, freshTables } from '../support/aws.ts';
import { inboxRow } from '../support/rows.ts';

const clients = emulatorClients();
afterAll(() => clients.destroy());

const T0 = Date.UTC(2026, 0, 1);
/**
 * The suites write rows of T0, whose 90-day TTL has passed by the wall clock, and DynamoDB Local
 * deletes expired items in the background like DynamoDB does: keep them for ten years instead.
 */
const TEST_TTL_MS = 10 * 365 * 24 * 60 * 60 * 1000;

/** The physical table of each inbox made here, for tests that look at raw items. */
const tables = new WeakMap<DynamoInbox, string>();

async function makeInbox(opts: Partial<DynamoInboxOptions> = {}): Promise<DynamoInbox> {
  const names = await freshTables(clients, ['inbox']);
  const inbox = new DynamoInbox({
    documents: clients.documents,
    tableName: names.inbox,
    ttlMs: TEST_TTL_MS,
    ...opts,
  });
  tables.set(inbox, names.inbox);
  return inbox;
}

inboxContract('aws (DynamoDB, unread GSI)', async () => ({ inbox: await makeInbox(), async close() {} }));

// The suite's rows are written at T0 + 0…50 ms. A clock just after them with a 20 ms settle time
// sends some rows down the fresh path and some down the late (reset) path, and lets the counted
// range move over the older ones.
inboxContract('aws (DynamoDB, unread counter)', async () => ({
  inbox: await makeInbox({ unread: 'counter', clock: { now: () => T0 + 25 }, counterSettleMs: 20 }),
  async close() {},
}));

// The real clock: every suite row is months old, so each write resets the counter.
inboxContract('aws (DynamoDB, unread counter, system clock)', async () => ({
  inbox: await makeInbox({ unread: 'counter' }),
  async close() {},
}));

describe('DynamoInbox counter mode', () => {
  const ALICE: UserKey = { tenantId: 'acme', userId: 'alice' };

  /** A random operation on one user's inbox; the model says what the count must be. */
  type Op =
    | { kind: 'put'; rows: { event: number; offset: number; read: boolean }[] }
    | { kind: 'read'; picks: number[] }
    | { kind: 'readAll'; offset: number }
    | { kind: 'count'; offset: number | null }
    | { kind: 'tick'; ms: number };

  // Weighted towards counts and clock ticks: a late row is one written below a range a count
  // has already moved over, which needs a tick, a count and then an older row.
  const op: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('put' as const),
        rows: fc.array(fc.record({ event: fc.nat(40), offset: fc.nat(60), read: fc.boolean() }), {
          maxLength: 5,
        }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('read' as const),
        picks: fc.array(fc.nat(50), { maxLength: 3 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('readAll' as const), offset: fc.nat(60) }) },
    {
      weight: 4,
      arbitrary: fc.record({ kind: fc.constant('count' as const), offset: fc.option(fc.nat(60)) }),
    },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.nat(40) }) },
  );

  it('counts exactly what a model of the rows counts, under any sequence of operations', async () => {
    // Prepare: one table, a user of its own per run, a clock the run moves
    let now = T0;
    const inbox = await makeInbox({ unread: 'counter', clock: { now: () => now }, counterSettleMs: 20 });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 16 }), async (ops) => {
        const user: UserKey = { tenantId: 'acme', userId: `u${run++}` };
        now = T0;
        const model = new Map<string, boolean>();
        for (const step of ops) {
          // Act
          if (step.kind === 'put') {
            const rows = step.rows.map((r) => inboxRow(user, `e${r.event}`, T0 + r.offset, { read: r.read }));
            await inbox.putMany(rows);
            for (const r of rows) if (!model.has(r.id)) model.set(r.id, r.read);
          } else if (step.kind === 'read') {
            const ids = [...model.keys()].sort();
            const picked = step.picks
              .map((i) => ids[i % Math.max(1, ids.length)])
              .filter((id) => id !== undefined);
            await inbox.markRead(
              user,
              picked.map((id) => ({ id })),
            );
            for (const id of picked) model.set(id, true);
          } else if (step.kind === 'readAll') {
            const upTo = maxUlidAt(T0 + step.offset);
            await inbox.markAllRead(user, upTo);
            for (const id of model.keys()) if (id <= upTo) model.set(id, true);
          } else if (step.kind === 'tick') {
            now += step.ms;
          } else {
            const bound = step.offset === null ? minUlidAt(0) : maxUlidAt(T0 + step.offset);
            const count = await inbox.unreadCount(user, bound);
            // Assess
            const expected = [...model].filter(([id, read]) => !read && id > bound).length;
            expect(count).toBe(expected);
          }
        }
        // Assess: whatever came before, a final count over everything agrees
        const all = minUlidAt(0);
        expect(await inbox.unreadCount(user, all)).toBe([...model.values()].filter((read) => !read).length);
      }),
      { numRuns: 60 },
    );
  });

  it('stays exact when writes, reads and counts of one user run at once', async () => {
    // Prepare: rows old enough to be counted, then a count that stores the counter
    let now = T0 + 1_000;
    const inbox = await makeInbox({ unread: 'counter', clock: { now: () => now }, counterSettleMs: 20 });
    const old = Array.from({ length: 30 }, (_, i) => inboxRow(ALICE, `old${i}`, T0 + i));
    await inbox.putMany(old);
    expect(await inbox.unreadCount(ALICE, minUlidAt(0))).toBe(30);
    now = T0 + 2_000;
    const late = Array.from({ length: 10 }, (_, i) => inboxRow(ALICE, `late${i}`, T0 + 100 + i));
    const fresh = Array.from({ length: 10 }, (_, i) => inboxRow(ALICE, `fresh${i}`, T0 + 1_995 + i));
    // Act
    await Promise.all([
      ...old.slice(0, 12).map((r) => inbox.markRead(ALICE, [{ id: r.id }])),
      inbox.putMany(late.slice(0, 5)),
      inbox.putMany(late.slice(5)),
      inbox.putMany(fresh),
      ...Array.from({ length: 6 }, () => inbox.unreadCount(ALICE, minUlidAt(0))),
    ]);
    now = T0 + 5_000;
    // Assess: 18 old + 10 late + 10 fresh unread
    expect(await inbox.unreadCount(ALICE, minUlidAt(0))).toBe(38);
    expect(await inbox.unreadCount(ALICE, maxUlidAt(T0 + 50))).toBe(20);
  });
});

describe('DynamoInbox item layout', () => {
  const ALICE: UserKey = { tenantId: 'acme', userId: 'alice' };

  it('gives unread rows the sparse index key in GSI mode, and never in counter mode', async () => {
    // Prepare
    const rows: InboxRow[] = [inboxRow(ALICE, 'e1', T0), inboxRow(ALICE, 'e2', T0 + 1, { read: true })];
    const gsi = await makeInbox();
    const counter = await makeInbox({ unread: 'counter' });
    // Act
    await gsi.putMany(rows);
    await counter.putMany(rows);
    // Assess
    const raw = async (inbox: DynamoInbox) =>
      (
        await clients.documents.send(
          new QueryCommand({
            TableName: tables.get(inbox),
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': 'acme#alice' },
          }),
        )
      ).Items ?? [];
    const gsiItems = await raw(gsi);
    const counterItems = await raw(counter);
    expect(gsiItems.map((i) => i.upk)).toEqual(['acme#alice', undefined]);
    expect(counterItems.map((i) => i.upk)).toEqual([undefined, undefined]);
    expect(gsiItems[0]!.expiresAt).toBe(Math.ceil((T0 + TEST_TTL_MS) / 1000));
  });
});

describe('DynamoInbox write cost', () => {
  it('costs two write units per unread row in GSI mode and one in counter mode', async () => {
    // Prepare: one fresh row for each of ten users, as fan-out writes them
    const rows = Array.from({ length: 10 }, (_, i) =>
      inboxRow({ tenantId: 'acme', userId: `u${i}` }, 'e1', T0),
    );
    const written = { gsi: 0, counter: 0 };
    const make = (mode: 'gsi' | 'counter') =>
      makeInbox({
        unread: mode,
        clock: { now: () => T0 },
        capacity: { add: (_table, wcu) => (written[mode] += wcu) },
      });
    const gsi = await make('gsi');
    const counter = await make('counter');
    // Act
    await gsi.putMany(rows);
    await counter.putMany(rows);
    // Assess
    expect(written).toEqual({ gsi: 20, counter: 10 });
  });
});

describe('DynamoInbox partial failures', () => {
  // One instance mocked, not the class: the contracts above run on real clients in this file.
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const documents = mockClient(client);
  const noWait = { sleep: async () => {}, random: () => 0 };
  const ALICE: UserKey = { tenantId: 'acme', userId: 'alice' };
  afterEach(() => documents.reset());
  afterAll(() => documents.restore());

  function inbox(maxAttempts = 4, extra: Partial<DynamoInboxOptions> = {}): DynamoInbox {
    return new DynamoInbox({
      documents: client,
      tableName: 'inbox',
      retry: { ...noWait, maxAttempts },
      ...extra,
    });
  }

  function throttled(): ProvisionedThroughputExceededException {
    return new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });
  }

  it('re-sends only the rows a BatchWriteItem left unprocessed', async () => {
    // Prepare
    const rows = [inboxRow(ALICE, 'e1', T0), inboxRow(ALICE, 'e2', T0 + 1), inboxRow(ALICE, 'e3', T0 + 2)];
    documents.on(BatchGetCommand).resolves({ Responses: { inbox: [] } });
    documents
      .on(BatchWriteCommand)
      .callsFakeOnce((input) => ({
        UnprocessedItems: { inbox: [input.RequestItems.inbox[1]] },
      }))
      .resolves({});
    // Act
    await inbox().putMany(rows);
    // Assess
    const calls = documents.commandCalls(BatchWriteCommand);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.args[0].input.RequestItems!.inbox).toHaveLength(3);
    expect(calls[1]!.args[0].input.RequestItems!.inbox!.map((r) => r.PutRequest!.Item!.sk)).toEqual([
      rows[1]!.id,
    ]);
    expect(calls[0]!.args[0].input.ReturnConsumedCapacity).toBe('TOTAL');
  });

  it('writes only the rows that do not exist yet, in batches of 25 after gets of 100', async () => {
    // Prepare
    const rows = Array.from({ length: 130 }, (_, i) => inboxRow(ALICE, `e${i}`, T0 + i));
    documents.on(BatchGetCommand).callsFake((input) => ({
      Responses: { inbox: input.RequestItems.inbox.Keys.slice(0, 10) },
    }));
    documents.on(BatchWriteCommand).resolves({});
    // Act
    await inbox().putMany(rows);
    // Assess
    const gets = documents.commandCalls(BatchGetCommand);
    expect(gets.map((c) => c.args[0].input.RequestItems!.inbox!.Keys!.length)).toEqual([100, 30]);
    expect(gets[0]!.args[0].input.RequestItems!.inbox!.ConsistentRead).toBe(true);
    const written = documents
      .commandCalls(BatchWriteCommand)
      .flatMap((c) => c.args[0].input.RequestItems!.inbox!.map((r) => r.PutRequest!.Item!.sk));
    expect(written).toHaveLength(110);
    expect(
      Math.max(
        ...documents.commandCalls(BatchWriteCommand).map((c) => c.args[0].input.RequestItems!.inbox!.length),
      ),
    ).toBe(25);
  });

  it('retries a throttled BatchGetItem', async () => {
    // Prepare
    documents
      .on(BatchGetCommand)
      .rejectsOnce(throttled())
      .resolves({ Responses: { inbox: [] } });
    documents.on(BatchWriteCommand).resolves({});
    // Act
    await inbox().putMany([inboxRow(ALICE, 'e1', T0)]);
    // Assess
    expect(documents.commandCalls(BatchGetCommand)).toHaveLength(2);
    expect(documents.commandCalls(BatchWriteCommand)).toHaveLength(1);
  });

  it('gives up with StoreUnavailableError when rows stay unprocessed', async () => {
    // Prepare
    documents.on(BatchGetCommand).resolves({ Responses: { inbox: [] } });
    documents.on(BatchWriteCommand).callsFake((input) => ({ UnprocessedItems: input.RequestItems }));
    // Act
    const writing = inbox(3).putMany([inboxRow(ALICE, 'e1', T0)]);
    // Assess
    await expect(writing).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(documents.commandCalls(BatchWriteCommand)).toHaveLength(3);
  });

  it('gives up with StoreUnavailableError when BatchGetItem stays throttled', async () => {
    // Prepare
    documents.on(BatchGetCommand).rejects(throttled());
    // Act
    const writing = inbox(3).putMany([inboxRow(ALICE, 'e1', T0)]);
    // Assess
    await expect(writing).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(documents.commandCalls(BatchGetCommand)).toHaveLength(3);
    expect(documents.commandCalls(BatchWriteCommand)).toHaveLength(0);
  });

  it('reports the capacity every call consumed', async () => {
    // Prepare
    const used: [string, number, number][] = [];
    documents.on(BatchGetCommand).resolves({
      Responses: { inbox: [] },
      ConsumedCapacity: [{ TableName: 'inbox', CapacityUnits: 1 }],
    });
    documents
      .on(BatchWriteCommand)
      .resolves({ ConsumedCapacity: [{ TableName: 'inbox', CapacityUnits: 2 }] });
    documents.on(UpdateCommand).resolves({ ConsumedCapacity: { TableName: 'inbox', CapacityUnits: 2 } });
    const subject = inbox(4, { capacity: { add: (table, wcu, rcu) => used.push([table, wcu, rcu]) } });
    // Act
    await subject.putMany([inboxRow(ALICE, 'e1', T0)]);
    await subject.markRead(ALICE, [{ id: inboxRow(ALICE, 'e1', T0).id }]);
    // Assess
    expect(used).toEqual([
      ['inbox', 0, 1],
      ['inbox', 2, 0],
      ['inbox', 2, 0],
    ]);
    expect(documents.commandCalls(UpdateCommand)[0]!.args[0].input.UpdateExpression).toBe(
      'SET #r = :t REMOVE #upk',
    );
  });
});

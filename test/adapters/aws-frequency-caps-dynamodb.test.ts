import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoFrequencyCaps } from '../../src/adapters/aws/frequency-caps-dynamodb.ts';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { CapAnswer } from '../../src/ports/frequency-caps.ts';
import { manualClock } from '../contracts/dedup-store.contract.ts';
import { frequencyCapsContract } from '../contracts/frequency-caps.contract.ts';
import { emulatorClients, freshTables } from '../support/aws.ts';

async function freshTable(): Promise<{ clients: ReturnType<typeof emulatorClients>; tableName: string }> {
  const clients = emulatorClients();
  const tables = await freshTables(clients, ['frequencyCaps']);
  return { clients, tableName: tables.frequencyCaps };
}

frequencyCapsContract('aws (DynamoDB)', async () => {
  const { clients, tableName } = await freshTable();
  const clock = manualClock(Date.now());
  const fast = { baseDelayMs: 1, maxDelayMs: 20 };
  return {
    store: new DynamoFrequencyCaps({ documents: clients.documents, tableName, clock, retry: fast }),
    twin: new DynamoFrequencyCaps({ documents: clients.documents, tableName, clock, retry: fast }),
    clock,
    // A table that is not there answers ResourceNotFoundException, as a deleted one would.
    breakStore: async () => {
      (clients.documents as unknown as { send: () => Promise<never> }).send = async () => {
        throw Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' });
      };
    },
    close: async () => {},
  };
});

describe('DynamoFrequencyCaps', () => {
  it('keeps one item per user with digests of the slots, a version and a TTL a window after the newest place', async () => {
    // Prepare
    const { clients, tableName } = await freshTable();
    const clock = manualClock(Date.now());
    const caps = new DynamoFrequencyCaps({ documents: clients.documents, tableName, clock });
    const buckets = [
      { name: 'push', limit: 5, windowMs: 3_600_000 },
      { name: 'push:social', limit: 2, windowMs: 600_000 },
    ];
    // Act
    const answers = await caps.take([
      { tenantId: 'acme', userId: 'ana', slotId: 'acme#n1#push', buckets },
      { tenantId: 'acme', userId: 'ana', slotId: 'acme#n2#push', buckets },
      { tenantId: 'acme', userId: 'ana', slotId: 'acme#n3#push', buckets },
    ]);
    // Assess
    expect(answers).toEqual([CapAnswer.Granted, CapAnswer.Granted, CapAnswer.Capped]);
    const { Item } = await clients.documents.send(
      new GetCommand({ TableName: tableName, Key: { pk: 'acme#ana' } }),
    );
    expect(Item?.ver).toBe(1);
    expect(Object.keys(Item?.w.push)).toHaveLength(2);
    expect(Object.keys(Item?.w.push).every((k) => /^[0-9a-f]{16}$/.test(k))).toBe(true);
    expect(Item?.expiresAt).toBe(Math.ceil((clock.now() + 3_600_000) / 1000));
  });

  it('costs one read and one write per user of a batch, and no write when nothing was granted', async () => {
    // Prepare
    const { clients, tableName } = await freshTable();
    const clock = manualClock(Date.now());
    const calls: string[] = [];
    const send = clients.documents.send.bind(clients.documents);
    const counting = Object.create(clients.documents) as typeof clients.documents;
    (counting as unknown as { send: typeof send }).send = (async (command: {
      constructor: { name: string };
    }) => {
      calls.push(command.constructor.name);
      return send(command as never);
    }) as typeof send;
    const caps = new DynamoFrequencyCaps({ documents: counting, tableName, clock });
    const buckets = [{ name: 'push', limit: 3, windowMs: 60_000 }];
    const batch = (prefix: string) =>
      ['ana', 'bo'].flatMap((userId) =>
        Array.from({ length: 5 }, (_, i) => ({ tenantId: 'acme', userId, slotId: `${prefix}${i}`, buckets })),
      );
    // Act
    await caps.take(batch('a'));
    const first = calls.splice(0);
    await caps.take(batch('b'));
    // Assess: 10 pushes of 2 users: 2 reads, 2 writes; then all capped: 2 reads, no write.
    expect(first.sort()).toEqual(['GetCommand', 'GetCommand', 'PutCommand', 'PutCommand']);
    expect(calls).toEqual(['GetCommand', 'GetCommand']);
  });

  it('gives up with StoreUnavailableError when every write loses its race', async () => {
    // Prepare: a writer that bumps the version between every read and write.
    const { clients, tableName } = await freshTable();
    const clock = manualClock(Date.now());
    const other = new DynamoFrequencyCaps({ documents: clients.documents, tableName, clock });
    let n = 0;
    const send = clients.documents.send.bind(clients.documents);
    const racing = Object.create(clients.documents) as typeof clients.documents;
    (racing as unknown as { send: typeof send }).send = (async (command: unknown) => {
      const out = await send(command as never);
      if (command instanceof GetCommand) {
        await other.take([
          {
            tenantId: 'acme',
            userId: 'ana',
            slotId: `other-${n++}`,
            buckets: [{ name: 'push', limit: 100, windowMs: 60_000 }],
          },
        ]);
      }
      return out;
    }) as typeof send;
    const caps = new DynamoFrequencyCaps({
      documents: racing,
      tableName,
      clock,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    });
    // Act
    const take = caps.take([
      {
        tenantId: 'acme',
        userId: 'ana',
        slotId: 's1',
        buckets: [{ name: 'push', limit: 100, windowMs: 60_000 }],
      },
    ]);
    // Assess
    await expect(take).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(n).toBe(3);
  });
});

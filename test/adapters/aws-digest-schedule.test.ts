import { describe, expect, it } from 'vitest';
import { DynamoDigestSchedule } from '../../src/adapters/aws/digest-schedule.ts';
import { digestScheduleContract } from '../contracts/digest-schedule.contract.ts';
import { emulatorClients, freshTables } from '../support/aws.ts';

const fast = { baseDelayMs: 1, maxDelayMs: 20, maxAttempts: 3 };

async function freshSchedule(shards?: number) {
  const clients = emulatorClients();
  const tables = await freshTables(clients, ['digestSchedule']);
  const schedule = new DynamoDigestSchedule({
    documents: clients.documents,
    tableName: tables.digestSchedule,
    retry: fast,
    ...(shards === undefined ? {} : { shards }),
  });
  return { clients, schedule };
}

digestScheduleContract('aws (DynamoDB)', async () => {
  const { clients, schedule } = await freshSchedule(4);
  return {
    schedule,
    // A table that is not there answers ResourceNotFoundException, as a deleted one would.
    breakStore: async () => {
      (clients.documents as unknown as { send: () => Promise<never> }).send = async () => {
        throw Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' });
      };
    },
    close: async () => {},
  };
});

describe('DynamoDigestSchedule', () => {
  it('reads due entries with one Query per shard and never a Scan', async () => {
    // Prepare
    const { clients, schedule } = await freshSchedule(3);
    const calls: string[] = [];
    const send = clients.documents.send.bind(clients.documents);
    (clients.documents as unknown as { send: typeof send }).send = (async (command: {
      constructor: { name: string };
    }) => {
      calls.push(command.constructor.name);
      return send(command as never);
    }) as typeof send;
    // Act
    await schedule.due(Date.now(), 10);
    // Assess
    expect(calls).toEqual(['QueryCommand', 'QueryCommand', 'QueryCommand']);
  });

  it('refuses a shard count out of range', () => {
    const { documents } = emulatorClients();
    expect(() => new DynamoDigestSchedule({ documents, tableName: 'x', shards: 0 })).toThrow(RangeError);
  });
});

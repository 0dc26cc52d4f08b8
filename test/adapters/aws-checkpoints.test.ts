import {
  ConditionalCheckFailedException,
  DeleteTableCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoCheckpoints } from '../../src/adapters/aws/checkpoints.ts';
import { orderKey } from '../../src/adapters/aws/sequence-numbers.ts';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { compareSequence } from '../../src/ports/event-log.ts';
import { checkpointsContract } from '../contracts/checkpoints.contract.ts';
import { emulatorClients, freshTables } from '../support/aws.ts';

const clients = emulatorClients();
afterAll(() => clients.destroy());

checkpointsContract('aws (dynamodb)', async () => {
  const tables = await freshTables(clients, ['checkpoints']);
  return {
    checkpoints: new DynamoCheckpoints({ documents: clients.documents, tableName: tables.checkpoints }),
    async close() {
      await clients.dynamodb.send(new DeleteTableCommand({ TableName: tables.checkpoints }));
    },
  };
});

const throttled = () =>
  Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
    name: 'ProvisionedThroughputExceededException',
    $metadata: { httpStatusCode: 400 },
  });

function mockedCheckpoints(maxAttempts = 3) {
  const documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    }),
  );
  const d = mockClient(documents);
  const checkpoints = new DynamoCheckpoints({
    documents,
    tableName: 'checkpoints',
    retry: { maxAttempts, random: () => 0, sleep: async () => {} },
  });
  return { checkpoints, d };
}

describe('DynamoCheckpoints', () => {
  it('orders its stored keys exactly as compareSequence orders sequence numbers', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{1,60}$/), fc.stringMatching(/^\d{1,60}$/), (a, b) => {
        // Act
        const keys = Math.sign(orderKey(a) < orderKey(b) ? -1 : orderKey(a) > orderKey(b) ? 1 : 0);
        // Assess
        expect(keys).toBe(Math.sign(compareSequence(a, b)));
      }),
    );
  });

  it('moves forward with one conditional update on the order key', async () => {
    // Prepare
    const { checkpoints, d } = mockedCheckpoints();
    d.on(UpdateCommand).resolves({});
    // Act
    await checkpoints.set('fanout', 'shardId-000000000001', '100');
    // Assess
    const [call] = d.commandCalls(UpdateCommand);
    expect(call!.args[0].input).toMatchObject({
      Key: { pk: 'fanout', sk: 'shardId-000000000001' },
      ConditionExpression: 'attribute_not_exists(seqOrder) OR seqOrder < :order',
      ExpressionAttributeValues: { ':seq': '100', ':order': orderKey('100') },
    });
  });

  it('treats a failed condition as "already further" and resolves', async () => {
    // Prepare
    const { checkpoints, d } = mockedCheckpoints();
    d.on(UpdateCommand).rejects(
      new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
    );
    // Act
    const setting = checkpoints.set('fanout', 'shard-a', '5');
    // Assess
    await expect(setting).resolves.toBeUndefined();
    expect(d.commandCalls(UpdateCommand)).toHaveLength(1);
  });

  it('retries a throttled write, and gives up with StoreUnavailableError', async () => {
    // Prepare
    const once = mockedCheckpoints();
    once.d.on(UpdateCommand).rejectsOnce(throttled()).resolves({});
    const always = mockedCheckpoints(3);
    always.d.on(UpdateCommand).rejects(throttled());
    // Act
    await once.checkpoints.set('fanout', 'shard-a', '5');
    const failing = always.checkpoints.set('fanout', 'shard-a', '5');
    // Assess
    expect(once.d.commandCalls(UpdateCommand)).toHaveLength(2);
    await expect(failing).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(always.d.commandCalls(UpdateCommand)).toHaveLength(3);
  });
});

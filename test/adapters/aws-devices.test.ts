import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DynamoDevices } from '../../src/adapters/aws/devices.ts';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { devicesContract } from '../contracts/devices.contract.ts';
import { emulatorClients, freshTables } from '../support/aws.ts';

const clients = emulatorClients();
afterAll(() => clients.destroy());

async function freshDevices(): Promise<DynamoDevices> {
  const names = await freshTables(clients, ['devices']);
  return new DynamoDevices({ documents: clients.documents, tableName: names.devices });
}

devicesContract('aws (DynamoDB)', async () => ({ devices: await freshDevices(), async close() {} }));

describe('DynamoDevices', () => {
  const alice = { tenantId: 't', userId: 'alice' };
  const reg = (userId: string, registeredAt: number) =>
    ({ tenantId: 't', userId, token: 'tok', platform: 'apns', registeredAt }) as const;

  it('keeps the newest registration time when an older registration arrives late', async () => {
    // Prepare
    const devices = await freshDevices();
    await devices.register(reg('alice', 5_000));
    // Act
    await devices.register(reg('alice', 1_000));
    // Assess: an APNs 410 dated between the two must not remove the newer registration
    expect(await devices.deactivate('t', 'tok', 'Unregistered', { ifRegisteredBefore: 3_000 })).toBe(false);
    expect((await devices.listActive(alice))[0]!.registeredAt).toBe(5_000);
  });

  it("keeps a token's SNS endpoint through a move to another user, and none for an unknown token", async () => {
    // Prepare
    const devices = await freshDevices();
    await devices.register(reg('alice', 1_000));
    // Act
    const stored = await devices.setEndpointArn('t', 'tok', 'arn:aws:sns:us-east-1:1:endpoint/APNS/app/1');
    await devices.register(reg('bob', 2_000));
    const unknown = await devices.setEndpointArn('t', 'other', 'arn:aws:sns:us-east-1:1:endpoint/APNS/app/2');
    // Assess
    expect(stored).toBe(true);
    expect(await devices.endpointArn('t', 'tok')).toBe('arn:aws:sns:us-east-1:1:endpoint/APNS/app/1');
    expect(unknown).toBe(false);
    expect(await devices.endpointArn('t', 'other')).toBeUndefined();
  });

  it('forgets the SNS endpoint of a token it deactivates', async () => {
    // Prepare
    const devices = await freshDevices();
    await devices.register(reg('alice', 1_000));
    await devices.setEndpointArn('t', 'tok', 'arn:aws:sns:us-east-1:1:endpoint/APNS/app/1');
    // Act
    const deactivated = await devices.deactivate('t', 'tok', 'EndpointDisabled');
    // Assess
    expect(deactivated).toBe(true);
    expect(await devices.endpointArn('t', 'tok')).toBeUndefined();
    expect(await devices.listActive(alice)).toEqual([]);
  });

  it('applies every registration of one token in a batch in order, the last user winning', async () => {
    // Prepare
    const devices = await freshDevices();
    // Act
    await devices.registerMany([reg('alice', 1_000), reg('bob', 2_000), reg('carol', 3_000)]);
    // Assess
    const lists = await devices.listActiveMany([
      alice,
      { tenantId: 't', userId: 'bob' },
      { tenantId: 't', userId: 'carol' },
    ]);
    expect(lists.map((l) => l.map((d) => d.userId))).toEqual([[], [], ['carol']]);
  });
});

describe('DynamoDevices on a failing DynamoDB', () => {
  // One instance mocked, not the class: the tests above run on real clients in this file.
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const documents = mockClient(client);
  afterEach(() => documents.reset());
  afterAll(() => documents.restore());

  const devices = (maxAttempts = 4) =>
    new DynamoDevices({
      documents: client,
      tableName: 'devices',
      retry: { maxAttempts, sleep: async () => {}, random: () => 0 },
    });
  const registration = {
    tenantId: 't',
    userId: 'bob',
    token: 'tok',
    platform: 'fcm',
    registeredAt: 2_000,
  } as const;

  function canceled(...codes: string[]): TransactionCanceledException {
    return new TransactionCanceledException({
      message: 'Transaction cancelled',
      $metadata: {},
      CancellationReasons: codes.map((Code) => ({ Code })),
    });
  }

  it('re-reads the owner and re-plans a registration that lost a race or was throttled', async () => {
    // Prepare
    documents
      .on(GetCommand)
      .resolvesOnce({})
      .resolves({ Item: { userId: 'alice', registeredAt: 1_000 } });
    documents
      .on(TransactWriteCommand)
      .rejectsOnce(canceled('ConditionalCheckFailed', 'None'))
      .rejectsOnce(canceled('None', 'ThrottlingError', 'None'))
      .resolves({});
    // Act
    await devices().register(registration);
    // Assess
    const txs = documents.commandCalls(TransactWriteCommand);
    expect(txs).toHaveLength(3);
    expect(documents.commandCalls(GetCommand)).toHaveLength(3);
    const items = txs[2]!.args[0].input.TransactItems!;
    expect(items[0]!.Update?.ExpressionAttributeValues).toMatchObject({
      ':seenUser': 'alice',
      ':user': 'bob',
    });
    expect(items[2]!.Delete?.Key).toEqual({ pk: 't#alice', sk: 'd#tok' });
  });

  it('gives up with StoreUnavailableError when registrations stay throttled', async () => {
    // Prepare
    documents.on(GetCommand).resolves({});
    documents.on(TransactWriteCommand).rejects(canceled('ThrottlingError', 'None'));
    // Act
    const registering = devices(3).register(registration);
    // Assess
    await expect(registering).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(documents.commandCalls(TransactWriteCommand)).toHaveLength(3);
  });

  it('turns a failing read into StoreUnavailableError, and never names the token', async () => {
    // Prepare
    documents.on(QueryCommand).rejects(Object.assign(new Error('down'), { name: 'InternalServerError' }));
    documents.on(GetCommand).rejects(Object.assign(new Error('down'), { name: 'InternalServerError' }));
    // Act
    const listing = devices().listActiveMany([{ tenantId: 't', userId: 'bob' }]);
    const deactivating = devices()
      .deactivate('t', 'secret-token', 'BadDeviceToken')
      .catch((err: Error) => err);
    // Assess
    await expect(listing).rejects.toBeInstanceOf(StoreUnavailableError);
    const err = await deactivating;
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(String((err as Error).message)).not.toContain('secret-token');
  });
});

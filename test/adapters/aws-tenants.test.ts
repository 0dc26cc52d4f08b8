import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DynamoTenants } from '../../src/adapters/aws/tenants.ts';
import { ConflictError, StoreUnavailableError } from '../../src/domain/errors.ts';
import { tenantsContract } from '../contracts/tenants.contract.ts';
import { emulatorClients, freshTables } from '../support/aws.ts';

const clients = emulatorClients();
afterAll(() => clients.destroy());

tenantsContract('aws (DynamoDB)', async () => {
  const names = await freshTables(clients, ['tenants']);
  return {
    tenants: new DynamoTenants({ documents: clients.documents, tableName: names.tenants }),
    async close() {},
  };
});

describe('DynamoTenants on a failing DynamoDB', () => {
  // One instance mocked, not the class: the contract above runs on real clients in this file.
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const documents = mockClient(client);
  afterEach(() => documents.reset());
  afterAll(() => documents.restore());

  const tenants = (maxAttempts = 4) =>
    new DynamoTenants({
      documents: client,
      tableName: 'tenants',
      retry: { maxAttempts, sleep: async () => {}, random: () => 0 },
    });

  function canceled(...codes: string[]): TransactionCanceledException {
    return new TransactionCanceledException({
      message: 'Transaction cancelled',
      $metadata: {},
      CancellationReasons: codes.map((Code) => ({ Code })),
    });
  }

  it('sends a throttled creation again and creates the tenant once', async () => {
    // Prepare
    documents
      .on(TransactWriteCommand)
      .rejectsOnce(canceled('ThrottlingError', 'None'))
      .rejectsOnce(canceled('None', 'TransactionConflict'))
      .resolves({});
    // Act
    const created = await tenants().create('acme', 'hash', 1_000);
    // Assess
    expect(created).toEqual({ tenantId: 'acme', createdAt: 1_000 });
    const calls = documents.commandCalls(TransactWriteCommand);
    expect(calls).toHaveLength(3);
    expect(calls[2]!.args[0].input.TransactItems?.map((i) => i.Put?.Item?.pk)).toEqual([
      'tenant#acme',
      'key#hash',
    ]);
  });

  it('turns a failed condition into ConflictError without sending again', async () => {
    // Prepare
    documents.on(TransactWriteCommand).rejects(canceled('ConditionalCheckFailed', 'None'));
    // Act
    const creating = tenants().create('acme', 'hash', 1_000);
    // Assess
    await expect(creating).rejects.toBeInstanceOf(ConflictError);
    expect(documents.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('gives up with StoreUnavailableError when throttling lasts', async () => {
    // Prepare
    documents.on(TransactWriteCommand).rejects(canceled('ThrottlingError', 'None'));
    documents.on(GetCommand).rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    // Act
    const creating = tenants(3).create('acme', 'hash', 1_000);
    const finding = tenants().findByApiKeyHash('hash');
    // Assess
    await expect(creating).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(finding).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(documents.commandCalls(TransactWriteCommand)).toHaveLength(3);
  });
});

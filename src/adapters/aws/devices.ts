import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { userPartition } from '../../domain/keys.ts';
import type { Device, UserKey } from '../../domain/types.ts';
import type { DeviceRegistration, Devices } from '../../ports/devices.ts';
import type { FreshnessOptions } from '../../ports/read-freshness.ts';
import { checkDeactivate, validateRegistration } from '../checks/devices.ts';
import { requireArray, requireText, requireUser } from '../checks/input.ts';
import { forEachLimit } from './concurrency.ts';
import { compare, ownerPk } from './device-keys.ts';
import { awsCall, awsErrorName, translateAwsError } from './errors.ts';
import { type RetryPolicy, sendWithRetry } from './retry.ts';
import { cancellationCodes, isReplannable } from './transaction-errors.ts';

export interface DynamoDevicesOptions {
  readonly documents: DynamoDBDocumentClient;
  /** Physical name of the `devices` table. */
  readonly tableName: string;
  readonly retry?: RetryPolicy;
  /** Tokens registered, or users read, at the same time. @default 16 */
  readonly concurrency?: number;
}

const DEVICE = 'd#';
const OWNER_SK = 'owner';
type TxItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

interface Owner {
  readonly userId: string;
  readonly registeredAt: number;
}

/**
 * Push tokens on DynamoDB (table `devices`), two items per token:
 * - the device, in its user's partition (pk `tenant#user`, sk `d#<token>`: platform,
 *   registeredAt, active, deactivatedReason), so the push consumer's read is one Query per user;
 * - the token's owner (pk `tenant#tok#<sha256(token)>`, sk `owner`: userId, registeredAt, the
 *   SNS endpointArn), so "one user per token" and lookups by token need no index.
 *
 * A registration reads the owner (1 RCU) and writes one transaction conditioned on what it read
 * (owner update, device put, and the previous owner's device delete when the token moves:
 * 4–6 WCU); a race cancels it and it is re-planned from a fresh read. A deactivation reads the
 * owner and updates the device conditionally, forgetting the SNS endpoint (1 RCU + 4 WCU). Tokens are personal data: they are
 * in items, never in logs or error messages.
 */
export class DynamoDevices implements Devices {
  readonly #documents: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #retry: RetryPolicy;
  readonly #concurrency: number;

  constructor(opts: DynamoDevicesOptions) {
    this.#documents = opts.documents;
    this.#table = opts.tableName;
    this.#retry = opts.retry ?? {};
    this.#concurrency = opts.concurrency ?? 16;
  }

  register(reg: DeviceRegistration): Promise<void> {
    return this.registerMany([reg]);
  }

  /**
   * Registrations of one token apply in the order given, tokens in parallel. Not one transaction
   * across tokens: a failure may leave some applied, and the caller's retry (registration is
   * idempotent) completes the rest.
   */
  async registerMany(regs: readonly DeviceRegistration[]): Promise<void> {
    requireArray(regs, 'regs');
    regs.forEach(validateRegistration);
    const byToken = new Map<string, DeviceRegistration[]>();
    for (const reg of regs) {
      const pk = ownerPk(reg.tenantId, reg.token);
      byToken.set(pk, [...(byToken.get(pk) ?? []), reg]);
    }
    await forEachLimit([...byToken.values()], this.#concurrency, async (sameToken) => {
      for (const reg of sameToken) await this.#registerOne(reg);
    });
  }

  /** Removes the token only while it belongs to this user: it may have moved to someone else. */
  async unregister(user: UserKey, token: string): Promise<void> {
    requireUser(user);
    requireText(token, 'token');
    await sendWithRetry(
      'devices unregister',
      [user],
      async (pending) => {
        try {
          await this.#documents.send(
            new TransactWriteCommand({
              TransactItems: [
                {
                  Delete: {
                    TableName: this.#table,
                    Key: { pk: userPartition(user), sk: DEVICE + token },
                    ConditionExpression: 'attribute_exists(pk)',
                  },
                },
                {
                  Delete: {
                    TableName: this.#table,
                    Key: { pk: ownerPk(user.tenantId, token), sk: OWNER_SK },
                    ConditionExpression: 'userId = :user',
                    ExpressionAttributeValues: { ':user': user.userId },
                  },
                },
              ],
            }),
          );
          return [];
        } catch (err) {
          // Not this user's token (or no such token): nothing to remove.
          if (cancellationCodes(err).includes('ConditionalCheckFailed')) return [];
          if (isReplannable(err)) return pending;
          throw translateAwsError(err, 'devices unregister TransactWriteItems');
        }
      },
      this.#retry,
    );
  }

  async listActive(user: UserKey, opts?: FreshnessOptions): Promise<Device[]> {
    requireUser(user);
    return this.#listActive(user, opts?.freshness !== 'recent');
  }

  /** One Query per distinct user, in parallel; a user named twice shares one read. */
  async listActiveMany(users: readonly UserKey[], opts?: FreshnessOptions): Promise<Device[][]> {
    requireArray(users, 'users');
    users.forEach((user, i) => {
      requireUser(user, `users[${i}]`);
    });
    const lists = new Map<string, Device[]>();
    for (const user of users) lists.set(userPartition(user), []);
    const distinct = [...new Map(users.map((u) => [userPartition(u), u])).values()];
    await forEachLimit(distinct, this.#concurrency, async (user) => {
      lists.set(userPartition(user), await this.#listActive(user, opts?.freshness !== 'recent'));
    });
    return users.map((user) => [...lists.get(userPartition(user))!]);
  }

  /** True when this call deactivated the token; false when unknown, inactive, or registered since. */
  async deactivate(
    tenantId: string,
    token: string,
    reason: string,
    opts: { readonly ifRegisteredBefore?: number } = {},
  ): Promise<boolean> {
    const before = checkDeactivate(tenantId, token, reason, opts);
    const owner = await this.#owner(tenantId, token);
    if (owner === undefined) return false;
    let changed = false;
    await sendWithRetry(
      'devices deactivate',
      [owner],
      async (pending) => {
        try {
          await this.#documents.send(
            new TransactWriteCommand({
              TransactItems: [
                {
                  Update: {
                    TableName: this.#table,
                    Key: { pk: userPartition({ tenantId, userId: owner.userId }), sk: DEVICE + token },
                    UpdateExpression: 'SET active = :false, deactivatedReason = :reason',
                    ConditionExpression: `active = :true${before === undefined ? '' : ' AND registeredAt < :before'}`,
                    ExpressionAttributeValues: {
                      ':false': false,
                      ':true': true,
                      ':reason': reason,
                      ...(before === undefined ? {} : { ':before': before }),
                    },
                  },
                },
                {
                  // SNS disabled the endpoint of a rejected token: a re-registration must set it
                  // up again, not publish to the cached one.
                  Update: {
                    TableName: this.#table,
                    Key: { pk: ownerPk(tenantId, token), sk: OWNER_SK },
                    UpdateExpression: 'REMOVE endpointArn',
                    ConditionExpression: 'userId = :user',
                    ExpressionAttributeValues: { ':user': owner.userId },
                  },
                },
              ],
            }),
          );
          changed = true;
          return [];
        } catch (err) {
          // Inactive already, registered since, or moved to another user since the owner was read.
          if (cancellationCodes(err).includes('ConditionalCheckFailed')) return [];
          if (isReplannable(err)) return pending;
          throw translateAwsError(err, 'devices deactivate TransactWriteItems');
        }
      },
      this.#retry,
    );
    return changed;
  }

  /** The SNS platform endpoint cached for this token, if any (a property of the token, not the user). */
  async endpointArn(tenantId: string, token: string): Promise<string | undefined> {
    requireText(tenantId, 'tenantId');
    requireText(token, 'token');
    const out = await awsCall('devices endpoint read', () =>
      this.#documents.send(
        new GetCommand({
          TableName: this.#table,
          Key: { pk: ownerPk(tenantId, token), sk: OWNER_SK },
          ProjectionExpression: 'endpointArn',
        }),
      ),
    );
    const arn = out.Item?.endpointArn;
    return typeof arn === 'string' ? arn : undefined;
  }

  /**
   * Caches the SNS endpoint of a registered token on its owner item, which survives the token
   * moving between users and re-registration; a deactivation forgets it. False when the token is
   * not registered.
   */
  async setEndpointArn(tenantId: string, token: string, arn: string): Promise<boolean> {
    requireText(tenantId, 'tenantId');
    requireText(token, 'token');
    requireText(arn, 'arn');
    try {
      await this.#documents.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: ownerPk(tenantId, token), sk: OWNER_SK },
          UpdateExpression: 'SET endpointArn = :arn',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':arn': arn },
        }),
      );
      return true;
    } catch (err) {
      if (awsErrorName(err) === 'ConditionalCheckFailedException') return false;
      throw translateAwsError(err, 'devices endpoint write');
    }
  }

  async #registerOne(reg: DeviceRegistration): Promise<void> {
    await sendWithRetry(
      'devices register',
      [reg],
      async (pending) => {
        const owner = await this.#owner(reg.tenantId, reg.token);
        // A late-arriving older registration must not make the token look older than it is, or
        // an APNs 410 that predates the newest registration would wrongly deactivate it.
        const registeredAt = Math.max(owner?.registeredAt ?? Number.NEGATIVE_INFINITY, reg.registeredAt);
        const items: TxItem[] = [
          {
            Update: {
              TableName: this.#table,
              Key: { pk: ownerPk(reg.tenantId, reg.token), sk: OWNER_SK },
              UpdateExpression: 'SET userId = :user, registeredAt = :at',
              ConditionExpression:
                owner === undefined
                  ? 'attribute_not_exists(pk)'
                  : 'userId = :seenUser AND registeredAt = :seenAt',
              ExpressionAttributeValues: {
                ':user': reg.userId,
                ':at': registeredAt,
                ...(owner === undefined ? {} : { ':seenUser': owner.userId, ':seenAt': owner.registeredAt }),
              },
            },
          },
          {
            Put: {
              TableName: this.#table,
              Item: {
                pk: userPartition(reg),
                sk: DEVICE + reg.token,
                token: reg.token,
                platform: reg.platform,
                registeredAt,
                active: true,
              },
            },
          },
        ];
        if (owner !== undefined && owner.userId !== reg.userId) {
          const previous = { tenantId: reg.tenantId, userId: owner.userId };
          items.push({
            Delete: { TableName: this.#table, Key: { pk: userPartition(previous), sk: DEVICE + reg.token } },
          });
        }
        try {
          await this.#documents.send(new TransactWriteCommand({ TransactItems: items }));
          return [];
        } catch (err) {
          if (isReplannable(err)) return pending;
          throw translateAwsError(err, 'devices register TransactWriteItems');
        }
      },
      this.#retry,
    );
  }

  async #owner(tenantId: string, token: string): Promise<Owner | undefined> {
    const out = await awsCall('devices owner read', () =>
      this.#documents.send(
        new GetCommand({
          TableName: this.#table,
          Key: { pk: ownerPk(tenantId, token), sk: OWNER_SK },
          ConsistentRead: true,
          ProjectionExpression: 'userId, registeredAt',
        }),
      ),
    );
    const item = out.Item;
    return item === undefined ? undefined : { userId: item.userId, registeredAt: item.registeredAt };
  }

  /** `consistent`: a strongly consistent Query (1 read unit per 4 KB); else half that. */
  async #listActive(user: UserKey, consistent: boolean): Promise<Device[]> {
    const devices: Device[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await awsCall('devices Query', () =>
        this.#documents.send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :device)',
            FilterExpression: 'active = :true',
            ExpressionAttributeValues: { ':pk': userPartition(user), ':device': DEVICE, ':true': true },
            ConsistentRead: consistent,
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of out.Items ?? []) {
        devices.push({
          tenantId: user.tenantId,
          userId: user.userId,
          token: item.token,
          platform: item.platform,
          registeredAt: item.registeredAt,
          active: true,
        });
      }
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
    // The embedded adapter's order: oldest registration first, then by token.
    return devices.sort((a, b) => a.registeredAt - b.registeredAt || compare(a.token, b.token));
  }
}

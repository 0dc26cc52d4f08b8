import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Checkpoints } from '../../ports/event-log.ts';
import { requireText } from '../checks/input.ts';
import { isConditionFailure } from './errors.ts';
import type { RetryPolicy } from './retry.ts';
import { retrying } from './retry.ts';
import { orderKey, requirePosition } from './sequence-numbers.ts';

/** Where the checkpoints live. */
export interface DynamoCheckpointsOptions {
  readonly documents: DynamoDBDocumentClient;
  /** Physical name of the `checkpoints` table (pk / sk strings). */
  readonly tableName: string;
  /** Backoff for throttled calls. @default sendWithRetry's defaults */
  readonly retry?: RetryPolicy;
}

/**
 * Consumer positions per (consumer, shard) on DynamoDB: item pk = consumer, sk = shard id,
 * `seq` = the position, `seqOrder` = its fixed-width order key (see `orderKey`). Not tenant data:
 * a log consumer reads every tenant's records of a shard.
 *
 * `set` only moves forward in ONE conditional UpdateItem (1 WCU, also when the condition fails):
 * `compareSequence` orders by length first, which no DynamoDB operator expresses on the raw
 * strings ('100' < '99' as strings), but the order key sorts the same way as plain strings, so
 * `seqOrder < :new` is the whole check. A read-check-write loop would cost a read more per set
 * and race with a concurrent writer between its read and its write. `get` is a strongly
 * consistent GetItem (1 RCU), so a position just set is what the next reader sees.
 */
export class DynamoCheckpoints implements Checkpoints {
  readonly #documents: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #retry: RetryPolicy | undefined;

  constructor(opts: DynamoCheckpointsOptions) {
    this.#documents = opts.documents;
    this.#table = opts.tableName;
    this.#retry = opts.retry;
  }

  async get(consumer: string, shardId: string): Promise<string | undefined> {
    requireText(consumer, 'consumer');
    requireText(shardId, 'shardId');
    const out = await retrying(
      'checkpoint read',
      () =>
        this.#documents.send(
          new GetCommand({
            TableName: this.#table,
            Key: { pk: consumer, sk: shardId },
            ConsistentRead: true,
            ProjectionExpression: 'seq',
          }),
        ),
      this.#retry,
    );
    const seq = out.Item?.seq;
    return typeof seq === 'string' ? seq : undefined;
  }

  async set(consumer: string, shardId: string, sequenceNumber: string): Promise<void> {
    requireText(consumer, 'consumer');
    requireText(shardId, 'shardId');
    requirePosition(sequenceNumber, 'sequenceNumber');
    try {
      await retrying(
        'checkpoint write',
        () =>
          this.#documents.send(
            new UpdateCommand({
              TableName: this.#table,
              Key: { pk: consumer, sk: shardId },
              UpdateExpression: 'SET seq = :seq, seqOrder = :order',
              ConditionExpression: 'attribute_not_exists(seqOrder) OR seqOrder < :order',
              ExpressionAttributeValues: { ':seq': sequenceNumber, ':order': orderKey(sequenceNumber) },
            }),
          ),
        this.#retry,
      );
    } catch (err) {
      // The stored position is the same or further on: moving back is a no-op, as the port says.
      if (!isConditionFailure(err)) throw err;
    }
  }
}

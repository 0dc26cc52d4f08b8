import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { NotificationId, TenantId, UserKey } from '../../domain/types.ts';
import type { EventRef } from '../../ports/inbox.ts';
import { mapLimit } from './concurrency.ts';
import { batchGet, type DynamoContext, reportCapacity } from './inbox-batch.ts';
import { distinctBy, rowsPk } from './inbox-items.ts';
import { conditional } from './inbox-state.ts';

/** Concurrent deletes of one `remove` call. */
const DELETE_CONCURRENCY = 8;

/**
 * Retraction in the DynamoDB `inbox` table.
 *
 * A tombstone is one small item per retracted event, pk `tenant#!ret#<event id>` (`!` is not in
 * any user id, so it never meets a user's partition), sk the event's actor, with `expiresAt` for the
 * table's TTL: 1 write unit to record, and a consistent BatchGetItem (1 read unit per id, 100 ids
 * a call) to check a batch of events or jobs against.
 *
 * A row is removed with one DeleteItem on condition that it is not an aggregated item (no `g`),
 * returning the old item: 1 write unit per id, whether the row was there or not. In GSI mode the
 * row's index entry goes with it; in counter mode the caller marks the rows read first, which
 * takes them off the counter exactly (inbox-counter.ts).
 */
export class DynamoRetractions {
  readonly #ctx: DynamoContext;
  readonly #table: string;

  constructor(ctx: DynamoContext, table: string) {
    this.#ctx = ctx;
    this.#table = table;
  }

  async record(tenantId: TenantId, ref: EventRef, expiresAt: number): Promise<void> {
    const seconds = Math.ceil(expiresAt / 1000);
    // A condition that fails means a later expiry is stored already: nothing to do.
    await conditional('inbox record retraction', async () => {
      const out = await this.#ctx.documents.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: tombstoneKey(tenantId, ref),
          UpdateExpression: 'SET #e = :e',
          ConditionExpression: 'attribute_not_exists(#e) OR #e < :e',
          ExpressionAttributeNames: { '#e': 'expiresAt' },
          ExpressionAttributeValues: { ':e': seconds },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      reportCapacity(this.#ctx.capacity, 'write', out.ConsumedCapacity);
    });
  }

  async among(tenantId: TenantId, refs: readonly EventRef[]): Promise<Set<string>> {
    const keys = distinctBy(
      refs.map((ref) => tombstoneKey(tenantId, ref)),
      (k) => `${k.pk}\n${k.sk}`,
    );
    if (keys.length === 0) return new Set();
    const found = await batchGet(this.#ctx, 'inbox retracted among', this.#table, keys, ['pk']);
    const skip = tombstonePk(tenantId, '').length;
    return new Set(found.map((item) => (item.pk as string).slice(skip)));
  }

  /** Which of `ids` are rows of the user that are not aggregated items (consistent read, 1 read unit each). */
  async plainRows(user: UserKey, ids: readonly NotificationId[]): Promise<NotificationId[]> {
    const found = await batchGet(
      this.#ctx,
      'inbox remove rows',
      this.#table,
      ids.map((sk) => ({ pk: rowsPk(user), sk })),
      ['sk', 'g'],
    );
    return found.filter((item) => item.g === undefined).map((item) => item.sk as string);
  }

  /** Deletes the rows; resolves with how many were there. */
  async remove(user: UserKey, ids: readonly NotificationId[]): Promise<number> {
    let removed = 0;
    await mapLimit([...new Set(ids)], DELETE_CONCURRENCY, async (id) => {
      await conditional('inbox remove rows', async () => {
        const out = await this.#ctx.documents.send(
          new DeleteCommand({
            TableName: this.#table,
            Key: { pk: rowsPk(user), sk: id },
            ConditionExpression: 'attribute_not_exists(#g)',
            ExpressionAttributeNames: { '#g': 'g' },
            ReturnValues: 'ALL_OLD',
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
        reportCapacity(this.#ctx.capacity, 'write', out.ConsumedCapacity);
        if (out.Attributes !== undefined) removed++;
      });
    });
    return removed;
  }
}

function tombstonePk(tenantId: TenantId, eventId: string): string {
  return `${tenantId}#!ret#${eventId}`;
}

function tombstoneKey(tenantId: TenantId, ref: EventRef): { pk: string; sk: string } {
  return { pk: tombstonePk(tenantId, ref.eventId), sk: ref.actorId };
}

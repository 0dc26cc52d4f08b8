import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '../../domain/errors.ts';
import { sleep as realSleep } from '../../lib/sleep.ts';
import type { Clock } from '../../ports/clock.ts';
import { isConditionFailure } from './errors.ts';
import { type RetryPolicy, retryDelay, retrying } from './retry.ts';
import { orderKey } from './sequence-numbers.ts';

/** Where an event went in the stream. */
export interface StreamPosition {
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/** What the event log's idempotency table needs. */
export interface EventClaimsOptions {
  readonly documents: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly streamName: string;
  readonly clock: Clock;
  readonly retry: RetryPolicy | undefined;
  /** How long an answered event id is remembered. */
  readonly ttlMs: number;
  /** How long a claim without a stored position blocks other appends of the same id. */
  readonly leaseMs: number;
}

/** Past this many looks at a claim someone else holds, the append gives up (503, retried). */
const MAX_WAITS = 64;

/**
 * The Kinesis log's bookkeeping in the `events` table (pk only), since Kinesis itself has no
 * idempotency and no "newest record" call:
 *
 * - `tenant#eventId` → `{ claimId, ev, leaseUntil, expiresAt }` while an append is putting the
 *   event, then `{ shardId, seq, ev, expiresAt }` once it is in the stream; `ev` is the event's JSON
 *   without its `data` (what `DELETE /v1/events/{id}` needs to retract it: `lookup`). A claim is a conditional PutItem
 *   that wins when no item exists, the item has expired, or it is a claim whose lease ran out: so
 *   a crash between claim and put (or between put and result) never makes the event vanish for
 *   good; the next append of the id after the lease puts it (again, at worst: the fan-out is
 *   idempotent per event id, so a second record of it writes nothing twice).
 * - `#latest#stream#shardId` → `{ seq, seqOrder }`: the highest sequence number appended to a
 *   shard, moved only forward by a condition on the fixed-width order key. It starts with `#`, which
 *   no tenant id holds, so it can never meet a tenant's key.
 *
 * Costs: a fresh event is 2 writes (claim, result) of 1 WCU each; a repeat is 1 failed conditional
 * write (1 WCU) and 1 strongly consistent read (1 RCU); each shard an append touched is one more
 * write for its marker.
 */
export class EventClaims {
  readonly #o: EventClaimsOptions;

  constructor(opts: EventClaimsOptions) {
    this.#o = opts;
  }

  /**
   * Claims (tenant, event id) for `claimId`, keeping `event` (the event's JSON without its data,
   * for `lookup`). Resolves undefined when the caller now owns the put,
   * or the position stored by an earlier append. Waits while another append holds a live lease on
   * the id (it is most likely about to store its result), and takes over once that lease ends.
   */
  async claim(
    tenantId: string,
    eventId: string,
    claimId: string,
    event: string,
  ): Promise<StreamPosition | undefined> {
    const o = this.#o;
    const pk = eventKey(tenantId, eventId);
    const sleep = o.retry?.sleep ?? realSleep;
    for (let attempt = 1; ; attempt++) {
      const now = o.clock.now();
      try {
        await retrying(
          'event log claim',
          () =>
            o.documents.send(
              new PutCommand({
                TableName: o.tableName,
                Item: {
                  pk,
                  claimId,
                  ev: event,
                  leaseUntil: now + o.leaseMs,
                  expiresAt: Math.ceil((now + o.ttlMs) / 1000),
                },
                ConditionExpression:
                  'attribute_not_exists(pk) OR expiresAt < :nowSec OR (attribute_not_exists(seq) AND leaseUntil < :now)',
                ExpressionAttributeValues: { ':now': now, ':nowSec': Math.floor(now / 1000) },
              }),
            ),
          o.retry,
        );
        return undefined;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
      const item = await this.#item(pk);
      // Our own claim: an earlier attempt of this PutItem got through, but its answer did not.
      if (item?.claimId === claimId && item.position === undefined) return undefined;
      if (item?.position !== undefined) return item.position;
      if (attempt >= MAX_WAITS) {
        throw new StoreUnavailableError('event log append: another append of the same event id is in flight');
      }
      await sleep(retryDelay(attempt, o.retry));
    }
  }

  /**
   * Records where a claimed event went, so repeats answer with it. Only the claim's owner writes,
   * and only once: if the lease ran out and another append took over and stored first, that answer
   * stays (both records are in the stream; the fan-out is idempotent).
   */
  async store(tenantId: string, eventId: string, claimId: string, position: StreamPosition): Promise<void> {
    const o = this.#o;
    try {
      await retrying(
        'event log result',
        () =>
          o.documents.send(
            new UpdateCommand({
              TableName: o.tableName,
              Key: { pk: eventKey(tenantId, eventId) },
              UpdateExpression: 'SET shardId = :shard, seq = :seq REMOVE leaseUntil',
              ConditionExpression: 'claimId = :claim AND attribute_not_exists(seq)',
              ExpressionAttributeValues: {
                ':shard': position.shardId,
                ':seq': position.sequenceNumber,
                ':claim': claimId,
              },
            }),
          ),
        o.retry,
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  /** Drops a claim whose event never reached the stream, so a retry need not wait for the lease. */
  async release(tenantId: string, eventId: string, claimId: string): Promise<void> {
    const o = this.#o;
    try {
      await o.documents.send(
        new DeleteCommand({
          TableName: o.tableName,
          Key: { pk: eventKey(tenantId, eventId) },
          ConditionExpression: 'claimId = :claim AND attribute_not_exists(seq)',
          ExpressionAttributeValues: { ':claim': claimId },
        }),
      );
    } catch {
      // Best effort: the lease ends the claim anyway.
    }
  }

  /**
   * The event JSON a claim of (tenant, event id) kept, while its item lives (claimed or appended);
   * undefined when there is none or it has expired (DynamoDB deletes expired items late).
   */
  async event(tenantId: string, eventId: string): Promise<string | undefined> {
    const o = this.#o;
    const out = await retrying(
      'event log lookup',
      () =>
        o.documents.send(
          new GetCommand({
            TableName: o.tableName,
            Key: { pk: eventKey(tenantId, eventId) },
            ConsistentRead: true,
            ProjectionExpression: 'ev, expiresAt',
          }),
        ),
      o.retry,
    );
    const item = out.Item;
    if (item === undefined || typeof item.ev !== 'string') return undefined;
    if (typeof item.expiresAt === 'number' && item.expiresAt < Math.floor(o.clock.now() / 1000))
      return undefined;
    return item.ev;
  }

  /** The highest sequence number recorded for a shard, if any. */
  async latest(shardId: string): Promise<string | undefined> {
    const o = this.#o;
    const out = await retrying(
      'event log latest sequence',
      () =>
        o.documents.send(
          new GetCommand({
            TableName: o.tableName,
            Key: { pk: this.#markerKey(shardId) },
            ConsistentRead: true,
            ProjectionExpression: 'seq',
          }),
        ),
      o.retry,
    );
    const seq = out.Item?.seq;
    return typeof seq === 'string' ? seq : undefined;
  }

  /** Moves a shard's marker to `sequenceNumber` unless it is already there or further. */
  async advance(shardId: string, sequenceNumber: string): Promise<void> {
    const o = this.#o;
    const order = orderKey(sequenceNumber);
    try {
      await retrying(
        'event log latest sequence',
        () =>
          o.documents.send(
            new UpdateCommand({
              TableName: o.tableName,
              Key: { pk: this.#markerKey(shardId) },
              UpdateExpression: 'SET seq = :seq, seqOrder = :order',
              ConditionExpression: 'attribute_not_exists(seqOrder) OR seqOrder < :order',
              ExpressionAttributeValues: { ':seq': sequenceNumber, ':order': order },
            }),
          ),
        o.retry,
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  async #item(pk: string): Promise<{ claimId?: unknown; position?: StreamPosition } | undefined> {
    const o = this.#o;
    const out = await retrying(
      'event log claim',
      () =>
        o.documents.send(
          new GetCommand({
            TableName: o.tableName,
            Key: { pk },
            ConsistentRead: true,
            ProjectionExpression: 'claimId, shardId, seq',
          }),
        ),
      o.retry,
    );
    const item = out.Item;
    if (item === undefined) return undefined;
    if (typeof item.seq !== 'string' || typeof item.shardId !== 'string') return { claimId: item.claimId };
    return { claimId: item.claimId, position: { shardId: item.shardId, sequenceNumber: item.seq } };
  }

  #markerKey(shardId: string): string {
    return `#latest#${this.#o.streamName}#${shardId}`;
  }
}

/** The idempotency key of an event: tenant first, like every key. */
export function eventKey(tenantId: string, eventId: string): string {
  return `${tenantId}#${eventId}`;
}

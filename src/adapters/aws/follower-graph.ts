import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { authorPartition } from '../../domain/keys.ts';
import type { FollowEdge, UserId, UserKey } from '../../domain/types.ts';
import { Tier } from '../../domain/types.ts';
import type {
  AuthorTierState,
  FollowerGraph,
  FollowerPage,
  FollowerPageOptions,
} from '../../ports/follower-graph.ts';
import { checkAuthorIds, checkFollowerPage, checkTierState, validateEdge } from '../checks/follower-graph.ts';
import { requireArray, requireUser } from '../checks/input.ts';
import { forEachLimit } from './concurrency.ts';
import { awsCall, translateAwsError } from './errors.ts';
import {
  dedupe,
  EDGE,
  type EdgeWrite,
  edgeId,
  type TxItem,
  transactions,
  type Wanted,
} from './follower-graph-plan.ts';
import { chunks, type RetryPolicy, sendWithRetry } from './retry.ts';
import { isReplannable } from './transaction-errors.ts';

export interface DynamoFollowerGraphOptions {
  readonly documents: DynamoDBDocumentClient;
  /** Physical name of the `followers` table. */
  readonly tableName: string;
  readonly retry?: RetryPolicy;
  /** Authors whose edges are written at the same time (one author's edges go one after another). @default 8 */
  readonly concurrency?: number;
}

/** Sort-key namespaces of an author's partition besides `f#`. `#meta` sorts before the edge ranges. */
const META = '#meta';
/** In a user's own partition: present once the user has followed anyone (hasFollowed). */
const FOLLOWED = '#followed';
/** Sparse: only followers with alerts on, so a celebrity's alert pass reads only them. */
const ALERT = 'a#';
const CELEBRITY = 'c#';
const NAMES = { '#pk': 'pk', '#sk': 'sk', '#alerts': 'alerts' } as const;

type Key = { readonly pk: string; readonly sk: string };

/**
 * Who follows whom, on DynamoDB (table `followers`, pk `tenant#author`):
 * - `f#<follower>` one item per edge with its `alerts` flag: follower pages are one Query range;
 * - `a#<follower>` a sparse copy of the edges with alerts on, written in the same transaction, so
 *   the celebrity path (push to alert followers only, on every event) reads those and not every
 *   edge through a filter;
 * - `#meta` the follower count, tier, `changedAt` and the sticky `everCelebrity` flag;
 * - `#followed`, in a user's own partition, once that user has followed anyone (hasFollowed);
 * - and per tenant, pk `tenant#!celebrities`, sk `c#<author>`: every author that was ever a
 *   celebrity (see celebrityFollowings).
 *
 * Counts stay exact without a per-edge read-modify-write race: every write first reads the edges
 * it touches (strongly consistent BatchGetItem), then applies only real changes in transactions
 * whose every item is conditioned on the state it read, with the count's ADD in the same
 * transaction. A race cancels the transaction, and the next round re-reads and re-plans, so a
 * retry after an ambiguous timeout never counts twice. One transaction carries up to 99 edge items
 * of one author plus its count item; one author's transactions run one after another (concurrent
 * transactions on the same count item would cancel each other), authors in parallel.
 *
 * Costs: a new edge 2 WCU (4 with alerts) + 1 RCU for the read + 2/99 WCU of count; a re-follow
 * that changes nothing 1 RCU; an unfollow 2–4 WCU + 1 RCU; every follow call also puts one
 * `#followed` item per distinct follower (1 WCU). A page of 1000 followers is about 13 RCU
 * (strongly consistent, ~50-byte items; half that when a `recent` page is enough); `followedAmong`
 * 1 RCU per author asked about; the count and the tier, asked for together, 1 RCU.
 */
export class DynamoFollowerGraph implements FollowerGraph {
  readonly #documents: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #retry: RetryPolicy;
  readonly #concurrency: number;
  /** `#meta` reads asked for in the current synchronous turn, by partition (see #getMeta). */
  readonly #metaReads = new Map<string, Promise<Record<string, unknown> | undefined>>();

  constructor(opts: DynamoFollowerGraphOptions) {
    this.#documents = opts.documents;
    this.#table = opts.tableName;
    this.#retry = opts.retry ?? {};
    this.#concurrency = opts.concurrency ?? 8;
  }

  async follow(edges: readonly FollowEdge[]): Promise<void> {
    requireArray(edges, 'edges');
    edges.forEach(validateEdge);
    // Before the edges: an edge without its follower's item would let a catch-up start at the
    // log's tail and miss what arrived since the edge (an item without an edge costs one scan).
    await this.#markFollowers(edges);
    await this.#converge('followers follow', dedupe(edges), (edge, current) => {
      const pk = authorPartition(edge.tenantId, edge.authorId);
      const alertKey = { pk, sk: ALERT + edge.followerId };
      const alertWrite: TxItem = edge.alerts
        ? { Put: { TableName: this.#table, Item: alertKey } }
        : { Delete: { TableName: this.#table, Key: alertKey } };
      if (current === undefined) {
        const put: TxItem = {
          Put: {
            TableName: this.#table,
            Item: { pk, sk: EDGE + edge.followerId, alerts: edge.alerts },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': 'pk' },
          },
        };
        return { edge, items: edge.alerts ? [put, alertWrite] : [put], delta: 1 };
      }
      if (current === edge.alerts) return undefined;
      const flip: TxItem = {
        Update: {
          TableName: this.#table,
          Key: { pk, sk: EDGE + edge.followerId },
          UpdateExpression: 'SET #alerts = :alerts',
          ConditionExpression: '#alerts = :seen',
          ExpressionAttributeNames: { '#alerts': 'alerts' },
          ExpressionAttributeValues: { ':alerts': edge.alerts, ':seen': current },
        },
      };
      return { edge, items: [flip, alertWrite], delta: 0 };
    });
  }

  async unfollow(edges: readonly Omit<FollowEdge, 'alerts'>[]): Promise<void> {
    requireArray(edges, 'edges');
    edges.forEach(validateEdge);
    await this.#converge('followers unfollow', dedupe(edges), (edge, current) => {
      if (current === undefined) return undefined;
      const pk = authorPartition(edge.tenantId, edge.authorId);
      const remove: TxItem = {
        Delete: {
          TableName: this.#table,
          Key: { pk, sk: EDGE + edge.followerId },
          ConditionExpression: '#alerts = :seen',
          ExpressionAttributeNames: { '#alerts': 'alerts' },
          ExpressionAttributeValues: { ':seen': current },
        },
      };
      const alert: TxItem = { Delete: { TableName: this.#table, Key: { pk, sk: ALERT + edge.followerId } } };
      return { edge, items: current ? [remove, alert] : [remove], delta: -1 };
    });
  }

  async followerCount(author: UserKey): Promise<number> {
    requireUser(author, 'author');
    const item = await this.#getMeta(author, 'followers count');
    return typeof item?.count === 'number' ? item.count : 0;
  }

  async pageFollowers(author: UserKey, opts: FollowerPageOptions = {}): Promise<FollowerPage> {
    const limit = checkFollowerPage(author, opts);
    const prefix = opts.alertsOnly === true ? ALERT : EDGE;
    const pk = authorPartition(author.tenantId, author.userId);
    // One extra follower tells whether another page exists, so the last page carries no `next`.
    const ids = await this.#range(pk, prefix, opts.after, limit + 1, opts.freshness !== 'recent');
    const followers = ids.slice(0, limit);
    return ids.length > limit ? { followers, next: followers[followers.length - 1]! } : { followers };
  }

  async tier(author: UserKey): Promise<AuthorTierState | undefined> {
    requireUser(author, 'author');
    const item = await this.#getMeta(author, 'followers tier read');
    if (item === undefined || typeof item.tier !== 'string') return undefined;
    return { tier: item.tier as Tier, changedAt: item.changedAt as number };
  }

  async setTier(author: UserKey, state: AuthorTierState): Promise<void> {
    checkTierState(author, state);
    const celebrity = state.tier === Tier.Celebrity;
    if (celebrity) {
      // The set entry first: should the tier write then fail, an author listed a little early
      // has no pointers yet, whereas one missing from the set would not wake its followers' live
      // streams (celebrityFollowings).
      await awsCall('followers celebrity set write', () =>
        this.#documents.send(
          new PutCommand({
            TableName: this.#table,
            Item: { pk: celebritySet(author.tenantId), sk: CELEBRITY + author.userId },
          }),
        ),
      );
    }
    await awsCall('followers tier write', () =>
      this.#documents.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: authorPartition(author.tenantId, author.userId), sk: META },
          UpdateExpression: `SET #tier = :tier, #changedAt = :at${celebrity ? ', #ever = :true' : ''}`,
          ExpressionAttributeNames: {
            '#tier': 'tier',
            '#changedAt': 'changedAt',
            ...(celebrity ? { '#ever': 'everCelebrity' } : {}),
          },
          ExpressionAttributeValues: {
            ':tier': state.tier,
            ':at': state.changedAt,
            ...(celebrity ? { ':true': true } : {}),
          },
        }),
      ),
    );
  }

  /**
   * Edges are keyed by author, and there is no GSI by follower on purpose: a GSI is only
   * eventually consistent (a fresh follow or unfollow would be missed by the next catch-up) and
   * would double every edge write. Instead the tenant's ever-celebrity authors are one small
   * partition, and the answer is a strongly consistent BatchGetItem of (celebrity, user) edges:
   * its cost follows the tenant's celebrities, which are few by definition, not the user's
   * followings.
   */
  async celebrityFollowings(user: UserKey): Promise<UserId[]> {
    requireUser(user);
    const celebrities = await this.#range(celebritySet(user.tenantId), CELEBRITY, undefined, Infinity);
    const keys = celebrities.map((authorId) => ({
      pk: authorPartition(user.tenantId, authorId),
      sk: EDGE + user.userId,
    }));
    const found = await this.#batchGet('followers celebrity followings', keys);
    const skip = user.tenantId.length + 1;
    return found.map((item) => (item.pk as string).slice(skip)).sort();
  }

  async followedAmong(user: UserKey, authorIds: readonly UserId[]): Promise<Set<UserId>> {
    requireUser(user);
    checkAuthorIds(authorIds);
    const keys = [...new Set(authorIds)].map((authorId) => ({
      pk: authorPartition(user.tenantId, authorId),
      sk: EDGE + user.userId,
    }));
    if (keys.length === 0) return new Set();
    const found = await this.#batchGet('followers followed among', keys);
    const skip = user.tenantId.length + 1;
    return new Set(found.map((item) => (item.pk as string).slice(skip)));
  }

  async hasFollowed(user: UserKey): Promise<boolean> {
    requireUser(user);
    const out = await awsCall('followers has followed', () =>
      this.#documents.send(
        new GetCommand({
          TableName: this.#table,
          Key: { pk: authorPartition(user.tenantId, user.userId), sk: FOLLOWED },
          ConsistentRead: true,
        }),
      ),
    );
    return out.Item !== undefined;
  }

  /** Puts the `#followed` item of every distinct follower of `edges` (idempotent). */
  async #markFollowers(edges: readonly FollowEdge[]): Promise<void> {
    const keys = new Map<string, Key>();
    for (const e of edges) {
      const pk = authorPartition(e.tenantId, e.followerId);
      keys.set(pk, { pk, sk: FOLLOWED });
    }
    await forEachLimit(chunks([...keys.values()], 25), this.#concurrency, (chunk) =>
      sendWithRetry(
        'followers follower marks BatchWriteItem',
        chunk,
        async (batch) => {
          const out = await this.#documents.send(
            new BatchWriteCommand({
              RequestItems: { [this.#table]: batch.map((Item) => ({ PutRequest: { Item } })) },
            }),
          );
          return (out.UnprocessedItems?.[this.#table] ?? []).flatMap((r) =>
            r.PutRequest?.Item === undefined ? [] : [r.PutRequest.Item as Key],
          );
        },
        this.#retry,
      ),
    );
  }

  /**
   * Reads the current state of `wanted` edges, plans the writes with `plan` (undefined: nothing to
   * do) and applies them; edges whose transaction was cancelled go round again, re-read, until
   * none is left or the retry policy gives up (StoreUnavailableError).
   */
  async #converge(
    what: string,
    wanted: readonly Wanted[],
    plan: (edge: Wanted, current: boolean | undefined) => EdgeWrite | undefined,
  ): Promise<void> {
    await sendWithRetry(
      what,
      wanted,
      async (pending) => {
        const current = await this.#readEdges(pending);
        const byAuthor = new Map<string, EdgeWrite[]>();
        for (const edge of pending) {
          const write = plan(edge, current.get(edgeId(edge)));
          if (write === undefined) continue;
          const pk = authorPartition(edge.tenantId, edge.authorId);
          const writes = byAuthor.get(pk) ?? [];
          writes.push(write);
          byAuthor.set(pk, writes);
        }
        const failed: Wanted[] = [];
        await forEachLimit([...byAuthor], this.#concurrency, async ([pk, writes]) => {
          for (const tx of transactions(writes)) {
            if (!(await this.#transact(what, pk, tx))) failed.push(...tx.map((w) => w.edge));
          }
        });
        return failed;
      },
      this.#retry,
    );
  }

  /** One transaction of one author's edge writes plus its count change; false when it should go round again. */
  async #transact(what: string, pk: string, writes: readonly EdgeWrite[]): Promise<boolean> {
    const delta = writes.reduce((sum, w) => sum + w.delta, 0);
    const items = writes.flatMap((w) => w.items);
    if (delta !== 0) {
      items.push({
        Update: {
          TableName: this.#table,
          Key: { pk, sk: META },
          UpdateExpression: 'ADD #count :delta',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':delta': delta },
        },
      });
    }
    try {
      await this.#documents.send(new TransactWriteCommand({ TransactItems: items }));
      return true;
    } catch (err) {
      if (isReplannable(err)) return false;
      throw translateAwsError(err, `${what} TransactWriteItems`);
    }
  }

  /** Current `alerts` of each edge that exists, by edgeId. */
  async #readEdges(edges: readonly Wanted[]): Promise<Map<string, boolean>> {
    const keys = edges.map((e) => ({ pk: authorPartition(e.tenantId, e.authorId), sk: EDGE + e.followerId }));
    const items = await this.#batchGet('followers edge read', keys);
    return new Map(items.map((item) => [`${item.pk}\n${item.sk}`, item.alerts === true]));
  }

  /** Strongly consistent BatchGetItem in chunks of 100, re-asking only for UnprocessedKeys. */
  async #batchGet(what: string, keys: readonly Key[]): Promise<Record<string, unknown>[]> {
    const found: Record<string, unknown>[] = [];
    await forEachLimit(chunks(keys, 100), this.#concurrency, (chunk) =>
      sendWithRetry(
        `${what} BatchGetItem`,
        chunk,
        async (batch) => {
          const out = await this.#documents.send(
            new BatchGetCommand({
              RequestItems: {
                [this.#table]: {
                  Keys: [...batch],
                  ConsistentRead: true,
                  ProjectionExpression: '#pk, #sk, #alerts',
                  ExpressionAttributeNames: NAMES,
                },
              },
            }),
          );
          found.push(...(out.Responses?.[this.#table] ?? []));
          return (out.UnprocessedKeys?.[this.#table]?.Keys ?? []) as Key[];
        },
        this.#retry,
      ),
    );
    return found;
  }

  /**
   * Up to `max` ids after `after` in the `prefix` range of partition `pk`, in sort-key order;
   * strongly consistent unless `consistent` is false (half the read units).
   */
  async #range(
    pk: string,
    prefix: string,
    after: string | undefined,
    max: number,
    consistent = true,
  ): Promise<string[]> {
    const ids: string[] = [];
    // The position needs no item: DynamoDB resumes after any key inside the queried range.
    let start: Key | undefined = after === undefined ? undefined : { pk, sk: prefix + after };
    do {
      const out = await awsCall('followers Query', () =>
        this.#documents.send(
          new QueryCommand({
            TableName: this.#table,
            KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
            ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk' },
            ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
            ProjectionExpression: '#sk',
            ConsistentRead: consistent,
            ...(Number.isFinite(max) ? { Limit: max - ids.length } : {}),
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of out.Items ?? []) ids.push((item.sk as string).slice(prefix.length));
      start = out.LastEvaluatedKey as Key | undefined;
    } while (start !== undefined && ids.length < max);
    return ids;
  }

  /**
   * The author's `#meta` item, strongly consistent. Calls made in the same synchronous turn share
   * one GetItem (fan-out asks for the count and the tier together): no write can complete between
   * them, so the shared read is as fresh as two would be, at half the read units.
   */
  #getMeta(author: UserKey, what: string): Promise<Record<string, unknown> | undefined> {
    const pk = authorPartition(author.tenantId, author.userId);
    const shared = this.#metaReads.get(pk);
    if (shared !== undefined) return shared;
    const read = awsCall(what, () =>
      this.#documents.send(
        new GetCommand({ TableName: this.#table, Key: { pk, sk: META }, ConsistentRead: true }),
      ),
    ).then((out) => out.Item);
    this.#metaReads.set(pk, read);
    queueMicrotask(() => this.#metaReads.delete(pk));
    return read;
  }
}

/**
 * The tenant's ever-celebrity authors. `!` is outside the id alphabet, so this partition can
 * never be an author's (`tenant#celebrities` would be the partition of an author so named).
 */
function celebritySet(tenantId: string): string {
  return `${tenantId}#!celebrities`;
}

import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { newestActors } from '../../domain/grouping.ts';
import { ulidTime } from '../../domain/ids.ts';
import { userPartition } from '../../domain/keys.ts';
import { expiresAtSeconds } from '../../domain/ttl.ts';
import type { InboxRow, NotificationId, UserKey } from '../../domain/types.ts';
import type { Clock } from '../../ports/clock.ts';
import { mapLimit } from './concurrency.ts';
import { awsErrorName, translateAwsError } from './errors.ts';
import { batchGet, type DynamoContext, type Item, reportCapacity } from './inbox-batch.ts';
import { rowItem, rowsPk } from './inbox-items.ts';
import { conditional, type TransactItems } from './inbox-state.ts';

/**
 * Aggregated items on DynamoDB. 100,000 actors do not fit in one item (400 KB), so each distinct
 * actor is an item of its own, and the group keeps only its count:
 *
 * - `tenant#user#grp`, sk group key: the group. r = the id of its inbox row, n = distinct actors,
 *   ga = the newest actors (`[[actor, at], …]`), and one `p_<token>` attribute per write in
 *   flight (its intent: the actors it is adding, and when it began).
 * - `tenant#user#grp#<group key>`, sk actor id: one per distinct actor. e = the event that added
 *   it, k = the token of the write that added it, at = its time.
 *
 * A write of a group's rows (one putMany holds many, fan-out gathers a Kinesis batch's) is:
 * (1) record the intent on the group (one UpdateItem); (2) one conditional PutItem per actor,
 * `attribute_not_exists(sk)`, so an actor already there (a re-delivered event, a second like)
 * counts nothing; (3) one transaction that adds the actors that were new to n, removes the intent
 * (on condition that it is still there and the group is as read), and moves the row: the new row
 * put, the old one deleted. A crash after (1) or (2) leaves the intent. Whoever meets it next
 * adopts it in their own step (3): the retry of the same event (it finds its actor written with
 * another token), or any write once the intent is older than the lease. Adopting counts the
 * intent's actors whose item carries its token, exactly those it added, and removes the intent in
 * the same transaction, so each actor is counted once, whoever counts it.
 *
 * Why not one transaction per like: a transaction costs 2 write units per item, so a like would
 * cost at least 4 (actor and group). This way a like costs 1 write unit (its actor item) plus its
 * share of the group's two writes and the row's move, shared by all the likes of one call.
 */

/** An intent older than this is adopted by any writer: longer than a Lambda function may run. */
const INTENT_LEASE_MS = 16 * 60 * 1000;
/** Actor puts in flight at once per group. */
const PUT_CONCURRENCY = 16;
/** Commits lost to concurrent writers of the same group before giving up. */
const COMMIT_ATTEMPTS = 40;

/** A group as read. */
interface GroupItem {
  readonly r?: string;
  readonly n?: number;
  readonly ga?: [string, number][];
  readonly [intent: string]: unknown;
}

interface Intent {
  readonly at: number;
  readonly ids: string[];
}

interface Shown {
  readonly actorId: string;
  readonly at: number;
}

export interface DynamoGroupsOptions {
  readonly ctx: DynamoContext;
  readonly table: string;
  readonly ttlMs: number;
  readonly indexed: boolean;
  readonly clock: Clock;
}

/** Partition of a user's groups. */
export function groupsPk(user: UserKey): string {
  return `${userPartition(user)}#grp`;
}

/** Partition of one group's actors. */
export function actorsPk(user: UserKey, groupKey: string): string {
  return `${userPartition(user)}#grp#${groupKey}`;
}

export class DynamoGroups {
  readonly #o: DynamoGroupsOptions;

  constructor(opts: DynamoGroupsOptions) {
    this.#o = opts;
  }

  /**
   * Folds grouped rows into their groups, one group after the other. Resolves with the rows
   * whose item moved or changed in place (the caller's counter mode decides on them).
   */
  async put(rows: readonly InboxRow[]): Promise<{ moved: { user: UserKey; oldId: NotificationId }[] }> {
    const byGroup = new Map<string, InboxRow[]>();
    for (const row of rows) {
      const key = `${row.tenantId}\u0000${row.userId}\u0000${row.groupKey}`;
      const list = byGroup.get(key);
      if (list === undefined) byGroup.set(key, [row]);
      else list.push(row);
    }
    const moved: { user: UserKey; oldId: NotificationId }[] = [];
    await mapLimit([...byGroup.values()], 4, async (members) => {
      const oldId = await this.#putGroup(members);
      if (oldId !== undefined) moved.push({ user: members[0]!, oldId });
    });
    return { moved };
  }

  /**
   * Takes an actor out of a group when its item names `eventId`: one transaction that deletes the
   * actor item (on condition that it is there through this event), lowers the count on the group
   * (on condition that it is as read) and updates the row, or deletes it at zero (the group item
   * stays, empty, so writes in flight keep their intents). Resolves with whether it took the
   * actor out, and the id of a row it deleted.
   */
  async retract(
    user: UserKey,
    groupKey: string,
    actorId: string,
    eventId: string,
  ): Promise<{ removed: boolean; deletedRow?: NotificationId }> {
    const { table } = this.#o;
    for (let attempt = 1; attempt <= COMMIT_ATTEMPTS; attempt++) {
      const group = await this.#read(user, groupKey);
      const actor = await batchGet(
        this.#o.ctx,
        'inbox group read',
        table,
        [{ pk: actorsPk(user, groupKey), sk: actorId }],
        ['e'],
      );
      if (actor[0]?.e !== eventId) return { removed: false };
      const count = Math.max(0, (group.n ?? 1) - 1);
      const ga = (group.ga ?? []).filter(([id]) => id !== actorId);
      const items: TransactItems = [
        {
          Delete: {
            TableName: table,
            Key: { pk: actorsPk(user, groupKey), sk: actorId },
            ConditionExpression: '#e = :e',
            ExpressionAttributeNames: { '#e': 'e' },
            ExpressionAttributeValues: { ':e': eventId },
          },
        },
        {
          Update: {
            TableName: table,
            Key: { pk: groupsPk(user), sk: groupKey },
            UpdateExpression: count === 0 ? 'SET #n = :n, #ga = :ga REMOVE #r' : 'SET #n = :n, #ga = :ga',
            ConditionExpression: [countCondition(group), rowCondition(group)].join(' AND '),
            ExpressionAttributeNames: { '#n': 'n', '#ga': 'ga', '#r': 'r' },
            ExpressionAttributeValues: { ':n': count, ':ga': ga, ...countValues(group), ...rowValues(group) },
          },
        },
      ];
      const row = group.r;
      if (row !== undefined && count === 0) {
        items.push({ Delete: { TableName: table, Key: { pk: rowsPk(user), sk: row } } });
      } else if (row !== undefined) {
        items.push({
          Update: {
            TableName: table,
            Key: { pk: rowsPk(user), sk: row },
            UpdateExpression: 'SET #n = :n, #ga = :ga',
            ConditionExpression: 'attribute_exists(sk)',
            ExpressionAttributeNames: { '#n': 'n', '#ga': 'ga' },
            ExpressionAttributeValues: { ':n': count, ':ga': ga },
          },
        });
      }
      if (await this.#transact(items)) {
        return row !== undefined && count === 0 ? { removed: true, deletedRow: row } : { removed: true };
      }
    }
    throw translateAwsError(new Error('group kept changing'), 'inbox group retract');
  }

  /** Returns the id of the row the group had before, when it had one and it changed. */
  async #putGroup(given: readonly InboxRow[]): Promise<NotificationId | undefined> {
    const first = given[0]!;
    const user: UserKey = { tenantId: first.tenantId, userId: first.userId };
    const groupKey = first.groupKey!;
    // One row per actor: the rest of a call's rows by the same actor count nothing anyway.
    const members = [...new Map(given.map((row) => [row.actorId, row])).values()];
    const token = randomUUID().replaceAll('-', '');
    const intentName = `p_${token}`;
    let group = await this.#begin(user, groupKey, intentName, {
      at: this.#o.clock.now(),
      ids: members.map((r) => r.actorId),
    });
    // Rows whose actor this call wrote (counted through our intent), and rows of this event whose
    // actor an earlier attempt wrote (counted through that attempt's intent, or already counted).
    const fresh: InboxRow[] = [];
    const retried: { row: InboxRow; intent: string }[] = [];
    const earlier = new Set<string>();
    await mapLimit(members, PUT_CONCURRENCY, async (row) => {
      const put = await this.#putActor(user, groupKey, row, token);
      if (put === 'new') fresh.push(row);
      else if (put.eventId === row.eventId && put.token !== token) {
        earlier.add(`p_${put.token}`);
        retried.push({ row, intent: `p_${put.token}` });
      }
    });
    const adopted = new Map<string, Shown[]>();
    for (let attempt = 1; attempt <= COMMIT_ATTEMPTS; attempt++) {
      const now = this.#o.clock.now();
      const adopt = intentsOf(group).filter(
        ([name, intent]) => name !== intentName && (earlier.has(name) || intent.at < now - INTENT_LEASE_MS),
      );
      for (const [name, intent] of adopt) {
        if (!adopted.has(name))
          adopted.set(name, await this.#actorsOf(user, groupKey, name.slice(2), intent.ids));
      }
      // Our intent gone means another writer adopted it, and counted our actors.
      const ours = Object.hasOwn(group, intentName);
      const adoptedActors = adopt.flatMap(([name]) => adopted.get(name)!);
      // A retried row shows when its earlier attempt did not finish (its intent is still there, or
      // the group has no row yet); one that finished showed it already: nothing changes then.
      const joined = [
        ...fresh,
        ...retried.filter((r) => group.r === undefined || Object.hasOwn(group, r.intent)).map((r) => r.row),
      ];
      const done = await this.#commit(user, groupKey, group, {
        intentName: ours ? intentName : undefined,
        adopt: adopt.map(([name]) => name),
        added: (ours ? fresh.length : 0) + adoptedActors.length,
        joined,
        adoptedActors,
      });
      if (done !== undefined) return done.movedFrom;
      group = await this.#read(user, groupKey);
    }
    throw translateAwsError(new Error('group kept changing'), 'inbox group write');
  }

  /** Step 1: the intent on the group; resolves with the group as it is now. */
  async #begin(user: UserKey, groupKey: string, intentName: string, intent: Intent): Promise<GroupItem> {
    try {
      const out = await this.#o.ctx.documents.send(
        new UpdateCommand({
          TableName: this.#o.table,
          Key: { pk: groupsPk(user), sk: groupKey },
          UpdateExpression: 'SET #i = :i',
          ExpressionAttributeNames: { '#i': intentName },
          ExpressionAttributeValues: { ':i': intent },
          ReturnValues: 'ALL_NEW',
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      reportCapacity(this.#o.ctx.capacity, 'write', out.ConsumedCapacity);
      return (out.Attributes ?? {}) as GroupItem;
    } catch (err) {
      throw translateAwsError(err, 'inbox group write');
    }
  }

  async #read(user: UserKey, groupKey: string): Promise<GroupItem> {
    try {
      const out = await this.#o.ctx.documents.send(
        new GetCommand({
          TableName: this.#o.table,
          Key: { pk: groupsPk(user), sk: groupKey },
          ConsistentRead: true,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      reportCapacity(this.#o.ctx.capacity, 'read', out.ConsumedCapacity);
      return (out.Item ?? {}) as GroupItem;
    } catch (err) {
      throw translateAwsError(err, 'inbox group read');
    }
  }

  /** Step 2 for one actor: 'new', or who wrote the actor item that was there. */
  async #putActor(
    user: UserKey,
    groupKey: string,
    row: InboxRow,
    token: string,
  ): Promise<'new' | { eventId: string; token: string }> {
    const key = { pk: actorsPk(user, groupKey), sk: row.actorId };
    try {
      const out = await this.#o.ctx.documents.send(
        new PutCommand({
          TableName: this.#o.table,
          Item: {
            ...key,
            e: row.eventId,
            k: token,
            at: row.createdAt,
            expiresAt: expiresAtSeconds(row.createdAt, this.#o.ttlMs),
          },
          ConditionExpression: 'attribute_not_exists(sk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      reportCapacity(this.#o.ctx.capacity, 'write', out.ConsumedCapacity);
      return 'new';
    } catch (err) {
      if (awsErrorName(err) !== 'ConditionalCheckFailedException')
        throw translateAwsError(err, 'inbox group write');
      // A failed conditional write still costs its write unit.
      reportCapacity(this.#o.ctx.capacity, 'write', { TableName: this.#o.table, CapacityUnits: 1 });
      const old = (err as { Item?: Record<string, { S?: string }> }).Item;
      if (old?.e?.S !== undefined && old.k?.S !== undefined) return { eventId: old.e.S, token: old.k.S };
      const item = await batchGet(this.#o.ctx, 'inbox group read', this.#o.table, [key], ['e', 'k']);
      return { eventId: String(item[0]?.e ?? ''), token: String(item[0]?.k ?? '') };
    }
  }

  /** The actors an intent wrote: those of its ids whose item carries its token. */
  async #actorsOf(user: UserKey, groupKey: string, token: string, ids: readonly string[]): Promise<Shown[]> {
    const items = await batchGet(
      this.#o.ctx,
      'inbox group read',
      this.#o.table,
      ids.map((id) => ({ pk: actorsPk(user, groupKey), sk: id })),
      ['sk', 'k', 'at'],
    );
    return items
      .filter((item) => item.k === token)
      .map((item) => ({ actorId: item.sk as string, at: item.at as number }));
  }

  /**
   * Step 3: one transaction, on condition that the group is as read and the intents it removes are
   * still there. Undefined when the condition failed (read the group again and re-plan).
   */
  async #commit(
    user: UserKey,
    groupKey: string,
    group: GroupItem,
    plan: {
      intentName: string | undefined;
      adopt: readonly string[];
      added: number;
      joined: readonly InboxRow[];
      adoptedActors: readonly Shown[];
    },
  ): Promise<{ movedFrom: NotificationId | undefined } | undefined> {
    const { table, ttlMs, indexed } = this.#o;
    const removed = [...(plan.intentName === undefined ? [] : [plan.intentName]), ...plan.adopt];
    if (removed.length === 0 && plan.joined.length === 0) return { movedFrom: undefined };
    const names: Record<string, string> = {};
    removed.forEach((name, i) => {
      names[`#i${i}`] = name;
    });
    const removeClause = removed.length === 0 ? '' : ` REMOVE ${removed.map((_, i) => `#i${i}`).join(', ')}`;
    const existsClause = removed.map((_, i) => `attribute_exists(#i${i})`);
    const oldCount = group.n ?? 0;
    const oldRow = group.r;
    const noRow = plan.joined.length === 0 && (oldRow === undefined || plan.adoptedActors.length === 0);
    if (noRow) {
      // Intents to drop, and adopted actors to count when there is no row to show them on yet.
      const ok = await this.#transact([
        {
          Update: {
            TableName: table,
            Key: { pk: groupsPk(user), sk: groupKey },
            UpdateExpression: `SET #n = :n${removeClause}`,
            ConditionExpression: [...existsClause, countCondition(group)].join(' AND '),
            ExpressionAttributeNames: { ...names, '#n': 'n' },
            ExpressionAttributeValues: { ':n': oldCount + plan.added, ...countValues(group) },
          },
        },
      ]);
      return ok ? { movedFrom: undefined } : undefined;
    }
    const count = oldCount + plan.added;
    const shown = newestActors(
      (group.ga ?? []).map(([actorId, at]) => ({ actorId, at })),
      [...plan.joined.map((r) => ({ actorId: r.actorId, at: r.createdAt })), ...plan.adoptedActors],
    );
    const ga = shown.map((a) => [a.actorId, a.at]);
    let newest: InboxRow | undefined;
    for (const row of plan.joined) if (newest === undefined || row.id > newest.id) newest = row;
    const moves = newest !== undefined && (oldRow === undefined || newest.id > oldRow);
    const target = moves ? newest!.id : oldRow!;
    const items: TransactItems = [
      {
        Update: {
          TableName: table,
          Key: { pk: groupsPk(user), sk: groupKey },
          UpdateExpression: `SET #n = :n, #ga = :ga, #r = :r, #x = :x${removeClause}`,
          ConditionExpression: [...existsClause, countCondition(group), rowCondition(group)].join(' AND '),
          ExpressionAttributeNames: { ...names, '#n': 'n', '#ga': 'ga', '#r': 'r', '#x': 'expiresAt' },
          ExpressionAttributeValues: {
            ':n': count,
            ':ga': ga,
            ':r': target,
            ':x': expiresAtSeconds(ulidTime(target), ttlMs),
            ...countValues(group),
            ...rowValues(group),
          },
        },
      },
    ];
    if (moves) {
      items.push({
        Put: {
          TableName: table,
          Item: { ...rowItem({ ...newest!, read: false }, ttlMs, indexed), n: count, ga },
        },
      });
      if (oldRow !== undefined)
        items.push({ Delete: { TableName: table, Key: { pk: rowsPk(user), sk: oldRow } } });
    } else if (oldRow !== undefined) {
      items.push({
        Update: {
          TableName: table,
          Key: { pk: rowsPk(user), sk: oldRow },
          // New activity brings an archived item back (`ar` removed): unread and in All.
          UpdateExpression: indexed
            ? 'SET #n = :n, #ga = :ga, #rd = :f, #upk = :pk REMOVE #ar'
            : 'SET #n = :n, #ga = :ga, #rd = :f REMOVE #ar',
          ConditionExpression: 'attribute_exists(sk)',
          ExpressionAttributeNames: indexed
            ? { '#n': 'n', '#ga': 'ga', '#rd': 'r', '#upk': 'upk', '#ar': 'ar' }
            : { '#n': 'n', '#ga': 'ga', '#rd': 'r', '#ar': 'ar' },
          ExpressionAttributeValues: indexed
            ? { ':n': count, ':ga': ga, ':f': false, ':pk': rowsPk(user) }
            : { ':n': count, ':ga': ga, ':f': false },
        },
      });
    }
    const ok = await this.#transact(items);
    if (!ok) return undefined;
    return { movedFrom: oldRow };
  }

  async #transact(items: TransactItems): Promise<boolean> {
    return conditional('inbox group write', async () => {
      const out = await this.#o.ctx.documents.send(
        new TransactWriteCommand({ TransactItems: items, ReturnConsumedCapacity: 'TOTAL' }),
      );
      reportCapacity(this.#o.ctx.capacity, 'write', out.ConsumedCapacity);
    });
  }
}

/** The intents on a group: `p_<token>` attributes. */
function intentsOf(group: GroupItem): [string, Intent][] {
  return Object.entries(group).filter(([name]) => name.startsWith('p_')) as [string, Intent][];
}

function countCondition(group: GroupItem): string {
  return group.n === undefined ? 'attribute_not_exists(#n)' : '#n = :on';
}

function countValues(group: GroupItem): Item {
  return group.n === undefined ? {} : { ':on': group.n };
}

function rowCondition(group: GroupItem): string {
  return group.r === undefined ? 'attribute_not_exists(#r)' : '#r = :or';
}

function rowValues(group: GroupItem): Item {
  return group.r === undefined ? {} : { ':or': group.r };
}

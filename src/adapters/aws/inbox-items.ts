import { ValidationError } from '../../domain/errors.ts';
import { isUlid, ulidTime } from '../../domain/ids.ts';
import { userPartition } from '../../domain/keys.ts';
import { expiresAtSeconds } from '../../domain/ttl.ts';
import type { Category, InboxRow, NotificationId, UserKey } from '../../domain/types.ts';
import type { ReadMark } from '../../ports/inbox.ts';
import { requireText } from '../checks/input.ts';
import { parsePayload, payloadJson } from '../stored-payload.ts';
import type { Item } from './inbox-batch.ts';

/**
 * The inbox table's item layout. Two partitions per user, so nothing but rows ever sits in the
 * rows' key range (a page is one Query and needs no filter on item kind):
 *
 * - `tenant#user`, sk = notification id: a row. Short attribute names keep a row well under
 *   1 KB (one write unit): e eventId, t type, c category, a actorId, o objectId, d data (JSON),
 *   ca createdAt, r read, s 'c' for a caught-up celebrity pointer, `expiresAt` (the table's TTL
 *   attribute), `ar` (true while archived; an archived row is read), and in GSI mode `upk`
 *   (= pk) while unread, which is all the sparse `unread` index holds.
 * - `tenant#user#meta`, sk `state`: the user's catch-up mark, read watermark, seen watermark
 *   `sn` (inbox-marks.ts) and, in counter mode, unread counter (inbox-state.ts).
 * - An aggregated item's row also carries g (group key), n (distinct actors) and ga (the newest
 *   actors, `[[actor, at], …]`); its group lives at `tenant#user#grp` and its actors at
 *   `tenant#user#grp#<group key>` (inbox-groups.ts).
 *
 * User ids never contain `#`, so `tenant#user#meta` is never another user's `tenant#user`.
 */

/** Partition of a user's rows. */
export function rowsPk(user: UserKey): string {
  return userPartition(user);
}

/** Partition of a user's state item. */
export function metaPk(user: UserKey): string {
  return `${userPartition(user)}#meta`;
}

/** The row item for `row`; `indexed` adds the sparse GSI key while the row is unread. */
export function rowItem(row: InboxRow, ttlMs: number, indexed: boolean): Item {
  const pk = rowsPk(row);
  const item: Item = {
    pk,
    sk: row.id,
    e: row.eventId,
    t: row.type,
    c: row.category,
    a: row.actorId,
    ca: row.createdAt,
    r: row.read === true,
    expiresAt: expiresAtSeconds(row.createdAt, ttlMs),
  };
  if (row.objectId !== undefined && row.objectId !== null) item.o = row.objectId;
  const data = payloadJson(row.data);
  if (data !== null) item.d = data;
  if (row.source === 'celebrity') item.s = 'c';
  if (row.groupKey !== undefined) item.g = row.groupKey;
  if (indexed && row.read !== true) item.upk = pk;
  return item;
}

/** The row back from its item; tenant and user come from the caller's key. */
export function rowFromItem(user: UserKey, item: Item): InboxRow {
  const row: { -readonly [K in keyof InboxRow]: InboxRow[K] } = {
    tenantId: user.tenantId,
    userId: user.userId,
    id: item.sk as string,
    eventId: item.e as string,
    type: item.t as string,
    category: item.c as Category,
    actorId: item.a as string,
    createdAt: item.ca as number,
    read: item.r === true,
  };
  if (typeof item.o === 'string') row.objectId = item.o;
  const data = parsePayload(item.d);
  if (data !== undefined) row.data = data;
  if (item.s === 'c') row.source = 'celebrity';
  if (item.ar === true) row.archived = true;
  if (typeof item.g === 'string') {
    row.groupKey = item.g;
    const shown = Array.isArray(item.ga)
      ? (item.ga as [string, number][]).map(([actorId]) => actorId)
      : [row.actorId];
    row.group = { actors: shown, actorCount: typeof item.n === 'number' ? item.n : 1 };
  }
  return row;
}

/**
 * The smallest `expiresAt` a row newer than `afterId` can have, less one: a defensive filter in
 * case a row's createdAt and id time disagree. Undefined when `afterId` is no ULID.
 */
export function expiryFloor(afterId: NotificationId, ttlMs: number): number | undefined {
  return isUlid(afterId) ? Math.floor((ulidTime(afterId) + ttlMs) / 1000) : undefined;
}

/** Throws a ValidationError naming the first bad row; nothing is written before this passes. */
export function validateRows(rows: readonly InboxRow[]): void {
  rows.forEach((row, i) => {
    const bad = invalidRowField(row);
    if (bad !== undefined) {
      throw new ValidationError([{ path: `rows[${i}].${bad}`, message: 'is missing or invalid' }]);
    }
  });
}

function invalidRowField(row: InboxRow): string | undefined {
  if (typeof row !== 'object' || row === null) return 'row';
  for (const field of ['tenantId', 'userId', 'id'] as const) {
    if (typeof row[field] !== 'string' || row[field].length === 0) return field;
  }
  for (const field of ['eventId', 'type', 'category', 'actorId'] as const) {
    if (typeof row[field] !== 'string') return field;
  }
  if (typeof row.createdAt !== 'number' || !Number.isFinite(row.createdAt)) return 'createdAt';
  if (row.source !== undefined && row.source !== 'celebrity') return 'source';
  if (row.groupKey !== undefined && (typeof row.groupKey !== 'string' || row.groupKey.length === 0))
    return 'groupKey';
  return undefined;
}

/** Throws a ValidationError unless every mark has an id. */
export function validateMarks(marks: readonly ReadMark[]): void {
  marks.forEach((mark, i) => {
    requireText(mark?.id, `marks[${i}].id`);
  });
}

/** The first of each key, in order: a batch call rejects two requests for one key. */
export function distinctBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const k = key(item);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

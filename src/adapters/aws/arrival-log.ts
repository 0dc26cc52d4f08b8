import { ValidationError } from '../../domain/errors.ts';
import { isUlid, maxUlidAt, notificationId } from '../../domain/ids.ts';
import { expiresAtSeconds } from '../../domain/ttl.ts';
import type { CelebrityPointer, TenantId } from '../../domain/types.ts';
import type { ArrivalMark, ArrivalPage, PointerRef } from '../../ports/celebrity-feed.ts';
import type { Clock } from '../../ports/clock.ts';
import { batchPut, type DynamoContext, type Item, query } from './inbox-batch.ts';

/** What the arrival log needs besides its table. */
export interface ArrivalLogOptions {
  readonly clock: Clock;
  /** Entries younger than this may still land below ones already read (see ArrivalLog). */
  readonly settleMs: number;
  /** The pointers' TTL: entries older than it name expired pointers and are never read. */
  readonly ttlMs: number;
}

/** The random part of an entry's sort key derives from this marker and the pointer. */
const ARRIVAL = '#arrival';

/**
 * A tenant's celebrity arrival log on DynamoDB: one item per pointer written, in the feed's table
 * under pk `tenant#!arrivals` (`!` is outside the id alphabet, so no author's partition is ever
 * named so), sk = an arrival ULID (the writer's clock; its random part derives from the pointer,
 * so a retried write in the same millisecond writes the same item), `a` the author, `i` the
 * pointer id, `expiresAt` the pointer's. About 100 bytes each: a catch-up reads ~40 entries per
 * read unit (consistent).
 *
 * Writers' clocks differ and a write takes time, so an entry can land with a sort key below one
 * a reader has already read past. Nothing is lost for that: a mark keeps its lowest part `s` no
 * higher than `now - settleMs` (an entry older than that has landed), so every read re-reads the
 * entries above it. To skip those it handed out before, the mark also holds the highest entry
 * read `e` and how many entries lay in (s, e] then, `c`: if the count is the same now, nothing
 * landed late there and those entries are skipped; if not, they are all returned again (entries
 * may repeat; materialising is idempotent). A mark is `s`, or `s.e.c` while entries are settling.
 *
 * One partition per tenant: every catch-up reads it, so DynamoDB's 3,000 read units per second
 * per partition bound a tenant to about 3,000 catch-ups per second with nothing new (docs/
 * architecture.md, capacity).
 */
export class ArrivalLog {
  readonly #ctx: DynamoContext;
  readonly #table: string;
  readonly #o: ArrivalLogOptions;

  constructor(ctx: DynamoContext, table: string, opts: ArrivalLogOptions) {
    this.#ctx = ctx;
    this.#table = table;
    this.#o = opts;
  }

  /** One entry per pointer, after the pointers themselves are written (1 write unit each). */
  async append(pointers: readonly CelebrityPointer[]): Promise<void> {
    const now = this.#o.clock.now();
    await batchPut(
      this.#ctx,
      'celebrity arrival log write',
      this.#table,
      pointers.map((p) => ({
        pk: logPartition(p.tenantId),
        sk: notificationId(`${p.authorId}/${p.id}`, ARRIVAL, now),
        a: p.authorId,
        i: p.id,
        expiresAt: expiresAtSeconds(p.createdAt, this.#o.ttlMs),
      })),
    );
  }

  async read(tenantId: TenantId, after: ArrivalMark | undefined, limit: number): Promise<ArrivalPage> {
    const now = this.#o.clock.now();
    const floor = maxUlidAt(Math.max(0, now - this.#o.ttlMs));
    const cap = maxUlidAt(Math.max(0, now - this.#o.settleMs));
    const prev = after === undefined ? undefined : decodeMark(after);
    // A mark older than the live window starts at the window: what lies below names expired pointers.
    const lo = prev === undefined ? floor : later(prev.s, floor);
    const settling = prev !== undefined && prev.s === lo && prev.c > 0 ? prev : undefined;
    const { items, more } = await this.#above(tenantId, lo, limit + (settling?.c ?? 0));
    let fresh = items;
    if (settling !== undefined) {
      const window = items.filter((item) => (item.sk as string) <= settling.e);
      const covered = !more || (items.at(-1)!.sk as string) > settling.e;
      // Same entries in (s, e] as when they were handed out: none landed late, skip them.
      if (covered && window.length === settling.c) fresh = items.slice(window.length);
    }
    if (fresh.length === 0 && !more) {
      // Nothing to hand out: the mark stays as it is, so a read with nothing new writes nothing.
      return { entries: [], next: after ?? encodeMark(later(cap, lo), undefined, 0), more: false };
    }
    const top = items.at(-1)!.sk as string;
    const s = top <= cap ? top : later(cap, lo);
    const c = items.filter((item) => (item.sk as string) > s).length;
    return {
      entries: fresh.map(
        (item) => ({ authorId: item.a as string, id: item.i as string }) satisfies PointerRef,
      ),
      next: encodeMark(s, top, c),
      more,
    };
  }

  /** After everything written so far: the settled part, and the settling entries counted. */
  async tail(tenantId: TenantId): Promise<ArrivalMark> {
    const cap = maxUlidAt(Math.max(0, this.#o.clock.now() - this.#o.settleMs));
    const { items } = await this.#above(tenantId, cap, Number.POSITIVE_INFINITY);
    return encodeMark(cap, items.at(-1)?.sk as string | undefined, items.length);
  }

  /** Up to `max` entries with sort key above `lo`, oldest first; `more` when the range goes on. */
  async #above(tenantId: TenantId, lo: string, max: number): Promise<{ items: Item[]; more: boolean }> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const out = await query(this.#ctx, 'celebrity arrival log read', {
        TableName: this.#table,
        KeyConditionExpression: '#pk = :pk AND #sk > :lo',
        ProjectionExpression: '#sk, #a, #i',
        ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#a': 'a', '#i': 'i' },
        ExpressionAttributeValues: { ':pk': logPartition(tenantId), ':lo': lo },
        // A pointer whose put resolved must be seen by the next catch-up.
        ConsistentRead: true,
        ...(Number.isFinite(max) ? { Limit: max - items.length } : {}),
        ...(start === undefined ? {} : { ExclusiveStartKey: start }),
      });
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start !== undefined && items.length < max);
    return { items, more: start !== undefined };
  }
}

/** The arrival log's partition of a tenant. */
export function logPartition(tenantId: TenantId): string {
  return `${tenantId}#!arrivals`;
}

/** The later of two sort keys (ULIDs compare as strings). */
function later(a: string, b: string): string {
  return a > b ? a : b;
}

interface DecodedMark {
  readonly s: string;
  readonly e: string;
  readonly c: number;
}

function encodeMark(s: string, e: string | undefined, c: number): ArrivalMark {
  return e === undefined || c === 0 ? s : `${s}.${e}.${c}`;
}

function decodeMark(mark: ArrivalMark): DecodedMark {
  const [s, e, c] = typeof mark === 'string' ? mark.split('.') : [];
  const count = c === undefined ? 0 : Number(c);
  const valid =
    s !== undefined &&
    isUlid(s) &&
    (e === undefined ? c === undefined : isUlid(e) && e > s && Number.isSafeInteger(count) && count > 0);
  if (!valid) throw new ValidationError([{ path: 'after', message: 'is not an arrival mark of this feed' }]);
  return { s, e: e ?? s, c: count };
}

import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.ts';
import type { AuthorEvent } from '../../src/domain/types.ts';
import type { Clock } from '../../src/ports/clock.ts';
import { compareSequence, type EventLog, type LogRecord } from '../../src/ports/event-log.ts';
import { eventLogLookupContract } from './event-log-lookup.contract.ts';

/** A clock the suite can move; a harness passes one when it controls the log's arrival time. */
export interface SettableClock extends Clock {
  set(ms: number): void;
}

/** What a suite run needs: a fresh, empty log per test. */
export interface EventLogHarness {
  readonly log: EventLog;
  /** The clock behind `arrivedAt`, when the harness controls it (Kinesis stamps its own). */
  readonly clock?: SettableClock;
  close(): Promise<void>;
}

const decoder = new TextDecoder();

function event(tenantId: string, actorId: string, id: string, extra: Partial<AuthorEvent> = {}): AuthorEvent {
  return {
    tenantId,
    id,
    type: 'post',
    actorId,
    occurredAt: 1_700_000_000_000,
    acceptedAt: 1_700_000_000_000,
    ...extra,
  };
}

function decode(record: LogRecord): AuthorEvent {
  return JSON.parse(decoder.decode(record.data)) as AuthorEvent;
}

/** Every record of every shard, read in pages of `pageSize`, each page after the previous one. */
async function readEverything(log: EventLog, pageSize = 1000): Promise<Map<string, LogRecord[]>> {
  const byShard = new Map<string, LogRecord[]>();
  for (const shard of await log.listShards()) {
    const records: LogRecord[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await log.read(shard, after, pageSize);
      if (page.length === 0) break;
      records.push(...page);
      after = page[page.length - 1]!.sequenceNumber;
    }
    byShard.set(shard, records);
  }
  return byShard;
}

function allRecords(byShard: Map<string, LogRecord[]>): LogRecord[] {
  return [...byShard.values()].flat();
}

/**
 * The EventLog port's contract: what the fan-out relies on (per-author order, idempotent append,
 * reading every record exactly once from a checkpoint), run against every adapter.
 */
export function eventLogContract(name: string, make: () => Promise<EventLogHarness>): void {
  describe(`EventLog contract: ${name}`, () => {
    let h: EventLogHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    it('lists the same non-empty set of distinct shards every time', async () => {
      // Act
      const first = await h.log.listShards();
      const second = await h.log.listShards();
      // Assess
      expect(first.length).toBeGreaterThan(0);
      expect(new Set(first).size).toBe(first.length);
      expect(second).toEqual(first);
    });

    it('reads back an appended event as its JSON, under the tenant#author partition key', async () => {
      // Prepare
      h.clock?.set(1_800_000_000_000);
      const posted = event('t1', 'alice', 'e1', { objectId: 'post-1', data: { text: 'hi' } });
      // Act
      const [result] = await h.log.append([posted]);
      const records = await h.log.read(result!.shardId, undefined, 10);
      // Assess
      expect(result).toMatchObject({ eventId: 'e1', fresh: true });
      expect(records).toHaveLength(1);
      expect(records[0]!.sequenceNumber).toBe(result!.sequenceNumber);
      expect(records[0]!.partitionKey).toBe('t1#alice');
      expect(decode(records[0]!)).toEqual(posted);
      if (h.clock !== undefined) expect(records[0]!.arrivedAt).toBe(1_800_000_000_000);
      else expect(Number.isFinite(records[0]!.arrivedAt)).toBe(true);
    });

    it('keeps every author on one shard, in the order of acceptance, across calls', async () => {
      // Prepare: 12 authors, 8 events each, interleaved over 4 calls
      const authors = Array.from({ length: 12 }, (_, i) => `author-${i}`);
      const calls: AuthorEvent[][] = [[], [], [], []];
      for (let n = 0; n < 8; n++) {
        for (const author of authors)
          calls[Math.floor(n / 2)]!.push(event('t1', author, `${author}/${n}`, { data: { n } }));
      }
      // Act
      for (const batch of calls) await h.log.append(batch);
      const byShard = await readEverything(h.log, 5);
      // Assess
      for (const author of authors) {
        const shards = [...byShard].filter(([, records]) =>
          records.some((r) => r.partitionKey === `t1#${author}`),
        );
        expect(shards).toHaveLength(1);
        const order = shards[0]![1]
          .filter((r) => r.partitionKey === `t1#${author}`)
          .map((r) => decode(r).data!.n);
        expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      }
      expect(allRecords(byShard)).toHaveLength(96);
    });

    it('gives records strictly increasing sequence numbers within a shard', async () => {
      // Prepare
      const events = Array.from({ length: 40 }, (_, i) => event('t1', `a${i % 7}`, `e${i}`));
      // Act
      await h.log.append(events.slice(0, 20));
      await h.log.append(events.slice(20));
      const byShard = await readEverything(h.log);
      // Assess
      for (const records of byShard.values()) {
        for (let i = 1; i < records.length; i++) {
          expect(compareSequence(records[i - 1]!.sequenceNumber, records[i]!.sequenceNumber)).toBeLessThan(0);
        }
      }
    });

    it('returns where each event went, matching what a read finds there', async () => {
      // Act
      const results = await h.log.append([
        event('t1', 'a', 'e1'),
        event('t1', 'b', 'e2'),
        event('t1', 'a', 'e3'),
      ]);
      // Assess
      for (const result of results) {
        const records = await h.log.read(result.shardId, undefined, 100);
        const found = records.find((r) => r.sequenceNumber === result.sequenceNumber);
        expect(found && decode(found).id).toBe(result.eventId);
      }
      expect(results.map((r) => r.eventId)).toEqual(['e1', 'e2', 'e3']);
      expect(results[2]!.shardId).toBe(results[0]!.shardId);
    });

    it('appends an event id once per tenant and answers a repeat with the first result, not fresh', async () => {
      // Prepare
      const [first] = await h.log.append([event('t1', 'alice', 'e1', { data: { v: 1 } })]);
      // Act
      const [again] = await h.log.append([event('t1', 'alice', 'e1', { data: { v: 2 } })]);
      const [inSameCall, sameCallRepeat] = await h.log.append([
        event('t1', 'bob', 'e2'),
        event('t1', 'bob', 'e2'),
      ]);
      // Assess
      expect(again).toEqual({ ...first, fresh: false });
      expect(inSameCall!.fresh).toBe(true);
      expect(sameCallRepeat).toEqual({ ...inSameCall, fresh: false });
      const records = allRecords(await readEverything(h.log));
      expect(records.map((r) => decode(r).id).sort()).toEqual(['e1', 'e2']);
      expect(decode(records.find((r) => decode(r).id === 'e1')!).data).toEqual({ v: 1 });
    });

    it('keeps the same event id of two tenants apart', async () => {
      // Act
      const [a] = await h.log.append([event('t1', 'alice', 'e1')]);
      const [b] = await h.log.append([event('t2', 'alice', 'e1')]);
      // Assess
      expect(a!.fresh).toBe(true);
      expect(b!.fresh).toBe(true);
      const keys = allRecords(await readEverything(h.log)).map((r) => r.partitionKey);
      expect(keys.sort()).toEqual(['t1#alice', 't2#alice']);
    });

    it('reads strictly after a sequence number', async () => {
      // Prepare
      const results = await h.log.append(Array.from({ length: 6 }, (_, i) => event('t1', 'alice', `e${i}`)));
      const shard = results[0]!.shardId;
      // Act
      const rest = await h.log.read(shard, results[2]!.sequenceNumber, 100);
      const limited = await h.log.read(shard, results[2]!.sequenceNumber, 2);
      const past = await h.log.read(shard, results[5]!.sequenceNumber, 100);
      // Assess
      expect(rest.map((r) => decode(r).id)).toEqual(['e3', 'e4', 'e5']);
      expect(limited.map((r) => decode(r).id)).toEqual(['e3', 'e4']);
      expect(past).toEqual([]);
    });

    it('reads every event exactly once across pages of any size', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 30 }),
          fc.integer({ min: 1, max: 7 }),
          async (authorOfEach, pageSize) => {
            // Prepare: a tenant of its own per run, so earlier runs do not interfere
            const tenant = `run-${run++}`;
            const ids = authorOfEach.map((_, i) => `e${i}`);
            // Act
            await h.log.append(authorOfEach.map((a, i) => event(tenant, `a${a}`, ids[i]!)));
            const records = allRecords(await readEverything(h.log, pageSize));
            // Assess
            const seen = records
              .filter((r) => r.partitionKey.startsWith(`${tenant}#`))
              .map((r) => decode(r).id);
            expect(seen.sort()).toEqual([...ids].sort());
          },
        ),
        { numRuns: 25 },
      );
    });

    it('reports the newest sequence number of each shard, and none for an empty shard', async () => {
      // Prepare
      const shards = await h.log.listShards();
      const before = await Promise.all(shards.map((s) => h.log.latestSequence(s)));
      // Act
      const results = await h.log.append(Array.from({ length: 10 }, (_, i) => event('t1', `a${i}`, `e${i}`)));
      // Assess
      expect(before.every((s) => s === undefined)).toBe(true);
      for (const shard of shards) {
        const records = await h.log.read(shard, undefined, 100);
        const latest = await h.log.latestSequence(shard);
        expect(latest).toBe(records.at(-1)?.sequenceNumber);
      }
      const touched = new Set(results.map((r) => r.shardId));
      for (const shard of touched) expect(await h.log.latestSequence(shard)).toBeDefined();
    });

    it('resolves an empty append with no results', async () => {
      // Act
      const results = await h.log.append([]);
      // Assess
      expect(results).toEqual([]);
    });

    it('rejects a batch holding an invalid event and stores none of it', async () => {
      // Prepare
      const bad = { ...event('t1', 'alice', 'e2'), actorId: '' };
      // Act
      const appending = h.log.append([event('t1', 'alice', 'e1'), bad]);
      // Assess
      await expect(appending).rejects.toBeInstanceOf(ValidationError);
      expect(allRecords(await readEverything(h.log))).toEqual([]);
    });

    it('rejects a read of a shard it does not have, or with a limit below one', async () => {
      // Prepare
      const [shard] = await h.log.listShards();
      // Act / Assess
      await expect(h.log.read('shardId-999999999999', undefined, 10)).rejects.toBeInstanceOf(ValidationError);
      await expect(h.log.read(shard!, undefined, 0)).rejects.toBeInstanceOf(ValidationError);
    });
  });
  eventLogLookupContract(name, make);
}

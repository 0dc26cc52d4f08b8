import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedEventLog } from '../../src/adapters/embedded/event-log.ts';
import { ValidationError } from '../../src/domain/errors.ts';
import { decodeEvent } from '../../src/domain/event.ts';
import type { AuthorEvent } from '../../src/domain/types.ts';
import { type IngestDeps, ingestEvents } from '../../src/handlers/ingest.ts';
import type { EventLog } from '../../src/ports/event-log.ts';

const NOW = Date.UTC(2026, 4, 1, 12);
const DAY = 24 * 60 * 60 * 1000;

const dbs: EmbeddedDb[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) db.close();
});

function deps(): IngestDeps & { log: EventLog } {
  const db = new EmbeddedDb({ path: ':memory:' });
  dbs.push(db);
  const clock = { now: () => NOW };
  return { log: new EmbeddedEventLog({ db, clock }), clock };
}

/** Every event in the log, shard by shard. */
async function logged(log: EventLog): Promise<AuthorEvent[]> {
  const events: AuthorEvent[] = [];
  for (const shard of await log.listShards()) {
    for (const record of await log.read(shard, undefined, 1000)) events.push(decodeEvent(record.data));
  }
  return events;
}

async function validationIssues(
  promise: Promise<unknown>,
): Promise<readonly { path: string; message: string }[]> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  return (err as ValidationError).issues;
}

describe('ingestEvents', () => {
  it('appends valid events of the tenant, stamped with the time they were accepted', async () => {
    // Prepare
    const d = deps();
    // Act
    const results = await ingestEvents(
      'acme',
      [
        { id: 'e1', type: 'post', actorId: 'alice', data: { text: 'hi' } },
        {
          id: 'e2',
          type: 'like',
          actorId: 'bob',
          objectId: 'post-1',
          recipients: ['alice', 'bob'],
          occurredAt: NOW - DAY,
        },
      ],
      d,
    );
    // Assess
    expect(results.map((r) => [r.eventId, r.fresh])).toEqual([
      ['e1', true],
      ['e2', true],
    ]);
    const events = await logged(d.log);
    expect(events.find((e) => e.id === 'e1')).toEqual({
      tenantId: 'acme',
      id: 'e1',
      type: 'post',
      actorId: 'alice',
      data: { text: 'hi' },
      occurredAt: NOW,
      acceptedAt: NOW,
    });
    // The actor is never an explicit recipient of their own event.
    expect(events.find((e) => e.id === 'e2')).toMatchObject({ recipients: ['alice'], occurredAt: NOW - DAY });
  });

  it('lists every problem of every body with its index, and appends nothing', async () => {
    // Prepare
    const d = deps();
    const bodies = [
      { id: 'ok-1', type: 'post', actorId: 'alice' },
      { id: '', type: 'Post', actorId: 'bob' },
      { id: 'ok-2', type: 'post', actorId: 'carol' },
      { id: 'e4', type: 'like', actorId: 'dave', recipients: ['fine', 'not valid'], surprise: true },
      'not an object',
    ];
    // Act
    const issues = await validationIssues(ingestEvents('acme', bodies, d));
    // Assess
    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining(['[1].id', '[1].type', '[3].recipients[1]', '[3].surprise', '[4].body']),
    );
    expect(paths.every((p) => /^\[[134]\]/.test(p))).toBe(true);
    expect(await logged(d.log)).toEqual([]);
  });

  it('names a problem of a single body without an index', async () => {
    // Prepare
    const d = deps();
    // Act
    const issues = await validationIssues(ingestEvents('acme', [{ id: 'e1', type: 'post' }], d));
    // Assess
    expect(issues.map((i) => i.path)).toEqual(['actorId']);
    expect(await logged(d.log)).toEqual([]);
  });

  it('rejects an event older than the inbox retention or too far in the future', async () => {
    // Prepare
    const d = deps();
    const bodies = [
      { id: 'old', type: 'post', actorId: 'alice', occurredAt: NOW - 91 * DAY },
      { id: 'future', type: 'post', actorId: 'alice', occurredAt: new Date(NOW + DAY).toISOString() },
    ];
    // Act
    const issues = await validationIssues(ingestEvents('acme', bodies, d));
    // Assess
    expect(issues.map((i) => i.path)).toEqual(['[0].occurredAt', '[1].occurredAt']);
    expect(await logged(d.log)).toEqual([]);
  });

  it('answers the same id again with the first result, not fresh, and appends it once', async () => {
    // Prepare
    const d = deps();
    const [first] = await ingestEvents('acme', [{ id: 'e1', type: 'post', actorId: 'alice' }], d);
    // Act
    const [again] = await ingestEvents(
      'acme',
      [{ id: 'e1', type: 'post', actorId: 'alice', data: { v: 2 } }],
      d,
    );
    const [otherTenant] = await ingestEvents('globex', [{ id: 'e1', type: 'post', actorId: 'alice' }], d);
    // Assess
    expect(first!.fresh).toBe(true);
    expect(again).toEqual({ ...first, fresh: false });
    expect(otherTenant!.fresh).toBe(true);
    const events = await logged(d.log);
    expect(events.filter((e) => e.tenantId === 'acme')).toHaveLength(1);
    expect(events.find((e) => e.tenantId === 'acme')!.data).toBeUndefined();
  });

  it('rejects an invalid tenant id before appending anything', async () => {
    // Prepare
    const d = deps();
    // Act
    const issues = await validationIssues(
      ingestEvents('bad tenant', [{ id: 'e1', type: 'post', actorId: 'a' }], d),
    );
    // Assess
    expect(issues.map((i) => i.path)).toEqual(['tenantId']);
    expect(await logged(d.log)).toEqual([]);
  });

  it('accepts an empty list and appends nothing', async () => {
    // Prepare
    const d = deps();
    // Act
    const results = await ingestEvents('acme', [], d);
    // Assess
    expect(results).toEqual([]);
    expect(await logged(d.log)).toEqual([]);
  });
});

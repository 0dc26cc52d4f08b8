import { describe, expect, it } from 'vitest';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedEventLog } from '../../src/adapters/embedded/event-log.ts';
import { GroupCommitEventLog } from '../../src/adapters/embedded/group-commit-log.ts';
import { ValidationError } from '../../src/domain/errors.ts';
import type { AuthorEvent } from '../../src/domain/types.ts';
import type { EventLog } from '../../src/ports/event-log.ts';
import { eventLogContract } from '../contracts/event-log.contract.ts';

eventLogContract('embedded, group commit', async () => {
  const db = new EmbeddedDb({ path: ':memory:' });
  return {
    log: new GroupCommitEventLog(new EmbeddedEventLog({ db })),
    async close() {
      db.close();
    },
  };
});

const T = 1_700_000_000_000;
function event(actorId: string, id: string): AuthorEvent {
  return { tenantId: 't1', id, type: 'post', actorId, occurredAt: T, acceptedAt: T };
}

/** The embedded log, counting the appends (commits) it is asked for. */
function counted(): { log: EventLog; commits: () => number; db: EmbeddedDb } {
  const db = new EmbeddedDb({ path: ':memory:' });
  const inner = new EmbeddedEventLog({ db, shards: 1 });
  let commits = 0;
  const log: EventLog = {
    append: (events) => {
      commits++;
      return inner.append(events);
    },
    listShards: () => inner.listShards(),
    read: (s, a, l) => inner.read(s, a, l),
    latestSequence: (s) => inner.latestSequence(s),
    lookup: (t, id) => inner.lookup(t, id),
  };
  return { log, commits: () => commits, db };
}

describe('GroupCommitEventLog', () => {
  it('writes appends made together in one commit, answering each caller with its own results, in call order', async () => {
    // Prepare
    const { log, commits, db } = counted();
    const grouped = new GroupCommitEventLog(log);
    // Act: 50 callers at once, as 50 HTTP requests would
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => grouped.append([event('alice', `e${i}`)])),
    );
    // Assess
    expect(commits()).toBe(1);
    expect(results.map((r) => r[0]!.eventId)).toEqual(Array.from({ length: 50 }, (_, i) => `e${i}`));
    const [shard] = await grouped.listShards();
    const stored = await grouped.read(shard!, undefined, 100);
    expect(stored.map((r) => JSON.parse(Buffer.from(r.data).toString()).id)).toEqual(
      results.map((r) => r[0]!.eventId),
    );
    db.close();
  });

  it('keeps commits within maxEvents', async () => {
    // Prepare
    const { log, commits, db } = counted();
    const grouped = new GroupCommitEventLog(log, { maxEvents: 10 });
    // Act
    await Promise.all(Array.from({ length: 25 }, (_, i) => grouped.append([event('bob', `b${i}`)])));
    // Assess
    expect(commits()).toBe(3);
    db.close();
  });

  it("fails only the caller whose event the log refuses, and still commits the others'", async () => {
    // Prepare
    const { log, db } = counted();
    const grouped = new GroupCommitEventLog(log);
    const broken = { ...event('carol', 'bad'), actorId: '' };
    // Act
    const [good1, bad, good2] = await Promise.allSettled([
      grouped.append([event('carol', 'c1')]),
      grouped.append([broken]),
      grouped.append([event('carol', 'c2')]),
    ]);
    // Assess
    expect(good1.status).toBe('fulfilled');
    expect(good2.status).toBe('fulfilled');
    expect(bad.status).toBe('rejected');
    expect((bad as PromiseRejectedResult).reason).toBeInstanceOf(ValidationError);
    const [shard] = await grouped.listShards();
    expect(await grouped.read(shard!, undefined, 10)).toHaveLength(2);
    db.close();
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { minUlidAt, notificationId, POINTER_RECIPIENT } from '../../src/domain/ids.ts';
import { INBOX_TTL_MS } from '../../src/domain/ttl.ts';
import {
  type AuthorEvent,
  type DeliveryJob,
  type InboxRow,
  Outcome,
  type UserKey,
} from '../../src/domain/types.ts';
import { fanOut } from '../../src/handlers/fanout.ts';
import { readInbox, unreadCount } from '../../src/handlers/inbox.ts';
import { consumePush } from '../../src/handlers/push-consumer.ts';
import type { DeliveryQueue } from '../../src/ports/delivery-queue.ts';
import type { FollowerPageOptions } from '../../src/ports/follower-graph.ts';
import type { Inbox } from '../../src/ports/inbox.ts';
import { kinesisEvent, sequence } from '../support/events.ts';
import {
  auditRecords,
  closeWorlds,
  consenting,
  drain,
  registerDevices,
  type World,
  world,
} from '../support/world.ts';

const NOW = Date.UTC(2026, 4, 1, 12);
const DAY = 24 * 60 * 60 * 1000;
const NONE_EXPIRED = minUlidAt(0);
const T = 'acme';

afterEach(closeWorlds);

function authorEvent(id: string, actorId: string, extra: Partial<AuthorEvent> = {}): AuthorEvent {
  return { tenantId: T, id, type: 'post', actorId, occurredAt: NOW - 1000, acceptedAt: NOW - 1000, ...extra };
}

function user(userId: string): UserKey {
  return { tenantId: T, userId };
}

function names(prefix: string, n: number, from = 0): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${from + i}`);
}

async function follow(
  w: World,
  authorId: string,
  followers: readonly string[],
  alerts?: boolean,
): Promise<void> {
  await w.graph.follow(
    followers.map((followerId) => ({
      tenantId: T,
      authorId,
      followerId,
      ...(alerts === undefined ? {} : { alerts }),
    })),
  );
}

async function rowsOf(w: World, userId: string): Promise<InboxRow[]> {
  return w.inbox.page(user(userId), { limit: 100, afterId: NONE_EXPIRED });
}

/** Every job in the queue, received once and then made visible again. */
async function jobsIn(queue: DeliveryQueue): Promise<DeliveryJob[]> {
  const messages = await queue.receive({ max: 10_000, visibilityTimeoutMs: 60_000 });
  for (const m of messages) await queue.changeVisibility(m.receiptHandle, 0);
  return messages.map((m) => JSON.parse(m.body) as DeliveryJob);
}

/** The same object with one method observed before it runs; private fields keep working. */
function observe<T extends object>(target: T, method: keyof T, before: (...args: never[]) => void): T {
  return new Proxy(target, {
    get(t, prop) {
      const value = Reflect.get(t, prop, t);
      if (typeof value !== 'function') return value;
      const bound = value.bind(t);
      if (prop !== method) return bound;
      return (...args: never[]) => {
        before(...args);
        return bound(...args);
      };
    },
  });
}

/** Event ids of every item of a user's merged inbox, newest first, across every page. */
async function mergedEventIds(w: World, userId: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await readInbox(user(userId), { limit: 50, ...(cursor ? { cursor } : {}) }, w.inboxDeps());
    ids.push(...page.items.map((i) => i.eventId));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return ids;
}

describe('fanOut: order and idempotence', () => {
  it('writes rows and jobs of each author in the order the events were accepted, across batches', async () => {
    // Prepare: occurredAt deliberately out of order, so only acceptance order can explain the result
    const w = world({ now: NOW });
    await follow(w, 'alice', ['f1', 'f2']);
    await follow(w, 'bob', ['f1']);
    const accepted = [
      authorEvent('a0', 'alice', { occurredAt: NOW - 10 }),
      authorEvent('b0', 'bob', { occurredAt: NOW - 90 }),
      authorEvent('a1', 'alice', { occurredAt: NOW - 50 }),
      authorEvent('a2', 'alice', { occurredAt: NOW - 30 }),
      authorEvent('b1', 'bob', { occurredAt: NOW - 5 }),
      authorEvent('a3', 'alice', { occurredAt: NOW - 70 }),
    ];
    const rowWrites: string[] = [];
    const jobWrites: string[] = [];
    const inbox = observe(w.inbox, 'putMany', (rows: readonly InboxRow[]) => {
      rowWrites.push(...new Set(rows.map((r) => r.eventId)));
    });
    const push = observe(w.queues.push, 'sendBatch', (jobs: readonly DeliveryJob[]) => {
      jobWrites.push(...new Set(jobs.map((j) => j.eventId)));
    });
    const deps = w.fanoutDeps({ inbox, queues: { ...w.queues, push } });
    // Act: three batches, as the shard hands them out
    const responses = [];
    for (let i = 0; i < accepted.length; i += 2) {
      const batch = accepted
        .slice(i, i + 2)
        .map((event, j) => ({ event, sequenceNumber: sequence(i + j + 1) }));
      responses.push(await fanOut(kinesisEvent(batch), deps));
    }
    // Assess
    expect(responses.every((r) => r.batchItemFailures.length === 0)).toBe(true);
    const ofAuthor = (writes: string[], prefix: string) => writes.filter((id) => id.startsWith(prefix));
    expect(ofAuthor(rowWrites, 'a')).toEqual(['a0', 'a1', 'a2', 'a3']);
    expect(ofAuthor(rowWrites, 'b')).toEqual(['b0', 'b1']);
    expect(ofAuthor(jobWrites, 'a')).toEqual(['a0', 'a1', 'a2', 'a3']);
    expect(ofAuthor(jobWrites, 'b')).toEqual(['b0', 'b1']);
    expect((await rowsOf(w, 'f1')).map((r) => r.eventId).sort()).toEqual([
      'a0',
      'a1',
      'a2',
      'a3',
      'b0',
      'b1',
    ]);
  });

  it('writes no second row for a re-delivered batch, and the consumer sends each (notification, device) once', async () => {
    // Prepare: 'comment' goes to push and email; a page size of 2 spreads followers over pages
    const w = world({ now: NOW, pageSize: 2 });
    const followers = names('f', 5);
    await follow(w, 'alice', followers);
    await w.preferences.putMany(followers.map((f) => consenting(user(f))));
    await registerDevices(w, followers.map(user));
    const batch = kinesisEvent([
      { event: authorEvent('c1', 'alice', { type: 'comment' }) },
      { event: authorEvent('c2', 'alice', { type: 'comment', occurredAt: NOW - 500 }) },
    ]);
    // Act
    const first = await fanOut(batch, w.fanoutDeps());
    const again = await fanOut(batch, w.fanoutDeps());
    const queued = await w.queues.push.depth();
    await drain(w, w.queues.push, (event) => consumePush(event, w.pushDeps()));
    // Assess
    expect(first.batchItemFailures).toEqual([]);
    expect(again.batchItemFailures).toEqual([]);
    for (const f of followers)
      expect((await rowsOf(w, f)).map((r) => r.eventId).sort()).toEqual(['c1', 'c2']);
    // The hazard is real: every job was queued twice; only the dedup store stands between it and the device.
    expect(queued.visible).toBe(2 * 2 * followers.length);
    expect(await w.pushSink.stats()).toEqual({ sends: 10, unique: 10, ambiguousResends: 0, duplicates: 0 });
    const outcomes = (await auditRecords(w)).filter((r) => r.channel === 'push').map((r) => r.outcome);
    expect(outcomes.filter((o) => o === Outcome.Sent)).toHaveLength(10);
    expect(outcomes.filter((o) => o === Outcome.Duplicate)).toHaveLength(10);
  });

  it('skips an undecodable record, logging ids only, and fans out the rest', async () => {
    // Prepare
    const w = world({ now: NOW });
    await follow(w, 'alice', ['f1']);
    const batch = kinesisEvent([
      { event: authorEvent('e1', 'alice') },
      { raw: '{"secret":"do-not-log"}' },
      { raw: new Uint8Array([0xff, 0xfe, 0x00]) },
      { event: authorEvent('e2', 'alice', { occurredAt: NOW - 500 }) },
    ]);
    // Act
    const response = await fanOut(batch, w.fanoutDeps());
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect((await rowsOf(w, 'f1')).map((r) => r.eventId)).toEqual(['e2', 'e1']);
    const skipped = w.logger.lines.filter((l) => l.message === 'undecodable event record skipped');
    expect(skipped.map((l) => l.attributes.sequenceNumber)).toEqual([sequence(2), sequence(3)]);
    expect(JSON.stringify(w.logger.lines)).not.toContain('do-not-log');
  });

  it('reports the record whose store write failed and touches nothing after it; the retry completes', async () => {
    // Prepare: the inbox fails on e2's rows only
    const w = world({ now: NOW });
    await follow(w, 'alice', ['f1', 'f2']);
    await follow(w, 'bob', ['f1']);
    let down = true;
    const flaky: Inbox = observe(w.inbox, 'putMany', (rows: readonly InboxRow[]) => {
      if (down && rows.some((r) => r.eventId === 'e2')) throw new StoreUnavailableError('inbox write failed');
    });
    const events = [
      authorEvent('e1', 'alice', { occurredAt: NOW - 30 }),
      authorEvent('e2', 'alice', { occurredAt: NOW - 20 }),
      authorEvent('e3', 'bob', { occurredAt: NOW - 10 }),
    ];
    // Act
    const response = await fanOut(
      kinesisEvent(events.map((event) => ({ event }))),
      w.fanoutDeps({ inbox: flaky }),
    );
    const afterFailure = (await rowsOf(w, 'f1')).map((r) => r.eventId);
    const jobsAfterFailure = (await jobsIn(w.queues.push)).map((j) => j.eventId);
    down = false;
    // Lambda retries from the reported record on.
    const retry = kinesisEvent(
      events.slice(1).map((event, i) => ({ event, sequenceNumber: sequence(i + 2) })),
    );
    const retried = await fanOut(retry, w.fanoutDeps({ inbox: flaky }));
    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: sequence(2) }]);
    expect(afterFailure).toEqual(['e1']);
    expect(jobsAfterFailure.sort()).toEqual(['e1', 'e1']);
    expect(retried.batchItemFailures).toEqual([]);
    expect((await rowsOf(w, 'f1')).map((r) => r.eventId)).toEqual(['e3', 'e2', 'e1']);
    expect((await rowsOf(w, 'f2')).map((r) => r.eventId)).toEqual(['e2', 'e1']);
  });
});

describe('fanOut: audiences', () => {
  it('writes ONE pointer for a celebrity’s event and push jobs only for followers who asked for alerts', async () => {
    // Prepare
    const w = world({ now: NOW, tierPolicy: { threshold: 5, hysteresis: 0.2 }, pageSize: 2 });
    const quiet = names('quiet-', 4);
    const loud = names('loud-', 2);
    await follow(w, 'star', quiet, false);
    await follow(w, 'star', loud, true);
    const event = authorEvent('p1', 'star');
    // Act
    const response = await fanOut(kinesisEvent([{ event }]), w.fanoutDeps());
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect((await w.graph.tier(user('star')))?.tier).toBe('celebrity');
    const pointers = await w.feed.page(user('star'), { limit: 10, afterId: NONE_EXPIRED });
    expect(pointers.map((p) => p.eventId)).toEqual(['p1']);
    for (const f of [...quiet, ...loud]) expect(await rowsOf(w, f)).toEqual([]);
    const jobs = await jobsIn(w.queues.push);
    expect(jobs.map((j) => j.userId).sort()).toEqual([...loud].sort());
    expect(
      jobs.every((j) => j.notificationId === notificationId('p1', POINTER_RECIPIENT, event.occurredAt)),
    ).toBe(true);
    expect((await w.queues.email.depth()).visible).toBe(0);
    expect(await mergedEventIds(w, 'quiet-0')).toEqual(['p1']);
  });

  it('gives explicit recipients a row and jobs, once, whether the author is regular or a celebrity', async () => {
    // Prepare: bob follows alice and is also named as a recipient
    const w = world({ now: NOW, tierPolicy: { threshold: 3, hysteresis: 0.1 } });
    await follow(w, 'alice', ['bob']);
    await follow(w, 'star', names('fan-', 3));
    const fromRegular = authorEvent('like-1', 'alice', {
      type: 'like',
      recipients: ['owner', 'bob', 'alice'],
    });
    const fromCelebrity = authorEvent('cmt-1', 'star', {
      type: 'comment',
      recipients: ['owner'],
      occurredAt: NOW - 10,
    });
    // Act
    const response = await fanOut(
      kinesisEvent([{ event: fromRegular }, { event: fromCelebrity }]),
      w.fanoutDeps(),
    );
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect((await rowsOf(w, 'owner')).map((r) => r.eventId)).toEqual(['cmt-1', 'like-1']);
    expect((await rowsOf(w, 'bob')).map((r) => r.eventId)).toEqual(['like-1']);
    expect(await rowsOf(w, 'alice')).toEqual([]);
    expect(await rowsOf(w, 'fan-0')).toEqual([]);
    const push = (await jobsIn(w.queues.push)).map((j) => `${j.eventId}:${j.userId}`);
    expect(push.sort()).toEqual(['cmt-1:owner', 'like-1:bob', 'like-1:owner']);
    const email = (await jobsIn(w.queues.email)).map((j) => `${j.eventId}:${j.userId}`);
    expect(email).toEqual(['cmt-1:owner']);
  });

  it("pages a regular author's followers as recent reads, and no page for an author nobody follows", async () => {
    // Prepare: alice has followers, the liker has none
    const w = world({ now: NOW });
    await follow(w, 'alice', ['bob', 'carol']);
    const pages: { author: string; freshness: string | undefined }[] = [];
    const graph = observe(w.graph, 'pageFollowers', (author: UserKey, opts?: FollowerPageOptions) => {
      pages.push({ author: author.userId, freshness: opts?.freshness });
    });
    const post = authorEvent('post-1', 'alice');
    const like = authorEvent('like-1', 'liker', { type: 'like', recipients: ['bob'], occurredAt: NOW - 10 });
    // Act
    const response = await fanOut(kinesisEvent([{ event: post }, { event: like }]), w.fanoutDeps({ graph }));
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(pages).toEqual([{ author: 'alice', freshness: 'recent' }]);
    expect((await rowsOf(w, 'bob')).map((r) => r.eventId).sort()).toEqual(['like-1', 'post-1']);
    expect((await rowsOf(w, 'carol')).map((r) => r.eventId)).toEqual(['post-1']);
  });

  it("shows a celebrity's event once to a follower who is also named as a recipient", async () => {
    // Prepare: fan-0 follows the celebrity and is mentioned by it; owner is mentioned and does not follow
    const w = world({ now: NOW, tierPolicy: { threshold: 3, hysteresis: 0.1 } });
    await follow(w, 'star', names('fan-', 3));
    const mention = authorEvent('mention-1', 'star', { type: 'mention', recipients: ['fan-0', 'owner'] });
    // Act: the batch twice, as a retry would deliver it
    await fanOut(kinesisEvent([{ event: mention }]), w.fanoutDeps());
    await fanOut(kinesisEvent([{ event: mention }]), w.fanoutDeps());
    // Assess: a row as well as the merged pointer would show the mention twice and count it twice
    expect(await mergedEventIds(w, 'fan-0')).toEqual(['mention-1']);
    expect(await unreadCount(user('fan-0'), w.inboxDeps())).toBe(1);
    expect(await mergedEventIds(w, 'owner')).toEqual(['mention-1']);
    const pointer = notificationId('mention-1', POINTER_RECIPIENT, mention.occurredAt);
    const jobs = (await jobsIn(w.queues.push)).filter((j) => j.userId === 'fan-0');
    expect(jobs.map((j) => j.notificationId)).toEqual([pointer, pointer]);
  });

  it("writes no tier state for a regular author's posts, and the first state when one crosses the line", async () => {
    // Prepare
    const w = world({ now: NOW, tierPolicy: { threshold: 3, hysteresis: 0.1 } });
    await follow(w, 'author', ['f1', 'f2']);
    // Act
    await fanOut(
      kinesisEvent([
        { event: authorEvent('E1', 'author', { occurredAt: NOW - 2000 }), sequenceNumber: sequence(1) },
      ]),
      w.fanoutDeps(),
    );
    const before = await w.graph.tier(user('author'));
    await follow(w, 'author', ['f3']);
    await fanOut(
      kinesisEvent([
        { event: authorEvent('E2', 'author', { occurredAt: NOW - 1000 }), sequenceNumber: sequence(2) },
      ]),
      w.fanoutDeps(),
    );
    // Assess
    expect(before).toBeUndefined();
    expect(await mergedEventIds(w, 'f1')).toEqual(['E2', 'E1']);
    expect((await w.graph.tier(user('author')))?.tier).toBe('celebrity');
  });

  it('loses and duplicates nothing while an author oscillates around the celebrity threshold', async () => {
    // Prepare: the default policy (10,000 followers, demotion below 9,000)
    const w = world({ now: NOW });
    const all = names('f', 10_000);
    const core = all.slice(0, 8_900);
    const leavers = all.slice(8_900);
    await follow(w, 'author', all);
    const steps: {
      readonly event: AuthorEvent;
      readonly before?: () => Promise<void>;
      readonly tier: string;
    }[] = [
      { event: authorEvent('E1', 'author', { occurredAt: NOW - 4000 }), tier: 'celebrity' },
      {
        event: authorEvent('E2', 'author', { occurredAt: NOW - 3000 }),
        before: () =>
          w.graph.unfollow(all.slice(9_500).map((f) => ({ tenantId: T, authorId: 'author', followerId: f }))),
        tier: 'celebrity',
      },
      {
        event: authorEvent('E3', 'author', { occurredAt: NOW - 2000 }),
        before: () =>
          w.graph.unfollow(
            all.slice(8_900, 9_500).map((f) => ({ tenantId: T, authorId: 'author', followerId: f })),
          ),
        tier: 'regular',
      },
      {
        event: authorEvent('E4', 'author', { occurredAt: NOW - 1000 }),
        before: () => follow(w, 'author', leavers),
        tier: 'celebrity',
      },
    ];
    const counts: number[] = [];
    const tiers: (string | undefined)[] = [];
    // Act: each post fanned out, then every batch so far re-delivered (a replay across tier changes)
    for (const [n, step] of steps.entries()) {
      await step.before?.();
      counts.push(await w.graph.followerCount(user('author')));
      await fanOut(kinesisEvent([{ event: step.event, sequenceNumber: sequence(n + 1) }]), w.fanoutDeps());
      tiers.push((await w.graph.tier(user('author')))?.tier);
      const replay = steps
        .slice(0, n + 1)
        .map((s, i) => ({ event: s.event, sequenceNumber: sequence(i + 1) }));
      expect((await fanOut(kinesisEvent(replay), w.fanoutDeps())).batchItemFailures).toEqual([]);
    }
    // Assess
    expect(counts).toEqual([10_000, 9_500, 8_900, 10_000]);
    expect(tiers).toEqual(steps.map((s) => s.tier));
    expect(
      (await w.feed.page(user('author'), { limit: 10, afterId: NONE_EXPIRED })).map((p) => p.eventId),
    ).toEqual(['E4', 'E2', 'E1']);
    for (const f of core) expect(await mergedEventIds(w, f)).toEqual(['E4', 'E3', 'E2', 'E1']);
    // Those who left and came back: E3 went out while they did not follow, but its replay (after
    // they followed again) reaches them; whatever they see, they see once, newest first.
    for (const f of leavers) {
      const seen = await mergedEventIds(w, f);
      expect(seen).toEqual([...new Set(seen)]);
      expect(seen.filter((e) => e !== 'E3')).toEqual(['E4', 'E2', 'E1']);
    }
  });
});

describe('fanOut and the 90-day TTL', () => {
  it('lets fanned-out rows and pointers expire from the merged inbox once the clock passes 90 days', async () => {
    // Prepare
    const w = world({ now: NOW, tierPolicy: { threshold: 2, hysteresis: 0.1 } });
    await follow(w, 'alice', ['reader']);
    await follow(w, 'star', ['reader', 'other']);
    const occurredAt = NOW - 1000;
    await fanOut(
      kinesisEvent([
        { event: authorEvent('row-event', 'alice', { occurredAt }) },
        { event: authorEvent('pointer-event', 'star', { occurredAt }) },
      ]),
      w.fanoutDeps(),
    );
    // Act
    w.clock.set(occurredAt + INBOX_TTL_MS - 1);
    const lastMoment = await mergedEventIds(w, 'reader');
    const lastCount = await unreadCount(user('reader'), w.inboxDeps());
    w.clock.set(occurredAt + INBOX_TTL_MS);
    const expired = await mergedEventIds(w, 'reader');
    const expiredCount = await unreadCount(user('reader'), w.inboxDeps());
    w.clock.advance(30 * DAY);
    const later = await mergedEventIds(w, 'reader');
    // Assess
    expect(lastMoment.sort()).toEqual(['pointer-event', 'row-event']);
    expect(lastCount).toBe(2);
    expect(expired).toEqual([]);
    expect(expiredCount).toBe(0);
    expect(later).toEqual([]);
  });
});

describe('fanOut: delivery jobs of one batch', () => {
  it('sends the jobs of many small events together, each channel in one call', async () => {
    // Prepare: ten authors with two followers each
    const w = world({ now: NOW });
    for (let a = 0; a < 10; a++) await follow(w, `author-${a}`, [`f${a}-1`, `f${a}-2`]);
    const calls: number[] = [];
    const push = observe(w.queues.push, 'sendBatch', (jobs: readonly DeliveryJob[]) => {
      calls.push(jobs.length);
    });
    const events = names('e', 10).map((id, a) => authorEvent(id, `author-${a}`));
    // Act
    const response = await fanOut(
      kinesisEvent(events.map((event) => ({ event }))),
      w.fanoutDeps({ queues: { ...w.queues, push } }),
    );
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(calls).toEqual([20]);
    expect((await jobsIn(w.queues.push)).length).toBe(20);
  });

  it('reports the first record whose jobs were not sent when the final send fails, and the retry sends them', async () => {
    // Prepare
    const w = world({ now: NOW });
    await follow(w, 'alice', ['f1']);
    await follow(w, 'bob', ['f2']);
    let down = true;
    const push = observe(w.queues.push, 'sendBatch', () => {
      if (down) throw new StoreUnavailableError('queue down');
    });
    const events = [authorEvent('e1', 'alice'), authorEvent('e2', 'bob')];
    const deps = w.fanoutDeps({ queues: { ...w.queues, push } });
    // Act
    const failed = await fanOut(kinesisEvent(events.map((event) => ({ event }))), deps);
    const jobsWhileDown = await jobsIn(w.queues.push);
    down = false;
    const retried = await fanOut(kinesisEvent(events.map((event) => ({ event }))), deps);
    // Assess
    expect(failed.batchItemFailures).toEqual([{ itemIdentifier: sequence(1) }]);
    expect(jobsWhileDown).toEqual([]);
    expect(retried.batchItemFailures).toEqual([]);
    expect((await jobsIn(w.queues.push)).map((j) => j.userId).sort()).toEqual(['f1', 'f2']);
  });
});

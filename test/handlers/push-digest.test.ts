import { afterEach, describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../../src/adapters/embedded/audit-log.ts';
import { EmbeddedFrequencyCaps } from '../../src/adapters/embedded/frequency-caps.ts';
import { DEFAULT_DIGEST_WINDOW_MS } from '../../src/domain/digest.ts';
import { TransportRetryableError } from '../../src/domain/errors.ts';
import type { AuthorEvent, UserKey } from '../../src/domain/types.ts';
import { fanOut } from '../../src/handlers/fanout.ts';
import { consumePush } from '../../src/handlers/push-consumer.ts';
import { kinesisEvent } from '../support/events.ts';
import { auditRecords, closeWorlds, consenting, consumeRound, type World, world } from '../support/world.ts';

/** The start of a 5-minute digest window. */
const NOW = Date.UTC(2026, 4, 1, 12);
const WINDOW = DEFAULT_DIGEST_WINDOW_MS;
const OWNER: UserKey = { tenantId: 'acme', userId: 'owner' };

afterEach(closeWorlds);

async function ownerWorld(): Promise<World> {
  const w = world({ now: NOW });
  await w.preferences.put(consenting(OWNER));
  await w.devices.registerMany([{ ...OWNER, token: 'owner-phone', platform: 'apns', registeredAt: NOW - 1 }]);
  return w;
}

function like(i: number, at: number, id = `like-${i}`): AuthorEvent {
  return {
    tenantId: OWNER.tenantId,
    id,
    type: 'like',
    actorId: `liker-${i}`,
    objectId: 'post-1',
    recipients: [OWNER.userId],
    occurredAt: at,
    acceptedAt: at,
  };
}

/** Fans the events out, then runs the push consumer over what the push queue has ready now. */
async function likes(w: World, events: readonly AuthorEvent[]): Promise<void> {
  const response = await fanOut(kinesisEvent(events.map((event) => ({ event }))), w.fanoutDeps());
  expect(response.batchItemFailures).toEqual([]);
  await pushRound(w);
}

async function pushRound(w: World) {
  return consumeRound(w.queues.push, (event) => consumePush(event, w.pushDeps({ inbox: w.inbox })), {
    visibilityTimeoutMs: 30_000,
  });
}

async function reasons(w: World): Promise<string[]> {
  return (await auditRecords(w)).filter((r) => r.outcome === 'digested').map((r) => r.reason ?? '');
}

describe('push digests', () => {
  it('pushes the first like of a window at once', async () => {
    // Prepare
    const w = await ownerWorld();
    // Act
    await likes(w, [like(0, NOW + 1000)]);
    // Assess
    expect(w.pushCalls.map((m) => m.body)).toEqual(['liker-0 liked your post']);
    expect((await w.queues.push.depth()).delayed).toBe(0);
  });

  it('folds 50 more likes of the window into ONE flush job, pushing nothing more', async () => {
    // Prepare
    const w = await ownerWorld();
    await likes(w, [like(0, NOW + 1000)]);
    w.clock.advance(10_000);
    // Act
    for (let b = 0; b < 5; b++) {
      await likes(
        w,
        Array.from({ length: 10 }, (_, i) => like(1 + b * 10 + i, NOW + 20_000 + b * 10 + i)),
      );
      w.clock.advance(1000);
    }
    // Assess
    expect(w.pushCalls).toHaveLength(1);
    expect(await reasons(w)).toEqual(Array(50).fill('digest_window'));
    const depth = await w.queues.push.depth();
    expect(depth).toMatchObject({ visible: 0, delayed: 1 });
  });

  it('sends the flush at the window end as "… and N others", with the collapse id of the first push', async () => {
    // Prepare
    const w = await ownerWorld();
    await likes(w, [like(0, NOW + 1000)]);
    await likes(
      w,
      Array.from({ length: 50 }, (_, i) => like(i + 1, NOW + 2000 + i)),
    );
    // Act: nothing before the window's end; the flush then
    w.clock.set(NOW + WINDOW - 1000);
    expect((await pushRound(w)).messages).toHaveLength(0);
    w.clock.set(NOW + WINDOW);
    await pushRound(w);
    // Assess
    expect(w.pushCalls.map((m) => m.body)).toEqual([
      'liker-0 liked your post',
      'liker-50, liker-49, and 49 others liked your post',
    ]);
    expect(new Set(w.pushCalls.map((m) => m.collapseId)).size).toBe(1);
    expect(new Set(w.pushCalls.map((m) => m.messageId)).size).toBe(2);
    expect((await w.inbox.group(OWNER, 'like\u001fpost-1'))?.actorCount).toBe(51);
    expect((await verifyAuditLog(w.auditDir)).valid).toBe(true);
  });

  it('folds a like right after the flush into the next window, whose flush pushes it', async () => {
    // Prepare: a pushed window with a flush
    const w = await ownerWorld();
    await likes(w, [like(0, NOW + 1000)]);
    await likes(w, [like(1, NOW + 1001)]);
    w.clock.set(NOW + WINDOW);
    await pushRound(w);
    expect(w.pushCalls).toHaveLength(2);
    // Act: a like just after the flush
    w.clock.advance(5000);
    await likes(w, [like(2, NOW + WINDOW + 5000)]);
    // Assess: not pushed now; the next window's flush pushes it
    expect(w.pushCalls).toHaveLength(2);
    w.clock.set(NOW + 2 * WINDOW);
    await pushRound(w);
    expect(w.pushCalls.map((m) => m.body)).toEqual([
      'liker-0 liked your post',
      'liker-1 and liker-0 liked your post',
      'liker-2, liker-1, and liker-0 liked your post',
    ]);
    expect(new Set(w.pushCalls.map((m) => m.collapseId)).size).toBe(1);
  });

  it('shows in the first push every like that reached the group before it', async () => {
    // Prepare
    const w = await ownerWorld();
    // Act: two likes in one batch, then the window's end
    await likes(w, [like(0, NOW + 1000), like(1, NOW + 1001)]);
    w.clock.set(NOW + WINDOW);
    await pushRound(w);
    // Assess: the first push showed both, so the flush had nothing new
    expect(w.pushCalls.map((m) => m.body)).toEqual(['liker-1 and liker-0 liked your post']);
    expect(await reasons(w)).toEqual(['digest_window', 'digest_unchanged']);
  });

  it('pushes nothing more for re-delivered jobs, re-sent events and repeat likes', async () => {
    // Prepare
    const w = await ownerWorld();
    await likes(w, [like(0, NOW + 1000)]);
    // Act: the same event again, and the same liker again through a new event
    await likes(w, [like(0, NOW + 1000), like(0, NOW + 3000, 'again-0')]);
    w.clock.set(NOW + WINDOW);
    await pushRound(w);
    // Assess: one push; the flush had nothing new to show
    expect(w.pushCalls).toHaveLength(1);
    expect(await reasons(w)).toContain('digest_unchanged');
    expect((await w.queues.push.depth()).delayed).toBe(0);
  });

  it('sends no flush for a group whose every actor was retracted', async () => {
    // Prepare
    const w = await ownerWorld();
    await likes(w, [like(0, NOW + 1000), like(1, NOW + 1001)]);
    await w.inbox.retractFromGroup(OWNER, 'like\u001fpost-1', 'liker-0', 'like-0');
    await w.inbox.retractFromGroup(OWNER, 'like\u001fpost-1', 'liker-1', 'like-1');
    // Act
    w.clock.set(NOW + WINDOW);
    await pushRound(w);
    // Assess
    expect(w.pushCalls).toHaveLength(1);
    expect(await reasons(w)).toEqual(['digest_window', 'digest_empty']);
  });

  it('gives the slot back when the first push certainly failed: its retry pushes at once', async () => {
    // Prepare: the provider refuses the first push (certainly not sent)
    const w = await ownerWorld();
    w.pushFault = () => new TransportRetryableError('throttled');
    await likes(w, [like(0, NOW + 1000)]);
    w.pushFault = undefined;
    // Act
    w.clock.advance(31_000);
    await pushRound(w);
    // Assess
    expect(w.pushCalls.map((m) => m.body)).toEqual(['liker-0 liked your post', 'liker-0 liked your post']);
    expect((await auditRecords(w)).filter((r) => r.outcome === 'sent')).toHaveLength(1);
  });

  it('re-sends a first push with no answer once its slot lease ends, as an ambiguous re-send', async () => {
    // Prepare: the first push may or may not have reached the provider
    const w = await ownerWorld();
    w.pushFault = () => new TransportRetryableError('timeout', { ambiguous: true });
    await likes(w, [like(0, NOW + 1000)]);
    w.pushFault = undefined;
    // Act: back while its own claim is pending (it waits), then after the lease
    w.clock.advance(31_000);
    await pushRound(w);
    expect(w.pushCalls).toHaveLength(1);
    w.clock.advance(61_000);
    await pushRound(w);
    // Assess: re-sent within the window with the same ids, and nothing at the window's end
    expect(w.pushCalls).toHaveLength(2);
    expect(w.pushCalls[1]!.messageId).toBe(w.pushCalls[0]!.messageId);
    const sent = (await auditRecords(w)).filter((r) => r.outcome === 'sent');
    expect(sent.map((r) => r.ambiguous)).toEqual([true]);
    w.clock.set(NOW + WINDOW);
    await pushRound(w);
    expect(w.pushCalls).toHaveLength(2);
  });

  it('folds a like whose push had no answer into the flush when the lease outlasts the window', async () => {
    // Prepare: a first push 30 s before the window's end, with no answer
    const w = await ownerWorld();
    const quick = { visibilityTimeoutMs: 5000 };
    const quickRound = () =>
      consumeRound(w.queues.push, (e) => consumePush(e, w.pushDeps({ inbox: w.inbox })), quick);
    w.clock.set(NOW + WINDOW - 30_000);
    w.pushFault = () => new TransportRetryableError('timeout', { ambiguous: true });
    await fanOut(kinesisEvent([{ event: like(0, NOW + 1000) }]), w.fanoutDeps());
    await quickRound();
    w.pushFault = undefined;
    // Act: back 10 s later; then the window's end; then the end of the first claim's lease
    w.clock.advance(10_000);
    await quickRound();
    w.clock.set(NOW + WINDOW);
    await pushRound(w);
    expect(w.pushCalls).toHaveLength(1);
    w.clock.advance(61_000);
    await pushRound(w);
    // Assess: folded, then the flush re-sent it as the ambiguous send it repeats
    expect(await reasons(w)).toEqual(['digest_window']);
    expect(w.pushCalls).toHaveLength(2);
    expect(w.pushCalls[1]!.messageId).toBe(w.pushCalls[0]!.messageId);
    expect((await auditRecords(w)).filter((r) => r.outcome === 'sent').map((r) => r.ambiguous)).toEqual([
      true,
    ]);
  });

  it('re-sends a flush that died mid-send once its lease ends, as an ambiguous re-send with the same ids', async () => {
    // Prepare: a flush whose send gets no answer
    const w = await ownerWorld();
    await likes(w, [like(0, NOW + 1000)]);
    await likes(w, [like(1, NOW + 1001)]);
    w.clock.set(NOW + WINDOW);
    w.pushFault = () => new TransportRetryableError('timeout', { ambiguous: true });
    await pushRound(w);
    w.pushFault = undefined;
    // Act: back after the visibility timeout (slot pending: deferred), then after the lease
    for (let i = 0; i < 4; i++) {
      w.clock.advance(31_000);
      await pushRound(w);
    }
    // Assess
    const sent = (await auditRecords(w)).filter((r) => r.outcome === 'sent');
    expect(sent).toHaveLength(2);
    expect(sent[1]!.ambiguous).toBe(true);
    const flushes = w.pushCalls.slice(1);
    expect(flushes).toHaveLength(2);
    expect(flushes[1]!.messageId).toBe(flushes[0]!.messageId);
    expect(new Set(w.pushCalls.map((m) => m.collapseId)).size).toBe(1);
  });

  it('folds a digest push over the frequency cap into the window flush, pushed once the cap allows', async () => {
    // Prepare: one push per 10 minutes, taken by a comment just before the like
    const w = await ownerWorld();
    const caps = {
      store: new EmbeddedFrequencyCaps({ db: w.db, clock: w.clock }),
      defaults: { tenants: { acme: { push: { limit: 1, windowSeconds: 240 } } } },
    };
    const round = () =>
      consumeRound(w.queues.push, (e) => consumePush(e, w.pushDeps({ inbox: w.inbox, caps })), {
        visibilityTimeoutMs: 30_000,
      });
    await fanOut(
      kinesisEvent([{ event: { ...like(9, NOW + 500, 'c-1'), type: 'comment' } }]),
      w.fanoutDeps(),
    );
    await round();
    // Act: the like is capped; the window's end is past the cap's window
    w.clock.advance(1000);
    await fanOut(kinesisEvent([{ event: like(0, NOW + 1000) }]), w.fanoutDeps());
    await round();
    expect(w.pushCalls).toHaveLength(1);
    w.clock.set(NOW + WINDOW);
    await round();
    // Assess
    expect(w.pushCalls.map((m) => m.body)).toEqual([
      'liker-9 commented on your post',
      'liker-0 liked your post',
    ]);
    const outcomes = (await auditRecords(w)).map((r) => r.outcome);
    expect(outcomes).toEqual(['sent', 'suppressed_frequency_cap', 'sent']);
  });
});

import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.ts';
import type { DeliveryJob } from '../../src/domain/types.ts';
import type { DeliveryQueue, QueueDepth, QueueMessage } from '../../src/ports/delivery-queue.ts';

/** The queue's notion of time, which the suite can move forward. */
export interface QueueClock {
  /** Epoch ms as the queue sees it. */
  now(): number;
  /** Moves time forward: a fake clock steps, a harness on a real queue waits. */
  advance(ms: number): Promise<void>;
}

/** What a suite run needs: a fresh, empty `push` queue per test. */
export interface DeliveryQueueHarness {
  readonly queue: DeliveryQueue;
  /** The redrive policy's maximum receives; at least 2. */
  readonly maxReceiveCount: number;
  readonly clock: QueueClock;
  /**
   * Optional capability, off unless a harness says so: the queue moves an exhausted message to
   * the dead-letter queue only when a receive reaches it (SQS moves it on the receive that would
   * hand it out once more), not the moment its last visibility timeout ends. The suite then
   * receives once (and expects nothing back) before it looks at the dead-letter queue.
   */
  readonly deadLettersOnReceive?: boolean;
  /**
   * Optional capability, off unless a harness says so: dead letters carry a `position`, and a
   * listing `after` one resumes there. Off, the suite checks that they carry none (a caller then
   * knows it cannot resume).
   */
  readonly pagesDeadLetters?: boolean;
  close(): Promise<void>;
}

const VISIBILITY_MS = 30_000;
const EMPTY: QueueDepth = { visible: 0, inFlight: 0, delayed: 0, deadLettered: 0 };

const JOB = { tenantId: 't1', channel: 'push', type: 'post', category: 'social', actorId: 'alice' } as const;
const AT = 1_700_000_000_000;

function job(n: number, extra: Partial<DeliveryJob> = {}): DeliveryJob {
  const id = `n${String(n).padStart(6, '0')}`;
  return { ...JOB, userId: `u${n}`, notificationId: id, eventId: `e${n}`, createdAt: AT, ...extra };
}

function notificationIds(messages: readonly { readonly body: string }[]): string[] {
  return messages.map((m) => (JSON.parse(m.body) as DeliveryJob).notificationId);
}

/**
 * The DeliveryQueue port's contract: SQS Standard with a redrive policy, as the consumers and the
 * pollers rely on it, run against every adapter.
 */
export function deliveryQueueContract(name: string, make: () => Promise<DeliveryQueueHarness>): void {
  describe(`DeliveryQueue contract: ${name}`, () => {
    let h: DeliveryQueueHarness;
    let q: DeliveryQueue;
    beforeEach(async () => {
      h = await make();
      q = h.queue;
    });
    afterEach(async () => {
      await h.close();
    });

    /** Receives until `count` messages arrived or a receive comes back empty. */
    async function receiveUpTo(count: number, visibilityTimeoutMs = VISIBILITY_MS): Promise<QueueMessage[]> {
      const got: QueueMessage[] = [];
      while (got.length < count) {
        const batch = await q.receive({ max: Math.min(10, count - got.length), visibilityTimeoutMs });
        if (batch.length === 0) break;
        got.push(...batch);
      }
      return got;
    }

    it('receives a sent job as its JSON, with a tenant_id attribute equal to its tenant', async () => {
      // Prepare
      const sent = job(1, { tenantId: 'tenant-a', data: { text: 'hi' }, objectId: 'post-1' });
      // Act
      await q.sendBatch([sent]);
      const [message] = await q.receive({ max: 10, visibilityTimeoutMs: VISIBILITY_MS });
      // Assess
      expect(q.channel).toBe('push');
      expect(JSON.parse(message!.body)).toEqual(sent);
      expect(message!.attributes.tenant_id).toBe('tenant-a');
      expect(message!.receiveCount).toBe(1);
      expect(message!.sentAt).toBeLessThanOrEqual(message!.firstReceivedAt);
      expect(message!.firstReceivedAt).toBeLessThanOrEqual(h.clock.now());
    });

    it('receives the oldest messages first, in send order, each with its own id', async () => {
      // Prepare
      await q.sendBatch([job(1), job(2), job(3)]);
      await h.clock.advance(10);
      await q.sendBatch([job(4), job(5)]);
      // Act
      const first = await q.receive({ max: 2, visibilityTimeoutMs: VISIBILITY_MS });
      const rest = await receiveUpTo(3);
      // Assess
      expect(notificationIds(first)).toEqual([job(1).notificationId, job(2).notificationId]);
      expect(notificationIds(rest)).toEqual([job(3), job(4), job(5)].map((j) => j.notificationId));
      expect(new Set([...first, ...rest].map((m) => m.messageId)).size).toBe(5);
    });

    it('hides a received message until its visibility timeout ends, then shows it again', async () => {
      // Prepare
      await q.sendBatch([job(1)]);
      const [first] = await q.receive({ max: 1, visibilityTimeoutMs: 5_000 });
      // Act
      const whileHidden = await q.receive({ max: 10, visibilityTimeoutMs: 5_000 });
      await h.clock.advance(5_000);
      const [again] = await q.receive({ max: 10, visibilityTimeoutMs: 5_000 });
      // Assess
      expect(whileHidden).toEqual([]);
      expect(again!.messageId).toBe(first!.messageId);
      expect(again!.receiveCount).toBe(2);
      expect(again!.firstReceivedAt).toBe(first!.firstReceivedAt);
      expect(again!.receiptHandle).not.toBe(first!.receiptHandle);
    });

    it('deletes a received message for good', async () => {
      // Prepare
      await q.sendBatch([job(1), job(2)]);
      const messages = await receiveUpTo(2, 1_000);
      // Act
      await q.deleteBatch(messages.map((m) => m.receiptHandle));
      await h.clock.advance(1_000);
      // Assess
      expect(await q.receive({ max: 10, visibilityTimeoutMs: 1_000 })).toEqual([]);
      expect(await q.depth()).toEqual(EMPTY);
    });

    it('ignores a delete or a visibility change with the handle of an earlier receive', async () => {
      // Prepare
      await q.sendBatch([job(1)]);
      const [first] = await q.receive({ max: 1, visibilityTimeoutMs: 1_000 });
      await h.clock.advance(1_000);
      const [second] = await q.receive({ max: 1, visibilityTimeoutMs: 60_000 });
      // Act
      await q.deleteBatch([first!.receiptHandle]);
      await q.changeVisibility(first!.receiptHandle, 0);
      const afterStale = await q.depth();
      const whileHidden = await q.receive({ max: 1, visibilityTimeoutMs: 1_000 });
      await q.deleteBatch([second!.receiptHandle]);
      const afterLatest = await q.depth();
      // Assess
      expect(second!.messageId).toBe(first!.messageId);
      expect(afterStale).toEqual({ ...EMPTY, inFlight: 1 });
      expect(whileHidden).toEqual([]);
      expect(afterLatest).toEqual(EMPTY);
    });

    it('shows a message at once after a visibility change to 0, and hides it for a longer new timeout', async () => {
      // Prepare
      await q.sendBatch([job(1)]);
      const [first] = await q.receive({ max: 1, visibilityTimeoutMs: 60_000 });
      // Act
      await q.changeVisibility(first!.receiptHandle, 0);
      const [again] = await q.receive({ max: 1, visibilityTimeoutMs: 1_000 });
      await q.changeVisibility(again!.receiptHandle, 5_000);
      await h.clock.advance(1_000);
      const early = await q.depth();
      await h.clock.advance(4_000);
      const due = await q.depth();
      // Assess
      expect(again!.messageId).toBe(first!.messageId);
      expect(again!.receiveCount).toBe(2);
      expect(early).toEqual({ ...EMPTY, inFlight: 1 });
      expect(due.inFlight).toBe(0);
      expect(due.visible + due.deadLettered).toBe(1);
    });

    it('holds back a delayed message until its delay has passed', async () => {
      // Prepare
      await q.sendBatch([job(1)], { delaySeconds: 2 });
      await q.sendBatch([job(2)]);
      // Act
      const before = await q.receive({ max: 10, visibilityTimeoutMs: VISIBILITY_MS });
      await h.clock.advance(2_000);
      const after = await q.receive({ max: 10, visibilityTimeoutMs: VISIBILITY_MS });
      // Assess
      expect(notificationIds(before)).toEqual([job(2).notificationId]);
      expect(notificationIds(after)).toEqual([job(1).notificationId]);
      expect(after[0]!.receiveCount).toBe(1);
    });

    it('holds back each job of one batch for its own delay', async () => {
      // Prepare
      await q.sendBatch([job(1), job(2), job(3)], { delaySeconds: [2, 0, 4] });
      // Act
      const now = await q.receive({ max: 10, visibilityTimeoutMs: VISIBILITY_MS });
      await h.clock.advance(2_000);
      const later = await q.receive({ max: 10, visibilityTimeoutMs: VISIBILITY_MS });
      await h.clock.advance(2_000);
      const last = await q.receive({ max: 10, visibilityTimeoutMs: VISIBILITY_MS });
      // Assess
      expect(notificationIds(now)).toEqual([job(2).notificationId]);
      expect(notificationIds(later)).toEqual([job(1).notificationId]);
      expect(notificationIds(last)).toEqual([job(3).notificationId]);
    });

    it('receives a message maxReceiveCount times, then dead-letters it unless its last receive deleted it', async () => {
      // Prepare
      await q.sendBatch([job(1, { tenantId: 'tenant-b' }), job(2)]);
      const counts: number[] = [];
      // Act
      for (let i = 1; i <= h.maxReceiveCount; i++) {
        const messages = await receiveUpTo(2, 1_000);
        counts.push(...messages.map((m) => m.receiveCount));
        const second = messages.filter((m) => m.body === JSON.stringify(job(2)));
        if (i === h.maxReceiveCount) await q.deleteBatch(second.map((m) => m.receiptHandle));
        await h.clock.advance(1_000);
      }
      const afterLast = await q.receive({ max: 10, visibilityTimeoutMs: 1_000 });
      const dead = await q.listDeadLetters(10);
      // Assess
      expect(counts).toEqual(Array.from({ length: h.maxReceiveCount }, (_, i) => [i + 1, i + 1]).flat());
      expect(afterLast).toEqual([]);
      expect(dead).toHaveLength(1);
      expect(JSON.parse(dead[0]!.body)).toEqual(job(1, { tenantId: 'tenant-b' }));
      expect(dead[0]!.receiveCount).toBe(h.maxReceiveCount);
      expect(dead[0]!.attributes.tenant_id).toBe('tenant-b');
      expect(dead[0]!.deadLetteredAt).toBeLessThanOrEqual(h.clock.now());
      expect(await q.depth()).toEqual({ ...EMPTY, deadLettered: 1 });
    });

    it('lists dead letters oldest first and redrives them all with a fresh receive count', async () => {
      // Prepare
      await q.sendBatch([job(1)]);
      await h.clock.advance(10);
      await q.sendBatch([job(2)]);
      for (let i = 0; i < h.maxReceiveCount; i++) {
        await receiveUpTo(2, 1_000);
        await h.clock.advance(1_000);
      }
      if (h.deadLettersOnReceive) {
        expect(await q.receive({ max: 10, visibilityTimeoutMs: 1_000 })).toEqual([]);
      }
      // Act
      const listed = await q.listDeadLetters(10);
      const firstOnly = await q.listDeadLetters(1);
      const moved = await q.redriveDeadLetters();
      const again = await receiveUpTo(2);
      // Assess
      expect(notificationIds(listed)).toEqual([job(1).notificationId, job(2).notificationId]);
      expect(firstOnly.map((d) => d.messageId)).toEqual([listed[0]!.messageId]);
      expect(moved).toBe(2);
      expect(notificationIds(again).sort()).toEqual([job(1).notificationId, job(2).notificationId]);
      expect(again.map((m) => m.receiveCount)).toEqual([1, 1]);
      expect(again.every((m) => m.attributes.tenant_id === 't1')).toBe(true);
      expect(await q.listDeadLetters(10)).toEqual([]);
      expect(await q.redriveDeadLetters()).toBe(0);
    });

    it('resumes a dead-letter listing after the position of its last letter, newer letters included', async () => {
      // Prepare
      /** Spends every receive of what is visible now, as consumers that never finish would. */
      const exhaust = async () => {
        for (let i = 0; i < h.maxReceiveCount; i++) {
          await receiveUpTo(10, 1_000);
          await h.clock.advance(1_000);
        }
        if (h.deadLettersOnReceive) {
          expect(await q.receive({ max: 10, visibilityTimeoutMs: 1_000 })).toEqual([]);
        }
      };
      await q.sendBatch([job(1), job(2), job(3)]);
      await exhaust();
      // Act
      const first = await q.listDeadLetters(2);
      if (!h.pagesDeadLetters) {
        // Assess: such a queue cannot resume, and says so by giving no position.
        expect(first.every((d) => d.position === undefined)).toBe(true);
        return;
      }
      const second = await q.listDeadLetters(2, { after: first[1]!.position! });
      const end = await q.listDeadLetters(2, { after: second[0]!.position! });
      await q.sendBatch([job(4)]);
      await exhaust();
      const newer = await q.listDeadLetters(2, { after: second[0]!.position! });
      // Assess
      expect(notificationIds(first)).toEqual([job(1), job(2)].map((j) => j.notificationId));
      expect(notificationIds(second)).toEqual([job(3).notificationId]);
      expect(end).toEqual([]);
      expect(notificationIds(newer)).toEqual([job(4).notificationId]);
      expect(notificationIds(await q.listDeadLetters(10))).toEqual(
        [job(1), job(2), job(3), job(4)].map((j) => j.notificationId),
      );
    });

    it('counts visible, in-flight, delayed and dead-lettered messages', async () => {
      // Prepare
      await q.sendRaw(['poison']);
      for (let i = 0; i < h.maxReceiveCount; i++) {
        await q.receive({ max: 1, visibilityTimeoutMs: 1_000 });
        await h.clock.advance(1_000);
      }
      await q.sendBatch([job(1), job(2), job(3)]);
      await q.sendBatch([job(4), job(5)], { delaySeconds: 60 });
      const [received] = await q.receive({ max: 1, visibilityTimeoutMs: 10_000 });
      // Act
      const withOneInFlight = await q.depth();
      await h.clock.advance(10_000);
      const afterTimeout = await q.depth();
      // Assess
      expect(received!.body).toBe(JSON.stringify(job(1)));
      expect(withOneInFlight).toEqual({ visible: 2, inFlight: 1, delayed: 2, deadLettered: 1 });
      expect(afterTimeout).toEqual({ visible: 3, inFlight: 0, delayed: 2, deadLettered: 1 });
    });

    it('returns raw bodies and attributes unchanged, poison included', async () => {
      // Prepare
      const bodies = ['not json {', '{"tenantId":', 'ünïcödé ✓ "quoted" \\ back', '   '];
      // Act
      await q.sendRaw(bodies, { tenant_id: 't9', origin: 'redrive' });
      const messages = await receiveUpTo(bodies.length);
      // Assess
      expect(messages.map((m) => m.body)).toEqual(bodies);
      for (const m of messages) expect(m.attributes).toEqual({ tenant_id: 't9', origin: 'redrive' });
    });

    it('sends nothing from a batch with one bad job, or with a delay outside 0..900 whole seconds', async () => {
      // Prepare
      const badJobs = [
        job(2, { channel: 'email' }),
        job(3, { tenantId: '' }),
        null as unknown as DeliveryJob,
      ];
      // Act / Assess
      for (const bad of badJobs) {
        await expect(q.sendBatch([job(1), bad])).rejects.toBeInstanceOf(ValidationError);
      }
      for (const delaySeconds of [-1, 901, 1.5, Number.NaN]) {
        await expect(q.sendBatch([job(1)], { delaySeconds })).rejects.toBeInstanceOf(ValidationError);
      }
      // A list of delays must give one valid delay per job.
      for (const delaySeconds of [[1], [0, 0, 0], [0, 901]]) {
        await expect(q.sendBatch([job(1), job(2)], { delaySeconds })).rejects.toBeInstanceOf(ValidationError);
      }
      expect(await q.receive({ max: 10, visibilityTimeoutMs: VISIBILITY_MS })).toEqual([]);
      expect(await q.depth()).toEqual(EMPTY);
    });

    it('rejects bad arguments, and takes empty batches as no-ops', async () => {
      // Prepare
      const bad = (value: unknown) => value as never;
      const calls = [
        ...[0, -1, 1.5, Number.NaN].map((max) => () => q.receive({ max, visibilityTimeoutMs: 1_000 })),
        () => q.receive({ max: 1, visibilityTimeoutMs: -1 }),
        () => q.sendBatch(bad('job')),
        () => q.sendRaw(bad('body')),
        () => q.sendRaw([bad(42)]),
        () => q.deleteBatch(bad('handle')),
        () => q.deleteBatch(['']),
        () => q.changeVisibility('', 0),
        () => q.changeVisibility('handle', -1),
        () => q.listDeadLetters(0),
      ];
      // Act / Assess
      for (const call of calls) await expect(call()).rejects.toBeInstanceOf(ValidationError);
      await q.sendBatch([]);
      await q.sendRaw([]);
      await q.deleteBatch([]);
      expect(await q.depth()).toEqual(EMPTY);
    });

    it('ends every sent message deleted or dead-lettered exactly once, whatever the interleaving', async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 40 }), async (ops) => {
          // Prepare
          const run = await make();
          try {
            // Act
            const model = await play(run, ops);
            // Assess
            const dead = await run.queue.listDeadLetters(10_000);
            const deadIds = notificationIds(dead);
            // Together with the count, the union shows no message both deleted and dead, nor dead twice.
            expect(new Set([...deadIds, ...model.deleted])).toEqual(model.sent);
            expect(deadIds.length + model.deleted.size).toBe(model.sent.size);
            expect(dead.every((d) => d.receiveCount === run.maxReceiveCount)).toBe(true);
            expect(await run.queue.depth()).toEqual({ ...EMPTY, deadLettered: deadIds.length });
          } finally {
            await run.close();
          }
        }),
        { numRuns: 60 },
      );
    });
  });
}

/** One step of the interleaving property: what to do, and a number that picks how. */
type Operation = readonly [kind: (typeof KINDS)[number], pick: number];
const KINDS = ['send', 'sendDelayed', 'receive', 'delete', 'deleteStale', 'release', 'advance'] as const;
const operation: fc.Arbitrary<Operation> = fc.tuple(fc.constantFrom(...KINDS), fc.nat({ max: 999 }));

/**
 * Plays `ops`, then drains the queue by receiving without deleting until nothing is left. Checks
 * on every receive that no deleted or dead-lettered message comes back and that receive counts
 * step by one; deletes only use handles whose message is certainly in flight, so each counts.
 */
async function play(h: DeliveryQueueHarness, ops: readonly Operation[]) {
  const sent = new Set<string>();
  const deleted = new Set<string>();
  // Per received message: its handles, its receive count, the queue time its latest receive hides it until.
  const seen = new Map<string, { handles: string[]; receiveCount: number; hiddenUntil: number }>();
  let next = 0;
  const pickInFlight = (pick: number) => {
    const live = [...seen.entries()].filter(([id, s]) => !deleted.has(id) && s.hiddenUntil > h.clock.now());
    return live[pick % Math.max(1, live.length)];
  };
  const receive = async (max: number, timeoutMs: number) => {
    const messages = await h.queue.receive({ max, visibilityTimeoutMs: timeoutMs });
    for (const m of messages) {
      const id = (JSON.parse(m.body) as DeliveryJob).notificationId;
      expect(sent.has(id) && !deleted.has(id)).toBe(true);
      const s = seen.get(id) ?? { handles: [], receiveCount: 0, hiddenUntil: 0 };
      expect(m.receiveCount).toBe(s.receiveCount + 1);
      expect(m.receiveCount).toBeLessThanOrEqual(h.maxReceiveCount);
      s.handles.push(m.receiptHandle);
      s.receiveCount = m.receiveCount;
      s.hiddenUntil = h.clock.now() + timeoutMs;
      seen.set(id, s);
    }
    return messages.length;
  };

  for (const [kind, pick] of ops) {
    if (kind === 'send' || kind === 'sendDelayed') {
      const jobs = Array.from({ length: 1 + (pick % 4) }, () => job(next++));
      await h.queue.sendBatch(jobs, { delaySeconds: kind === 'send' ? 0 : 1 });
      for (const j of jobs) sent.add(j.notificationId);
    } else if (kind === 'receive') {
      await receive(1 + (pick % 5), [0, 500, 1_000, 3_000][Math.floor(pick / 5) % 4]!);
    } else if (kind === 'delete' || kind === 'release') {
      const target = pickInFlight(pick);
      if (target === undefined) continue;
      const [id, s] = target;
      if (kind === 'delete') {
        await h.queue.deleteBatch([s.handles.at(-1)!]);
        deleted.add(id);
      } else {
        await h.queue.changeVisibility(s.handles.at(-1)!, 0);
        s.hiddenUntil = h.clock.now();
      }
    } else if (kind === 'deleteStale') {
      const stale = [...seen.values()].filter((s) => s.handles.length > 1);
      const target = stale[pick % Math.max(1, stale.length)];
      if (target !== undefined) await h.queue.deleteBatch([target.handles[0]!]);
    } else {
      await h.clock.advance([100, 500, 1_000, 2_000][pick % 4]!);
    }
  }
  // Drain: every message not deleted must reach the dead-letter queue, each exactly once.
  for (let round = 0; round < 100; round++) {
    await h.clock.advance(3_000);
    while ((await receive(10, 1)) > 0);
    const depth = await h.queue.depth();
    if (depth.visible + depth.inFlight + depth.delayed === 0) break;
  }
  return { sent, deleted };
}

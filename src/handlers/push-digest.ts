import {
  DigestReason,
  digestFlushKey,
  digestShownKey,
  digestSlotKey,
  digestWindow,
  digestWindowEnd,
} from '../domain/digest.ts';
import { type DeliveryJob, Outcome, type UserKey } from '../domain/types.ts';
import { errorName } from '../lib/error-name.ts';
import { ClaimState, type DedupStore } from '../ports/dedup-store.ts';
import { type DeliveryQueue, MAX_DELAY_SECONDS } from '../ports/delivery-queue.ts';
import type { Inbox, InboxGroup } from '../ports/inbox.ts';
import { type Logger, silentLogger } from '../ports/logger.ts';
import type { Admission, NoTarget, TargetRequest } from './channel-driver.ts';

/** What the digest gate needs. */
export interface DigestDeps {
  readonly dedup: DedupStore;
  /** The push queue, for the delayed flush jobs. */
  readonly queue: DeliveryQueue;
  /** Where the group's current state is read. Absent: pushes show the job alone. */
  readonly inbox?: Inbox;
  readonly leaseMs: number;
  readonly logger?: Logger;
}

/** A job held back by its digest. */
function digested(reason: DigestReason): NoTarget {
  return { outcome: Outcome.Digested, reason };
}

/** One grouped job's way through the gate. */
interface Gate {
  readonly at: number;
  readonly job: DeliveryJob;
  readonly user: UserKey;
  readonly groupKey: string;
  readonly windowMs: number;
  /** The window this job would push in: the current one, or after a flush's window. */
  readonly window: number;
  readonly slot: string;
  readonly attempt: number | undefined;
}

/**
 * Push digests (src/domain/digest.ts), as the push consumer's admission step: at most one push
 * per (tenant, user, group, window), every activity covered by a push at or after it.
 *
 * - A job of a grouped notification claims its group's slot of the current window. Winning it,
 *   it pushes at once, showing the group as it is now. Losing it (the window pushed already, or
 *   a push is in flight), it is folded into the window's flush: the first to claim the flush key
 *   enqueues ONE delayed copy of itself (`digestFlush`: the window), due at the window's end, and
 *   the job is audited `digested` / `digest_window`.
 * - The flush is the digest push: it claims the NEXT window's slot (so activity right after it is
 *   folded into that window, not pushed again) and renders the group as it is then. It sends
 *   nothing when the group is gone, or shows what a push already showed.
 * - A push claims one more key, the group's state as it shows it (item id, count): a state
 *   already shown has nothing new to say (a repeated like, a re-sent event), and is not pushed.
 *
 * Crash safety: the slot and the state claims are held (leased) before the send and confirmed
 * with it, once audited (deliver.ts, `hold`); a send that certainly failed releases them. A
 * consumer dying between the claim and the send leaves the slot pending: the job's retry waits
 * for the lease to end and then sends (an ambiguous re-send with the same ids if the first attempt
 * may have sent), or, when the lease outlasts the window, is folded into the flush. A flush (or a
 * push finding its state being shown) that meets a pending claim comes back once the lease ends.
 *
 * One gate per SQS batch: one answer per request (undefined for jobs of no group). The groups read
 * for the jobs that push are kept for `groupOf`, so the send renders from them.
 */
export class DigestGate {
  readonly #deps: DigestDeps;
  readonly #now: number;
  readonly #groups = new WeakMap<DeliveryJob, InboxGroup>();
  /** The gates of the jobs cleared to push, for `foldCapped`. */
  readonly #pushing = new WeakMap<DeliveryJob, Gate>();

  constructor(deps: DigestDeps, now: number) {
    this.#deps = deps;
    this.#now = now;
  }

  /** The group a pushing job shows, as read by `admit`. */
  groupOf(job: DeliveryJob): InboxGroup | undefined {
    return this.#groups.get(job);
  }

  async admit(requests: readonly TargetRequest[]): Promise<Admission[]> {
    const answers: Admission[] = requests.map(() => undefined);
    const gates: Gate[] = [];
    requests.forEach(({ job, attempt }, at) => {
      const gate = this.#gate(job, at, attempt);
      if (gate !== undefined) gates.push(gate);
    });
    if (gates.length === 0) return answers;
    let slots: ClaimState[];
    try {
      slots = await this.#claimOnce(gates.map((g) => g.slot));
    } catch (error) {
      for (const g of gates) answers[g.at] = { error };
      return answers;
    }
    const pushing: Gate[] = [];
    const folding: Gate[] = [];
    gates.forEach((g, i) => {
      const state = slots[i]!;
      const won = state === ClaimState.Acquired || state === ClaimState.AcquiredStale;
      if (won) pushing.push(g);
      // A job back after a failed receive may itself hold the pending slot (it died between the
      // claim and the send): it waits for the lease's end, then sends as the window's push,
      // rather than leaving its activity to the flush.
      else if (state === ClaimState.Busy && (g.attempt ?? 1) > 1 && this.#sameWindowLater(g))
        answers[g.at] = { deferUntil: this.#now + this.#deps.leaseMs };
      else if (g.job.digestFlush === undefined) folding.push(g);
      else if (state === ClaimState.Done) answers[g.at] = digested(DigestReason.Covered);
      // A flush meeting a pending slot: its holder may have died before sending, which only the
      // lease's end tells. Come back then: Done (covered) or stale (ours to send).
      else answers[g.at] = { deferUntil: this.#now + this.#deps.leaseMs };
    });
    await Promise.all([this.#push(pushing, answers), this.#fold(folding, answers)]);
    return answers;
  }

  /** The slots this gate won: keys to give back when the push is held back after all (caps). */
  async release(answer: Admission): Promise<void> {
    if (answer === undefined || !('hold' in answer)) return;
    try {
      await this.#deps.dedup.release(answer.hold);
    } catch (err) {
      // The leases run out by themselves; until then the window's later activity is folded.
      (this.#deps.logger ?? silentLogger).warn('digest release failed', { error: errorName(err) });
    }
  }

  /**
   * Folds pushes a frequency cap held back (their slots given back already) into their window's
   * flush, so the group is pushed again once the cap allows: one answer per job, undefined when
   * folded (or not a digest push), an error when the flush could not be enqueued (retry).
   */
  async foldCapped(jobs: readonly DeliveryJob[]): Promise<Admission[]> {
    const answers: Admission[] = jobs.map(() => undefined);
    const gates = jobs.flatMap((job, at) => {
      const g = this.#pushing.get(job);
      return g === undefined ? [] : [{ ...g, at }];
    });
    await this.#fold(gates, answers);
    return answers.map((a) => (a !== undefined && 'error' in a ? a : undefined));
  }

  #gate(job: DeliveryJob, at: number, attempt: number | undefined): Gate | undefined {
    const { groupKey, digestWindowMs: windowMs } = job;
    if (groupKey === undefined || windowMs === undefined) return undefined;
    const user = { tenantId: job.tenantId, userId: job.userId };
    const current = digestWindow(this.#now, windowMs);
    const window = job.digestFlush === undefined ? current : Math.max(job.digestFlush + 1, current);
    return {
      at,
      job,
      user,
      groupKey,
      windowMs,
      window,
      slot: digestSlotKey(user, groupKey, window),
      attempt,
    };
  }

  /** Whether the lease of a slot claimed now still ends inside its window: waiting for it is worth it. */
  #sameWindowLater(g: Gate): boolean {
    return (
      g.job.digestFlush === undefined &&
      this.#now + this.#deps.leaseMs < digestWindowEnd(g.window, g.windowMs)
    );
  }

  /**
   * Claims keys, each once per call however often it is asked for: the first asker gets the
   * store's answer, the others Busy (a job of this very batch holds it).
   */
  async #claimOnce(keys: readonly string[]): Promise<ClaimState[]> {
    const first = new Map<string, number>();
    const distinct: string[] = [];
    for (const key of keys) {
      if (first.has(key)) continue;
      first.set(key, distinct.length);
      distinct.push(key);
    }
    const states = await this.#deps.dedup.claim(
      distinct.map((key) => ({ key, leaseMs: this.#deps.leaseMs })),
    );
    const given = new Set<string>();
    return keys.map((key) => {
      if (given.has(key)) return ClaimState.Busy;
      given.add(key);
      return states[first.get(key)!]!;
    });
  }

  /** Slot winners: read the group, claim the state shown, and send (or give the slot back). */
  async #push(gates: readonly Gate[], answers: Admission[]): Promise<void> {
    if (gates.length === 0) return;
    const inbox = this.#deps.inbox;
    if (inbox === undefined) {
      for (const g of gates) {
        this.#pushing.set(g.job, g);
        answers[g.at] = { hold: [g.slot] };
      }
      return;
    }
    const showing: { readonly gate: Gate; readonly group: InboxGroup; readonly key: string }[] = [];
    const giveBack: string[] = [];
    await Promise.all(
      gates.map(async (g) => {
        try {
          const group = await inbox.group(g.user, g.groupKey);
          if (group === undefined) {
            giveBack.push(g.slot);
            answers[g.at] = digested(DigestReason.Empty);
            return;
          }
          showing.push({
            gate: g,
            group,
            key: digestShownKey(g.user, g.groupKey, group.id, group.actorCount),
          });
        } catch (error) {
          giveBack.push(g.slot);
          answers[g.at] = { error };
        }
      }),
    );
    if (showing.length > 0) {
      let states: ClaimState[];
      try {
        states = await this.#claimOnce(showing.map((s) => s.key));
      } catch (error) {
        for (const s of showing) {
          giveBack.push(s.gate.slot);
          answers[s.gate.at] = { error };
        }
        states = [];
      }
      states.forEach((state, i) => {
        const { gate, group, key } = showing[i]!;
        if (state === ClaimState.Acquired || state === ClaimState.AcquiredStale) {
          this.#groups.set(gate.job, group);
          this.#pushing.set(gate.job, gate);
          answers[gate.at] = { hold: [gate.slot, key] };
          return;
        }
        // Shown already: nothing new. The slot goes back, so the window's next new actor pushes.
        giveBack.push(gate.slot);
        if (state === ClaimState.Done) answers[gate.at] = digested(DigestReason.Unchanged);
        // Being shown by a push that has not confirmed: it may have died before sending. Come
        // back when its lease ends: shown (Done), or stale, and then ours to send.
        else answers[gate.at] = { deferUntil: this.#now + this.#deps.leaseMs };
      });
    }
    if (giveBack.length > 0) await this.release({ hold: giveBack });
  }

  /** Slot losers: fold into the window's flush, enqueued once per window. */
  async #fold(gates: readonly Gate[], answers: Admission[]): Promise<void> {
    if (gates.length === 0) return;
    const keys = gates.map((g) => digestFlushKey(g.user, g.groupKey, g.window));
    let states: ClaimState[];
    try {
      states = await this.#claimOnce(keys);
    } catch (error) {
      for (const g of gates) answers[g.at] = { error };
      return;
    }
    const flushing: { readonly gate: Gate; readonly key: string }[] = [];
    gates.forEach((g, i) => {
      answers[g.at] = digested(DigestReason.Window);
      // A pending flush key may be a claimer that died before enqueuing: enqueue again. A second
      // flush of a window finds its slot taken and sends nothing, so this can only repeat work.
      const mine = states[i] !== ClaimState.Done && keys.indexOf(keys[i]!) === i;
      if (mine) flushing.push({ gate: g, key: keys[i]! });
    });
    if (flushing.length === 0) return;
    const jobs = flushing.map(({ gate }) => this.#flushJob(gate));
    try {
      await this.#deps.queue.sendBatch(
        jobs.map((j) => j.job),
        { delaySeconds: jobs.map((j) => j.delaySeconds) },
      );
    } catch (error) {
      for (const { gate } of flushing) answers[gate.at] = { error };
      await this.release({ hold: flushing.map((f) => f.key) });
      return;
    }
    try {
      await this.#deps.dedup.confirm(flushing.map((f) => f.key));
    } catch (err) {
      // Enqueued: an unconfirmed key only lets a later job of the window enqueue a spare flush.
      (this.#deps.logger ?? silentLogger).warn('digest flush confirm failed', { error: errorName(err) });
    }
  }

  /** The window's flush: a copy of the job, due at the window's end (SQS delays at most 900 s). */
  #flushJob(g: Gate): { readonly job: DeliveryJob; readonly delaySeconds: number } {
    const end = digestWindowEnd(g.window, g.windowMs);
    const { providerDeferrals: _, ...job } = g.job;
    const delaySeconds = Math.min(MAX_DELAY_SECONDS, Math.max(1, Math.ceil((end - this.#now) / 1000)));
    return { job: { ...job, digestFlush: g.window, notBefore: end }, delaySeconds };
  }
}

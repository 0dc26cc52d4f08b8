import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { AuditEntry } from '../domain/audit-types.ts';
import { decideDelivery } from '../domain/delivery.ts';
import { TransportRetryableError } from '../domain/errors.ts';
import { deadLetterKey, deliveryKey, withdrawalKey } from '../domain/keys.ts';
import { type DeliveryJob, Outcome, type Preferences, type UserKey } from '../domain/types.ts';
import { errorName } from '../lib/error-name.ts';
import { ClaimState, KeyState } from '../ports/dedup-store.ts';
import { MAX_DELAY_SECONDS } from '../ports/delivery-queue.ts';
import type { EventRef } from '../ports/inbox.ts';
import { type Logger, silentLogger } from '../ports/logger.ts';
import type {
  Admission,
  ChannelDriver,
  DeliveryDeps,
  DeliveryTarget,
  NoTarget,
  TargetRequest,
} from './channel-driver.ts';
import { receiveCount } from './job.ts';
import { settledKey, unsettledParts } from './packed-parts.ts';
import { readPreferences } from './preferences-read.ts';

/**
 * Times a provider's Retry-After may put one job off (as a delayed copy, which spends no receive).
 * Past it, the next such answer fails the receive as any retryable error does, so a provider that
 * never lets up ends in the dead-letter queue instead of holding the job for ever.
 */
const MAX_PROVIDER_DEFERRALS = 5;

/** One job's progress through the batch (a packed SQS record holds several). */
interface Work<T extends DeliveryTarget> {
  readonly record: SQSRecord;
  /** The job's own id: the record's message id, or `messageId/index` in a packed record. */
  readonly id: string;
  readonly attempt: number;
  readonly job: DeliveryJob | undefined;
  /** Report for retry (a batch item failure). */
  failed: boolean;
  /** Audit entries decided for this record in this batch. */
  readonly entries: AuditEntry[];
  /** Targets to claim and send to. */
  /** `state` is the dedup store's answer, unknown (undefined) until the claim. */
  sends: {
    readonly target: T;
    readonly key: string;
    state: ClaimState | undefined;
    /** A withdrawal's: the dedup key of the original push to this target. */
    readonly original?: string;
  }[];
  /** A withdrawal found the original push to some target still in flight: come back after its lease. */
  originalInFlight?: boolean;
  /** Dedup keys the channel claimed for this job's send (admit's `hold`), confirmed with its sends. */
  hold?: readonly string[];
  /** The longest Retry-After a provider asked for (ms), when one asked for more than its transport waits. */
  retryAfterMs?: number;
}

interface Deferral<T extends DeliveryTarget> {
  readonly work: Work<T>;
  readonly job: DeliveryJob;
  readonly delaySeconds: number;
  readonly entry?: AuditEntry;
}

/**
 * The delivery consumer of one channel, for one SQS batch. Per record: parse the job (poison is
 * reported as a failure, so the redrive policy dead-letters it), honour `notBefore`, read
 * preferences (cache, then store), decide (consent, switches, quiet hours), find the targets, let
 * the channel admit the job (push: frequency caps), claim each target in the dedup store, send,
 * audit, confirm.
 *
 * Crash safety comes from the order send → audit append → dedup confirm → ack. A crash after the
 * send and before the confirm leaves the claim pending: the message comes back, its claim answers
 * Busy until the lease runs out, then AcquiredStale, and the send is repeated as an ambiguous
 * retry re-using the same collapse id / message id (recorded `ambiguous` in the audit). That is
 * the documented ambiguous-send window; it is the only way a target can get a message twice, and
 * the device or provider collapses it. A crash before the send loses nothing either: the message
 * is redelivered and sent after the lease.
 *
 * For throughput, the dedup claim, the audit append, the release and the confirm are each one
 * call per SQS batch, not one per record.
 */
export async function deliverBatch<T extends DeliveryTarget>(
  event: SQSEvent,
  deps: DeliveryDeps,
  driver: ChannelDriver<T>,
): Promise<SQSBatchResponse> {
  const batch = new DeliveryBatch(deps, driver);
  return batch.run(event.Records);
}

class DeliveryBatch<T extends DeliveryTarget> {
  readonly #deps: DeliveryDeps;
  readonly #driver: ChannelDriver<T>;
  readonly #logger: Logger;
  readonly #now: number;
  readonly #deferrals: Deferral<T>[] = [];
  readonly #confirm: string[] = [];
  readonly #release: string[] = [];
  readonly #afterAudit: (() => Promise<void>)[] = [];
  /**
   * Each user's preferences, read once per batch: a user with several jobs in it (a packed
   * message, a burst of events) would otherwise miss the cache once per job, all at once.
   */
  readonly #prefs = new Map<string, Promise<Preferences | undefined>>();
  /** Jobs cleared to send, waiting for their targets: asked for in one call per batch. */
  readonly #targeting: { readonly work: Work<T>; readonly request: TargetRequest }[] = [];

  constructor(deps: DeliveryDeps, driver: ChannelDriver<T>) {
    this.#deps = deps;
    this.#driver = driver;
    this.#logger = deps.logger ?? silentLogger;
    this.#now = deps.clock.now();
  }

  async run(records: readonly SQSRecord[]): Promise<SQSBatchResponse> {
    const parts = await unsettledParts(
      records,
      this.#driver.channel,
      this.#deps.dedup,
      this.#logger,
      this.#deps.maxReceiveCount ?? 4,
    );
    const retracted = await this.#retracted(parts.map((part) => part.job));
    const works = await Promise.all(
      parts.map((part) => this.#prepare(part.record, part.id, part.job, retracted)),
    );
    await this.#targets();
    await this.#admit();
    await this.#shown(works);
    await this.#claim(works);
    await Promise.all(works.map((work) => this.#send(work)));
    await this.#resendDeferrals();
    this.#deadLetter(works);
    await this.#finish(works);
    // The unit of retry is the SQS message: one failed job of a packed record brings back its
    // siblings too, which their settled keys (confirmed in #deadLetter) then leave out.
    const failed = new Set(works.filter((w) => w.failed).map((w) => w.record.messageId));
    return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
  }

  /**
   * The batch's jobs whose event has a tombstone (`retractionKey`s), one call per tenant; the
   * error when they could not be read, so every job is retried with nothing sent.
   */
  async #retracted(jobs: readonly (DeliveryJob | undefined)[]): Promise<Set<string> | { error: unknown }> {
    const found = new Set<string>();
    const store = this.#deps.retractions;
    if (store === undefined) return found;
    const byTenant = new Map<string, EventRef[]>();
    for (const job of jobs) {
      if (job === undefined) continue;
      const refs = byTenant.get(job.tenantId) ?? [];
      refs.push({ eventId: job.eventId, actorId: job.actorId });
      byTenant.set(job.tenantId, refs);
    }
    try {
      for (const [tenantId, refs] of byTenant) {
        const ids = await store.retractedAmong(tenantId, refs);
        for (const ref of refs) if (ids.has(ref.eventId)) found.add(retractionKey(tenantId, ref));
      }
    } catch (error) {
      return { error };
    }
    return found;
  }

  /** Everything before the dedup claim: retraction, wait, preferences, decision, targets. */
  async #prepare(
    record: SQSRecord,
    id: string,
    job: DeliveryJob | undefined,
    retracted: Set<string> | { error: unknown },
  ): Promise<Work<T>> {
    const attempt = receiveCount(record);
    const work: Work<T> = { record, id, attempt, job, failed: false, entries: [], sends: [] };
    if (job === undefined) {
      this.#logger.warn('poison delivery message', { messageId: id, attempt });
      work.failed = true;
      return work;
    }
    if (job.withdraw === true) {
      this.#prepareWithdrawal(work, job);
      return work;
    }
    if (!(retracted instanceof Set)) {
      this.#fail(work, 'retractions not readable; nothing sent', retracted.error);
      return work;
    }
    // Checked before quiet hours too: a deferred job of a retracted event ends here when it comes back.
    if (retracted.has(retractionKey(job.tenantId, job))) {
      work.entries.push(this.#entry(work, job, Outcome.Retracted, { reason: 'retracted' }));
      return work;
    }
    if (job.notBefore !== undefined && job.notBefore > this.#now) {
      this.#defer(work, job, job.notBefore);
      return work;
    }
    try {
      const prefs = await this.#preferences(job);
      const decision = decideDelivery(prefs, this.#driver.channel, job.category, this.#now);
      if (decision.kind === 'suppress') {
        work.entries.push(this.#entry(work, job, decision.outcome, { reason: decision.reason }));
      } else if (decision.kind === 'defer') {
        const deferred = this.#entry(work, job, Outcome.Deferred, { reason: 'quiet_hours' });
        this.#defer(work, { ...job, notBefore: decision.until }, decision.until, deferred);
      } else {
        // decideDelivery only sends when a preference record gave consent.
        this.#targeting.push({ work, request: { job, prefs: prefs as Preferences, attempt: work.attempt } });
      }
    } catch (err) {
      this.#fail(work, 'delivery preparation failed', err);
    }
    return work;
  }

  /**
   * A withdrawal of a retracted notification's push: its event is retracted by definition, and it
   * shows nothing, so no tombstone, preference, quiet hours or cap holds it back; only a
   * `notBefore` (it waited for an original still in flight) does. Its targets are the user's
   * active devices, so a deactivated device gets none.
   */
  #prepareWithdrawal(work: Work<T>, job: DeliveryJob): void {
    if (job.notBefore !== undefined && job.notBefore > this.#now) {
      this.#defer(work, job, job.notBefore);
      return;
    }
    const prefs: Preferences = {
      tenantId: job.tenantId,
      userId: job.userId,
      timezone: 'UTC',
      consent: {},
      channels: {},
      categories: {},
      updatedAt: 0,
    };
    this.#targeting.push({ work, request: { job, prefs, attempt: work.attempt } });
  }

  /** The targets of every job cleared to send: one driver call for the batch when it can. */
  async #targets(): Promise<void> {
    const pending = this.#targeting;
    if (pending.length === 0) return;
    const driver = this.#driver;
    if (driver.targetsMany === undefined) {
      await Promise.all(
        pending.map(async ({ work, request }) => {
          try {
            this.#setTargets(work, request.job, await driver.targets(request.job, request.prefs));
          } catch (err) {
            this.#fail(work, 'delivery preparation failed', err);
          }
        }),
      );
      return;
    }
    let answers: (readonly T[] | NoTarget)[];
    try {
      answers = await driver.targetsMany(pending.map((p) => p.request));
      if (answers.length !== pending.length) throw new Error('targetsMany answered the wrong number of jobs');
    } catch (err) {
      for (const { work } of pending) this.#fail(work, 'delivery preparation failed', err);
      return;
    }
    pending.forEach(({ work, request }, i) => {
      this.#setTargets(work, request.job, answers[i]!);
    });
  }

  /**
   * The channel's last word before the claim (push frequency caps), once targets are known, so a
   * job with nowhere to go spends no place. One call per batch; no answer, no send.
   */
  async #admit(): Promise<void> {
    const admit = this.#driver.admit;
    // A withdrawal takes no place under a cap and joins no digest.
    const pending = this.#targeting.filter(
      ({ work, request }) => !work.failed && work.sends.length > 0 && request.job.withdraw !== true,
    );
    if (admit === undefined || pending.length === 0) return;
    let answers: Admission[];
    try {
      answers = await admit(pending.map((p) => p.request));
      if (answers.length !== pending.length) throw new Error('admit answered the wrong number of jobs');
    } catch (err) {
      for (const { work } of pending) {
        work.sends = [];
        this.#fail(work, 'delivery admission failed; nothing sent', err);
      }
      return;
    }
    pending.forEach(({ work, request }, i) => {
      const held = answers[i];
      if (held === undefined) return;
      if ('hold' in held) {
        work.hold = held.hold;
        return;
      }
      work.sends = [];
      if ('deferUntil' in held) {
        this.#defer(work, request.job, held.deferUntil);
        return;
      }
      if ('error' in held) this.#fail(work, 'delivery admission failed; nothing sent', held.error);
      else work.entries.push(this.#entry(work, request.job, held.outcome, { reason: held.reason }));
    });
  }

  #setTargets(work: Work<T>, job: DeliveryJob, targets: readonly T[] | NoTarget): void {
    if (isNoTarget(targets)) {
      work.entries.push(this.#entry(work, job, targets.outcome, { reason: targets.reason }));
      return;
    }
    const { tenantId, notificationId } = job;
    const channel = this.#driver.channel;
    work.sends = targets.map((target) =>
      job.withdraw === true
        ? {
            target,
            key: withdrawalKey(tenantId, notificationId, target.digest),
            state: undefined,
            original: deliveryKey(tenantId, notificationId, channel, target.digest),
          }
        : { target, key: deliveryKey(tenantId, notificationId, channel, target.digest), state: undefined },
    );
  }

  /**
   * Which devices a withdrawal goes to: those the original push reached, read from the dedup
   * store without taking anything (one call per batch). Confirmed, or claimed and never confirmed
   * after its lease (the holder may have sent): withdraw. Claimed under a live lease (the original
   * is being sent right now): the job comes back after the lease, so the withdrawal cannot overtake
   * the push it withdraws. Never claimed: the withdrawal takes the original's key and confirms it
   * at once, so an original job that read no tombstone yet (its consumer checked before the
   * retraction) finds it done and sends nothing (audited `duplicate`); nothing is withdrawn
   * (`not_shown`). Should that claim lose to the original's own, the original is in flight: come
   * back after the lease. Fail-closed.
   */
  async #shown(works: readonly Work<T>[]): Promise<void> {
    const asking = works.filter((w) => !w.failed && w.job?.withdraw === true && w.sends.length > 0);
    if (asking.length === 0) return;
    const originals = asking.flatMap((w) => w.sends.map((s) => s.original ?? s.key));
    let states: KeyState[];
    let blocked: ClaimState[];
    try {
      states = await this.#deps.dedup.peek(originals);
      const unseen = originals.filter((_, i) => states[i] === KeyState.Absent);
      blocked =
        unseen.length === 0
          ? []
          : await this.#deps.dedup.claim(unseen.map((key) => ({ key, leaseMs: this.#leaseMs })));
      const taken = unseen.filter((_, i) => blocked[i] === ClaimState.Acquired);
      if (taken.length > 0) await this.#deps.dedup.confirm(taken);
    } catch (err) {
      for (const w of asking) {
        w.sends = [];
        this.#fail(w, 'dedup store unavailable; nothing withdrawn', err);
      }
      return;
    }
    let i = 0;
    let b = 0;
    for (const w of asking) {
      w.sends = w.sends.filter((s) => {
        let state = states[i++];
        if (state === KeyState.Absent) {
          const claim = blocked[b++];
          // Lost the race to the original's consumer: in flight (pending) or already sent (done).
          if (claim === ClaimState.Done) state = KeyState.Done;
          else if (claim !== ClaimState.Acquired) state = KeyState.Pending;
        }
        if (state === KeyState.Done || state === KeyState.Stale) return true;
        if (state === KeyState.Pending) w.originalInFlight = true;
        else
          w.entries.push(
            this.#entry(w, w.job!, Outcome.NotShown, { target: s.target.digest, reason: 'not_sent' }),
          );
        return false;
      });
    }
  }

  #defer(work: Work<T>, job: DeliveryJob, until: number, entry?: AuditEntry): void {
    const delaySeconds = Math.min(MAX_DELAY_SECONDS, Math.max(1, Math.ceil((until - this.#now) / 1000)));
    this.#deferrals.push({ work, job, delaySeconds, ...(entry ? { entry } : {}) });
  }

  /**
   * Re-sends deferred jobs in one call, each with its own delay (SQS takes a delay per batch
   * entry); a job is acked (and audited) only once re-sent.
   */
  async #resendDeferrals(): Promise<void> {
    const deferrals = this.#deferrals;
    if (deferrals.length === 0) return;
    try {
      await this.#deps.queue.sendBatch(
        deferrals.map((d) => d.job),
        { delaySeconds: deferrals.map((d) => d.delaySeconds) },
      );
      for (const d of deferrals) if (d.entry) d.work.entries.push(d.entry);
    } catch (err) {
      for (const d of deferrals) this.#fail(d.work, 'deferral re-send failed', err);
    }
  }

  /** One claim call for every target of the batch. Fail-closed: no answer, no send. */
  async #claim(works: readonly Work<T>[]): Promise<void> {
    const claiming = works.filter((w) => !w.failed && w.sends.length > 0);
    const requests = claiming.flatMap((w) => w.sends.map((s) => ({ key: s.key, leaseMs: this.#leaseMs })));
    if (requests.length === 0) return;
    let states: ClaimState[];
    try {
      states = await this.#deps.dedup.claim(requests);
    } catch (err) {
      for (const w of claiming) {
        w.sends = [];
        this.#fail(w, 'dedup store unavailable; nothing sent', err);
      }
      return;
    }
    let i = 0;
    for (const w of claiming) for (const s of w.sends) s.state = states[i++];
  }

  get #leaseMs(): number {
    return this.#deps.leaseMs ?? 60_000;
  }

  async #send(work: Work<T>): Promise<void> {
    const job = work.job;
    if (job === undefined) return;
    let busy = false;
    let settled = false;
    /** Sends that certainly did not happen (their keys released). */
    let certainlyNot = 0;
    await Promise.all(
      work.sends.map(async ({ target, key, state }) => {
        if (state === ClaimState.Done) {
          settled = true;
          work.entries.push(this.#entry(work, job, Outcome.Duplicate, { target: target.digest }));
          return;
        }
        if (state !== ClaimState.Acquired && state !== ClaimState.AcquiredStale) {
          busy = true;
          return;
        }
        const ambiguous = state === ClaimState.AcquiredStale;
        try {
          const outcome = await this.#driver.send(job, target, ambiguous);
          const extras = { target: target.digest, ...(ambiguous ? { ambiguous } : {}) };
          work.entries.push(
            outcome.status === 'sent'
              ? this.#entry(work, job, job.withdraw === true ? Outcome.Withdrawn : Outcome.Sent, extras)
              : this.#entry(work, job, Outcome.Failed, { ...extras, reason: outcome.reason }),
          );
          // A permanent rejection is final too: confirming stops retries from trying it again.
          this.#confirm.push(key);
          settled = true;
          if (outcome.status === 'rejected' && outcome.afterAudit) this.#afterAudit.push(outcome.afterAudit);
        } catch (err) {
          // Certainly not sent: free the key for the retry. Maybe sent (ambiguous, or an error we do
          // not know): keep the claim, so the retry waits for the lease and re-sends as ambiguous.
          // A stale claim is never released: its first holder may have sent, so every later attempt
          // must stay an ambiguous re-send with the same ids.
          if (err instanceof TransportRetryableError && !err.ambiguous && state === ClaimState.Acquired) {
            this.#release.push(key);
            certainlyNot++;
            // The provider said when (throttling, quota): come back then, not at the queue's own
            // visibility timeout, which could be sooner (and spend the job's receives) or later.
            const after = err.retryAfterMs;
            if (after !== undefined && after > 0 && (job.providerDeferrals ?? 0) < MAX_PROVIDER_DEFERRALS) {
              work.retryAfterMs = Math.max(work.retryAfterMs ?? 0, after);
              return;
            }
          }
          // The request may have reached the provider (an ambiguous failure, or an error no
          // transport meant, after which the claim is kept as maybe-sent too): the audit says so
          // now, not only when the retry (or the DLQ) comes, so no possible send goes unrecorded.
          if (!(err instanceof TransportRetryableError) || err.ambiguous) {
            work.entries.push(
              this.#entry(work, job, Outcome.Unknown, {
                target: target.digest,
                reason: 'no_answer',
                ...(ambiguous ? { ambiguous } : {}),
              }),
            );
          }
          this.#fail(work, 'send failed; retrying', err);
        }
      }),
    );
    // The channel's own claims for this job (a digest slot) are confirmed with the sends, once
    // audited; a job that may have sent leaves them to their lease (its retry waits for it).
    if (settled && work.hold !== undefined) this.#confirm.push(...work.hold);
    // Nothing went out: the retry (or the window's next activity) may claim them again at once.
    else if (work.hold !== undefined && certainlyNot === work.sends.length) this.#release.push(...work.hold);
    // Busy: another consumer holds a live claim on this very delivery (a concurrent duplicate, or
    // a holder that died mid-send). Come back once its lease has run out, as a delayed copy: a
    // plain retry would spend the job's receives while the lease lasts and end in the DLQ.
    if (work.failed) return;
    const wait = Math.max(busy || work.originalInFlight ? this.#leaseMs : 0, work.retryAfterMs ?? 0);
    if (wait === 0) return;
    const next =
      work.retryAfterMs === undefined ? job : { ...job, providerDeferrals: (job.providerDeferrals ?? 0) + 1 };
    this.#defer(work, next, this.#now + wait);
  }

  /** A job failing on its last receive is audited before the queue moves it to the DLQ. */
  #deadLetter(works: readonly Work<T>[]): void {
    const max = this.#deps.maxReceiveCount ?? 4;
    const failedRecords = new Set(works.filter((w) => w.failed).map((w) => w.record.messageId));
    for (const w of works) {
      if (!failedRecords.has(w.record.messageId)) continue;
      // A job that ended beside a failed one of its packed message: settled, so the message's
      // next receive leaves it out (packed-parts.ts) and the dead-letter audit never records it.
      if (!w.failed && w.job !== undefined) {
        this.#confirm.push(settledKey(w, this.#driver.channel));
        continue;
      }
      if (w.attempt < max) continue;
      if (w.job === undefined) {
        // A message that is no job names no user or notification to audit; the DLQ keeps it.
        this.#logger.error('poison delivery message dead-lettered', { messageId: w.id });
        continue;
      }
      w.entries.push(this.#entry(w, w.job, Outcome.DeadLettered, { reason: 'max_receives' }));
      // Confirmed once audited, so the dead-letter audit (handlers/dead-letter-audit.ts) does not
      // record the same move again when it finds the message in the DLQ.
      this.#confirm.push(deadLetterKey(w.job.tenantId, this.#driver.channel, w.id));
    }
  }

  /** Release, audit, confirm, then the rejections' follow-ups: one call each for the whole batch. */
  async #finish(works: readonly Work<T>[]): Promise<void> {
    if (this.#release.length > 0) {
      try {
        await this.#deps.dedup.release(this.#release);
      } catch (err) {
        // The leases run out by themselves; the retries then re-send as ambiguous.
        this.#logger.warn('dedup release failed', { keys: this.#release.length, error: errorName(err) });
      }
    }
    const entries = works.flatMap((w) => w.entries);
    if (entries.length > 0) {
      try {
        await this.#deps.audit.append(entries);
      } catch (err) {
        // No decision may go unrecorded: retry every record that had one. Sent keys stay
        // unconfirmed, so their retries are ambiguous re-sends that are audited this time.
        for (const w of works) if (w.entries.length > 0) this.#fail(w, 'audit append failed', err);
        return;
      }
    }
    // With no entry, only settled keys can be waiting (a job that ended with no record: a copy
    // deferred to its `notBefore`), and they are confirmed all the same.
    if (this.#confirm.length > 0) {
      try {
        await this.#deps.dedup.confirm(this.#confirm);
      } catch (err) {
        // Sent and audited: retrying the jobs could only send again, so they are acked. The pending
        // claims answer Busy, then AcquiredStale, to any later duplicate of these jobs.
        this.#logger.warn('dedup confirm failed', { keys: this.#confirm.length, error: errorName(err) });
      }
    }
    // Best effort by design: a crash before these leaves a dead token active until the provider
    // rejects it again, which costs one more rejected send and loses no record.
    await Promise.all(this.#afterAudit.map((run) => run()));
  }

  #preferences(user: UserKey): Promise<Preferences | undefined> {
    const key = `${user.tenantId}\u0000${user.userId}`;
    let read = this.#prefs.get(key);
    if (read === undefined) {
      read = readPreferences(this.#deps, this.#logger, user);
      this.#prefs.set(key, read);
    }
    return read;
  }

  #fail(work: Work<T>, message: string, err: unknown): void {
    work.failed = true;
    this.#logger.warn(message, {
      messageId: work.id,
      tenantId: work.job?.tenantId,
      notificationId: work.job?.notificationId,
      attempt: work.attempt,
      error: errorName(err),
    });
  }

  #entry(
    work: Work<T>,
    job: DeliveryJob,
    outcome: Outcome,
    extras: { readonly reason?: string; readonly target?: string; readonly ambiguous?: boolean } = {},
  ): AuditEntry {
    return {
      at: this.#now,
      tenantId: job.tenantId,
      userId: job.userId,
      channel: this.#driver.channel,
      notificationId: job.notificationId,
      eventId: job.eventId,
      outcome,
      ...extras,
      attempt: work.attempt,
    };
  }
}

function retractionKey(tenantId: string, ref: EventRef): string {
  return `${tenantId}\n${ref.actorId}\n${ref.eventId}`;
}

function isNoTarget<T>(value: readonly T[] | NoTarget): value is NoTarget {
  return !Array.isArray(value);
}

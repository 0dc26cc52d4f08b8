import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { digestWindowOf } from '../domain/digest.ts';
import { ValidationError } from '../domain/errors.ts';
import { decodeEvent } from '../domain/event.ts';
import { type AggregationPolicy, groupKeyOf } from '../domain/grouping.ts';
import { notificationId, POINTER_RECIPIENT } from '../domain/ids.ts';
import { type TypePolicy, typePolicy } from '../domain/policy.ts';
import { retractedType } from '../domain/retraction.ts';
import { decideTier, type TierPolicy } from '../domain/tier.ts';
import { INBOX_TTL_MS } from '../domain/ttl.ts';
import {
  type AuthorEvent,
  type CelebrityPointer,
  Channel,
  type DeliveryJob,
  type InboxRow,
  Tier,
  type UserId,
  type UserKey,
} from '../domain/types.ts';
import { errorName } from '../lib/error-name.ts';
import type { CelebrityFeed } from '../ports/celebrity-feed.ts';
import type { Clock } from '../ports/clock.ts';
import type { DeliveryQueue } from '../ports/delivery-queue.ts';
import type { FollowerGraph } from '../ports/follower-graph.ts';
import type { EventRef, Inbox } from '../ports/inbox.ts';
import { type Logger, silentLogger } from '../ports/logger.ts';
import { type AggregationRules, defaultAggregationRules } from './aggregation.ts';
import { JobBuffer } from './job-buffer.ts';
import { recipientsMergingPointer } from './pointer-audience.ts';
import { RowBuffer } from './row-buffer.ts';
import { Withdrawals } from './withdrawals.ts';

/** What fan-out needs. */
export interface FanoutDeps {
  readonly graph: FollowerGraph;
  readonly inbox: Inbox;
  readonly feed: CelebrityFeed;
  readonly queues: Readonly<Record<Channel, DeliveryQueue>>;
  readonly tierPolicy: TierPolicy;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** Followers per page. @default 5000 */
  readonly pageSize?: number;
  /** A celebrity deletion's sweep of copied pointer rows, in followers. @default COPY_SWEEP_LIMIT */
  readonly copySweepLimit?: number;
  /** Which events aggregate (src/domain/grouping.ts). @default DEFAULT_AGGREGATION for every tenant */
  readonly aggregation?: AggregationRules;
}

/** Fan-out's own deps within one batch: where aggregated rows are held, and what is retracted. */
interface BatchDeps extends FanoutDeps {
  readonly rows: RowBuffer;
  /** `retractionKey`s of the batch's events that have a tombstone, and of those it retracts. */
  readonly retracted: Set<string>;
}

/**
 * How many of the first followers are checked for an existing row before a re-delivered event is
 * fanned out as a celebrity event (see `fanOutMode`).
 */
const ROW_PROBE = 8;

/** Jobs held across events before they are sent (bounds memory on a celebrity's alert pages). */
const FLUSH_AT = 1000;

/**
 * The fan-out worker (Kinesis → inbox rows or a celebrity pointer, and delivery jobs).
 *
 * The records of one batch come from one shard, in order; they are processed one after the other
 * so each author's events keep their order. On the first record that fails, its sequence number
 * is returned as the batch item failure and nothing after it is touched: Lambda retries from that
 * record, and the records before it are checkpointed. Everything written is idempotent
 * (deterministic notification ids, `putMany` / `put` per id), so a retried or re-delivered batch
 * writes no second row; duplicate delivery jobs are caught by the consumers' dedup store.
 */
export async function fanOut(
  event: KinesisStreamEvent,
  deps: FanoutDeps,
): Promise<KinesisStreamBatchResponse> {
  const logger = deps.logger ?? silentLogger;
  const decoded = event.Records.map((record) => ({ record, event: decodeRecord(record, logger) }));
  let retracted: Set<string>;
  try {
    retracted = await tombstonesOf(decoded, deps.inbox);
  } catch (err) {
    const first = event.Records[0];
    logger.warn('retractions not readable; the batch is retried', { error: errorName(err) });
    return {
      batchItemFailures: first === undefined ? [] : [{ itemIdentifier: first.kinesis.sequenceNumber }],
    };
  }
  const jobs = new JobBuffer(deps.queues);
  const rows = new RowBuffer(deps.inbox);
  const buffered: BatchDeps = { ...deps, queues: jobs.sinks as FanoutDeps['queues'], rows, retracted };
  // Aggregated rows are written before the jobs that follow them: never a job for an unwritten row.
  const buffer = {
    mark: () => ({ jobs: jobs.mark(), rows: rows.mark() }),
    rollback: (m: { jobs: ReturnType<JobBuffer['mark']>; rows: number }) => {
      jobs.rollback(m.jobs);
      rows.rollback(m.rows);
    },
    flush: async () => {
      await rows.flush();
      await jobs.flush();
    },
    get size() {
      return jobs.size + rows.size;
    },
  };
  // The first record whose jobs are still held: a failure reports from there, so no record is
  // checkpointed before its jobs are in the queue.
  let firstHeld: KinesisStreamRecord | undefined;
  const failAt = (record: KinesisStreamRecord) => ({
    batchItemFailures: [{ itemIdentifier: (firstHeld ?? record).kinesis.sequenceNumber }],
  });
  for (const { record, event: authorEvent } of decoded) {
    // An undecodable record can never be processed: retrying it would stall the shard (and every
    // author on it) until the record expires from the stream. It is logged and skipped instead.
    if (authorEvent === undefined) continue;
    // Retracted before fan-out reached it (a deletion that overtook its event, or an earlier
    // record of this batch): it writes nothing and sends nothing.
    const ref = { eventId: authorEvent.id, actorId: authorEvent.actorId };
    if (authorEvent.retracts === undefined && retracted.has(retractionKey(authorEvent.tenantId, ref)))
      continue;
    const mark = buffer.mark();
    try {
      await fanOutEvent(authorEvent, buffered);
    } catch (err) {
      logger.warn('fan-out failed; the batch resumes from this record', {
        sequenceNumber: record.kinesis.sequenceNumber,
        tenantId: authorEvent.tenantId,
        eventId: authorEvent.id,
        error: errorName(err),
      });
      // The records before this one are done once their jobs are sent.
      buffer.rollback(mark);
      try {
        await buffer.flush();
      } catch {
        return failAt(record);
      }
      return { batchItemFailures: [{ itemIdentifier: record.kinesis.sequenceNumber }] };
    }
    firstHeld ??= record;
    if (buffer.size >= FLUSH_AT) {
      try {
        await buffer.flush();
      } catch (err) {
        logger.warn('delivery jobs not sent; the batch resumes from its first unsent record', {
          error: errorName(err),
        });
        return failAt(record);
      }
      firstHeld = undefined;
    }
  }
  try {
    await buffer.flush();
  } catch (err) {
    logger.warn('delivery jobs not sent; the batch resumes from its first unsent record', {
      error: errorName(err),
    });
    return firstHeld === undefined ? { batchItemFailures: [] } : failAt(firstHeld);
  }
  return { batchItemFailures: [] };
}

/** The tombstones among the batch's events: one `retractedAmong` call per tenant in the batch. */
async function tombstonesOf(
  decoded: readonly { readonly event: AuthorEvent | undefined }[],
  inbox: Inbox,
): Promise<Set<string>> {
  const byTenant = new Map<string, EventRef[]>();
  for (const { event } of decoded) {
    if (event === undefined || event.retracts !== undefined) continue;
    const refs = byTenant.get(event.tenantId) ?? [];
    refs.push({ eventId: event.id, actorId: event.actorId });
    byTenant.set(event.tenantId, refs);
  }
  const found = new Set<string>();
  for (const [tenantId, refs] of byTenant) {
    const ids = await inbox.retractedAmong(tenantId, refs);
    for (const ref of refs) if (ids.has(ref.eventId)) found.add(retractionKey(tenantId, ref));
  }
  return found;
}

/** One retracted event of one tenant and actor, as the batch's set holds it. */
function retractionKey(tenantId: string, ref: EventRef): string {
  return `${tenantId}\n${ref.actorId}\n${ref.eventId}`;
}

function decodeRecord(record: KinesisStreamRecord, logger: Logger): AuthorEvent | undefined {
  try {
    return decodeEvent(Buffer.from(record.kinesis.data, 'base64'));
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    logger.error('undecodable event record skipped', {
      eventID: record.eventID,
      sequenceNumber: record.kinesis.sequenceNumber,
      error: errorName(err),
    });
    return undefined;
  }
}

/** Fans one event out. Idempotent: running it again writes nothing new for the same audience. */
async function fanOutEvent(event: AuthorEvent, deps: BatchDeps): Promise<void> {
  const author: UserKey = { tenantId: event.tenantId, userId: event.actorId };
  const policy = typePolicy(event.type);
  const rules = await (deps.aggregation ?? defaultAggregationRules).policyFor(event.tenantId);
  if (event.retracts !== undefined) {
    await retract(event, event.retracts, rules, deps);
    return;
  }
  const groupKey = groupKeyOf(event, rules);
  const [count, previous] = await Promise.all([deps.graph.followerCount(author), deps.graph.tier(author)]);
  const tier = decideTier(previous?.tier, count, deps.tierPolicy);
  // An author never decided is regular (decideTier treats both alike): writing that down for every
  // author's first post would cost a write and say nothing. Only a change of tier is stored.
  if (tier !== (previous?.tier ?? Tier.Regular))
    await deps.graph.setTier(author, { tier, changedAt: deps.clock.now() });

  const fan = new EventFan(event, policy, groupKey, digestWindowOf(event.type, rules), deps);
  const recipients = (event.recipients ?? []).filter((r) => r !== event.actorId);
  const explicit: ReadonlySet<UserId> = new Set(recipients);
  if ((await fanOutMode(event, tier, explicit, deps)) === Tier.Celebrity) {
    await fan.writePointer();
    // A recipient who follows the celebrity gets the event through the pointer (their catch-up
    // copies it in): a row as well would show it twice. They get the deliveries, under its id.
    const seePointer = await recipientsMergingPointer(author, recipients, deps.graph);
    await fan.rowsAndJobs(recipients.filter((r) => !seePointer.has(r)));
    await fan.pointerJobs(
      recipients.filter((r) => seePointer.has(r)),
      policy.channels,
    );
    await fan.alertFollowers(author, explicit);
  } else {
    await fan.rowsAndJobs(recipients);
    // The count is exact and read as fresh as a page: an author nobody follows (a liker, a
    // commenter) has no page to read, and on AWS no hot follower list to build.
    if (count > 0) await fan.allFollowers(author, explicit);
  }
}

/**
 * A retracting event (an `unlike`, or the deletion `DELETE /v1/events/{id}` appends): notifies
 * nobody. First it records the retracted event's tombstone (kept for the inbox TTL): should the
 * retracted event reach fan-out later, it writes nothing, and the delivery consumers send none of
 * its jobs still queued. Then it takes the actor out of the group the retracted event joined, in
 * the inbox of every recipient and follower of the actor (the audience that event had, as far as
 * the follower graph still knows it). A deletion (`retraction: 'delete'`) carries the retracted
 * event's type and time, so it also removes the event's own rows (their ids are derived from the
 * event id, the user and the time) and, for a celebrity's event, the rows catch-up copied in and
 * then the pointer itself (last, so a retry after a crash still finds it and repeats the rest).
 * Idempotent: a second retraction changes nothing (docs/architecture.md, "Retraction").
 */
async function retract(
  event: AuthorEvent,
  retracts: string,
  rules: AggregationPolicy,
  deps: BatchDeps,
): Promise<void> {
  const ref = { eventId: retracts, actorId: event.actorId };
  await deps.inbox.recordRetraction(event.tenantId, ref, deps.clock.now() + INBOX_TTL_MS);
  deps.retracted.add(retractionKey(event.tenantId, ref));
  const whole = event.retraction === 'delete';
  // A deletion carries the retracted event's own type; an unlike names it by its prefix.
  const type = whole ? event.type : retractedType(event.type);
  const groupKey = groupKeyOf({ ...event, type }, rules);
  if (groupKey === undefined && !whole) return;
  // The retracted event's rows may still be held in this batch: write them first, so the
  // retraction finds them (the order of an author's events is the order of their effects).
  await deps.rows.flush();
  const original: AuthorEvent = { ...event, id: retracts };
  const pointer = whole ? await deps.feed.get(event.tenantId, pointerId(original)) : undefined;
  const undo = (userId: UserId, recipient: boolean): Promise<unknown> => {
    const user: UserKey = { tenantId: event.tenantId, userId };
    const ids: string[] = [];
    // A celebrity's follower saw the pointer; a recipient saw a row (or the pointer, when following).
    if (pointer !== undefined) ids.push(pointer.id);
    const ownRow = recipient || pointer === undefined;
    if (ownRow && whole && groupKey === undefined)
      ids.push(notificationId(retracts, userId, event.occurredAt));
    const steps: Promise<unknown>[] = [];
    if (ownRow && groupKey !== undefined)
      steps.push(deps.inbox.retractFromGroup(user, groupKey, event.actorId, retracts));
    if (ids.length > 0) steps.push(deps.inbox.removeRows(user, ids));
    return Promise.all(steps);
  };
  const author: UserKey = { tenantId: event.tenantId, userId: event.actorId };
  const recipients = (event.recipients ?? []).filter((r) => r !== event.actorId);
  await Promise.all(recipients.map((userId) => undo(userId, true)));
  // Pushes already shown are withdrawn where the platform allows: a deleted event that was not
  // aggregated (an aggregated one's push is its group's digest, which the next digest replaces).
  const withdraw =
    whole && groupKey === undefined && typePolicy(event.type).channels.includes(Channel.Push)
      ? new Withdrawals(original, pointer?.id, { queue: deps.queues.push, graph: deps.graph })
      : undefined;
  await withdraw?.recipients(author, recipients);
  const explicit: ReadonlySet<UserId> = new Set(recipients);
  if (pointer !== undefined) {
    await withdraw?.alertFollowers(author, explicit, deps.pageSize ?? 5000);
    // The pointer goes before the sweep: whatever happens to the sweep, no catch-up copies it
    // from now on (and catch-up skips a tombstoned pointer it fetched just before).
    await deps.feed.remove(event.tenantId, event.actorId, pointer.id);
  }
  // A regular author's followers each have a row (written by fan-out, at the same cost). A
  // celebrity's have a copy only if they opened their inbox since: the post cost one pointer, so
  // its sweep is bounded, and copies beyond it stay until they expire (docs/architecture.md).
  let budget = pointer === undefined ? Number.POSITIVE_INFINITY : (deps.copySweepLimit ?? COPY_SWEEP_LIMIT);
  let after: string | undefined;
  do {
    const page = await deps.graph.pageFollowers(author, {
      limit: deps.pageSize ?? 5000,
      ...(after === undefined ? {} : { after }),
    });
    const audience = page.followers.filter((f) => f !== event.actorId).slice(0, budget);
    budget -= audience.length;
    for (let i = 0; i < audience.length; i += 100)
      await Promise.all(audience.slice(i, i + 100).map((userId) => undo(userId, false)));
    // A regular author's followers each had a push job under their own row's id.
    if (pointer === undefined) await withdraw?.followers(audience.filter((f) => !explicit.has(f)));
    after = budget > 0 ? page.next : undefined;
  } while (after !== undefined);
}

/**
 * The most followers of a celebrity whose copied pointer rows a deletion removes, in the fan-out
 * call that takes it: a copy costs a read (and a delete where there is one) per follower, whether
 * or not they ever opened their inbox, so a deletion of a 50-million-follower author cannot sweep
 * them all inside one invocation. 100,000 (a thousand rounds of 100 key reads) is an estimate of
 * what fits in the fan-out function's timeout with room; it is not measured on AWS.
 */
export const COPY_SWEEP_LIMIT = 100_000;

/**
 * The mode this event is fanned out in. Normally the author's tier now. But a re-delivered event
 * (a retried or replayed batch) keeps the mode it was first fanned out in, even when the tier has
 * changed since (the author crossed the line on a later event): otherwise its followers would
 * get both rows and a pointer for it. A pointer for the event proves celebrity mode; rows of its
 * first followers prove regular mode (the first page is written first, so a partly done attempt
 * shows there too). The probe misjudges only when every probed follower arrived after the
 * first attempt, which a handful of probes makes unlikely, not impossible.
 */
async function fanOutMode(
  event: AuthorEvent,
  tier: Tier,
  explicit: ReadonlySet<UserId>,
  deps: FanoutDeps,
): Promise<Tier> {
  if (tier === Tier.Regular) {
    const pointer = await deps.feed.get(event.tenantId, pointerId(event));
    return pointer === undefined ? Tier.Regular : Tier.Celebrity;
  }
  const author: UserKey = { tenantId: event.tenantId, userId: event.actorId };
  const { followers } = await deps.graph.pageFollowers(author, { limit: ROW_PROBE });
  for (const follower of followers) {
    // Explicit recipients have rows in either mode: they prove nothing.
    if (follower === event.actorId || explicit.has(follower)) continue;
    const user = { tenantId: event.tenantId, userId: follower };
    if (await deps.inbox.has(user, notificationId(event.id, follower, event.occurredAt))) return Tier.Regular;
  }
  return Tier.Celebrity;
}

function pointerId(event: AuthorEvent): string {
  return notificationId(event.id, POINTER_RECIPIENT, event.occurredAt);
}

/** The writes of one event: rows, the pointer and delivery jobs, built from one place. */
class EventFan {
  readonly #event: AuthorEvent;
  readonly #policy: TypePolicy;
  readonly #groupKey: string | undefined;
  readonly #digestWindowMs: number;
  readonly #deps: BatchDeps;
  readonly #pageSize: number;

  constructor(
    event: AuthorEvent,
    policy: TypePolicy,
    groupKey: string | undefined,
    digestWindowMs: number,
    deps: BatchDeps,
  ) {
    this.#event = event;
    this.#policy = policy;
    this.#groupKey = groupKey;
    this.#digestWindowMs = digestWindowMs;
    this.#deps = deps;
    this.#pageSize = deps.pageSize ?? 5000;
  }

  /** Regular author: a row and jobs for every follower, page by page. */
  async allFollowers(author: UserKey, skip: ReadonlySet<UserId>): Promise<void> {
    await this.#eachFollowerPage(author, false, skip, (page) => this.rowsAndJobs(page));
  }

  /** Celebrity author: ONE pointer, copied into a follower's inbox when that follower reads. */
  async writePointer(): Promise<void> {
    const e = this.#event;
    const pointer: CelebrityPointer = {
      tenantId: e.tenantId,
      authorId: e.actorId,
      id: pointerId(e),
      eventId: e.id,
      type: e.type,
      category: this.#policy.category,
      createdAt: e.occurredAt,
      ...(e.objectId === undefined ? {} : { objectId: e.objectId }),
      ...(e.data === undefined ? {} : { data: e.data }),
    };
    await this.#deps.feed.put([pointer]);
  }

  /** Delivery jobs on `channels` for users who see this event as the pointer; the job id is the pointer's. */
  async pointerJobs(userIds: readonly UserId[], channels: readonly Channel[]): Promise<void> {
    if (userIds.length === 0) return;
    const id = pointerId(this.#event);
    for (const channel of channels) {
      await this.#deps.queues[channel].sendBatch(userIds.map((userId) => this.#job(userId, id, channel)));
    }
  }

  /** Celebrity author: push jobs only for followers who asked for alerts; the job id is the pointer's. */
  async alertFollowers(author: UserKey, skip: ReadonlySet<UserId>): Promise<void> {
    if (!this.#policy.channels.includes(Channel.Push)) return;
    const id = pointerId(this.#event);
    await this.#eachFollowerPage(author, true, skip, (page) =>
      this.#deps.queues.push.sendBatch(page.map((userId) => this.#job(userId, id, Channel.Push))),
    );
  }

  async #eachFollowerPage(
    author: UserKey,
    alertsOnly: boolean,
    skip: ReadonlySet<UserId>,
    handle: (page: readonly UserId[]) => Promise<void>,
  ): Promise<void> {
    let after: string | undefined;
    do {
      // `recent` (half the price on DynamoDB): a follow or unfollow made within about a second of
      // the fan-out races it either way. Deletion sweeps and the mode probe read the latest.
      const page = await this.#deps.graph.pageFollowers(author, {
        limit: this.#pageSize,
        freshness: 'recent',
        ...(alertsOnly ? { alertsOnly } : {}),
        ...(after === undefined ? {} : { after }),
      });
      const audience = page.followers.filter((f) => f !== this.#event.actorId && !skip.has(f));
      if (audience.length > 0) await handle(audience);
      after = page.next;
    } while (after !== undefined);
  }

  /** Rows first, then jobs: a job is only ever sent for a row that exists. */
  async rowsAndJobs(recipients: readonly UserId[]): Promise<void> {
    if (recipients.length === 0) return;
    const e = this.#event;
    const rows: InboxRow[] = recipients.map((userId) => ({
      tenantId: e.tenantId,
      userId,
      id: notificationId(e.id, userId, e.occurredAt),
      eventId: e.id,
      type: e.type,
      category: this.#policy.category,
      actorId: e.actorId,
      createdAt: e.occurredAt,
      read: false,
      ...(e.objectId === undefined ? {} : { objectId: e.objectId }),
      ...(e.data === undefined ? {} : { data: e.data }),
      ...(this.#groupKey === undefined ? {} : { groupKey: this.#groupKey }),
    }));
    // Aggregated rows wait for the batch's other rows of their groups (row-buffer.ts).
    if (this.#groupKey === undefined) await this.#deps.inbox.putMany(rows);
    else await this.#deps.rows.hold(rows);
    for (const channel of this.#policy.channels) {
      await this.#deps.queues[channel].sendBatch(
        rows.map((row) => this.#job(row.userId, row.id, channel, channel === Channel.Push)),
      );
    }
  }

  /**
   * `digested`: a push job of a row that joined an aggregated group carries the group, so the push
   * consumer digests it (src/handlers/push-digest.ts); a pointer's jobs never do (no group item).
   */
  #job(userId: UserId, id: string, channel: Channel, digested = false): DeliveryJob {
    const e = this.#event;
    return {
      tenantId: e.tenantId,
      userId,
      notificationId: id,
      channel,
      eventId: e.id,
      type: e.type,
      category: this.#policy.category,
      actorId: e.actorId,
      createdAt: e.occurredAt,
      ...(e.objectId === undefined ? {} : { objectId: e.objectId }),
      ...(e.data === undefined ? {} : { data: e.data }),
      ...(!digested || this.#groupKey === undefined
        ? {}
        : { groupKey: this.#groupKey, digestWindowMs: this.#digestWindowMs }),
    };
  }
}

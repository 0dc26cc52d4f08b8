import { type CapDefaults, NO_CAP_DEFAULTS } from '../domain/frequency-cap.ts';
import type { Channel } from '../domain/types.ts';
import type { UnsubscribeTokens } from '../domain/unsubscribe.ts';
import { TenantAggregationRules } from '../handlers/aggregation.ts';
import { consumeEmail } from '../handlers/email-consumer.ts';
import { type EmailDigestResult, sendDueDigests } from '../handlers/email-digest.ts';
import { fanOut } from '../handlers/fanout.ts';
import { jobsIn } from '../handlers/job.ts';
import { invalidatePreferences } from '../handlers/preference-invalidation.ts';
import { consumePush } from '../handlers/push-consumer.ts';
import { errorName } from '../lib/error-name.ts';
import { sleep } from '../lib/sleep.ts';
import type { Ports } from '../ports/ports.ts';
import { DeadLetterSweep } from './dead-letter-sweep.ts';
import { DelayedRetries } from './delayed-retries.ts';
import { KinesisPoller, type OnFailureDestination } from './kinesis-poller.ts';
import { Periodic } from './periodic.ts';
import { type SqsHandler, SqsPoller } from './sqs-poller.ts';
import { StreamPoller } from './stream-poller.ts';

/** The functions of the pipeline, as the CDK app deploys them. */
export type PipelineFunction = 'fanout' | 'push' | 'email' | 'preference-invalidation' | 'email-digest';

/**
 * Runs around one handler call (one Lambda invocation): `records` is the size of its batch, in
 * jobs for the delivery consumers (a packed SQS message counts its jobs). The
 * aws-cost benchmark's Lambda meter measures handler CPU time with it.
 */
export type HandlerWrapper = <T>(fn: PipelineFunction, records: number, call: () => Promise<T>) => Promise<T>;

/** Knobs of the local event-source mappings. */
export interface PipelineOptions {
  /** Kinesis batch size for fan-out. @default 100 */
  readonly fanoutBatchSize?: number;
  /** Messages per consumer invocation. @default 10 */
  readonly deliveryBatchSize?: number;
  /** Consumer invocations in flight per channel. @default 2 */
  readonly deliveryConcurrency?: number;
  /** Send-rate limit per channel, messages per second. @default unlimited */
  readonly maxPerSecond?: Readonly<Partial<Record<Channel, number>>>;
  /** Receives before the DLQ, as the queues' redrive policy says. @default 4 */
  readonly maxReceiveCount?: number;
  /** Where fan-out records go after every retry failed. */
  readonly onFanoutFailure?: OnFailureDestination;
  /** Base delay of local retries. @default 200 ms */
  readonly retryBaseMs?: number;
  /**
   * Signed one-click unsubscribe links in email: the HTTP API's public base URL and the tokens
   * its unsubscribe route verifies. Unset: emails carry no unsubscribe link.
   */
  readonly unsubscribe?: { readonly baseUrl: string; readonly tokens: UnsubscribeTokens };
  /**
   * Visibility timeout of received delivery batches. Keep it above `leaseMs`, so a message that
   * comes back after a crash finds its dedup claim stale rather than busy. @default 180_000
   */
  readonly visibilityTimeoutMs?: number;
  /** Dedup lease of an in-flight send. @default 60_000 */
  readonly leaseMs?: number;
  /** The tenants' default push frequency caps; users' own caps apply either way. @default none */
  readonly capDefaults?: CapDefaults;
  /** Time source of the rate limiters, in ms. @default performance.now */
  readonly rateClock?: () => number;
  /** Wraps every handler call. @default none */
  readonly aroundHandler?: HandlerWrapper;
  /**
   * The dead-letter audit (`DeadLetterSweep`), the local stand-in for the scheduled Lambda: a
   * pass at start, then every `intervalMs`; `false` runs none. `sinceStart` leaves alone what was
   * dead-lettered before the pipeline was made, for a dedup store that forgets on restart.
   * @default every 60 s, over the dead letters of the last 14 days
   */
  readonly deadLetterAudit?: false | { readonly intervalMs?: number; readonly sinceStart?: boolean };
  /**
   * The email digest sender (`handlers/email-digest.ts`), the local stand-in for the scheduled
   * `email-digest` Lambda: a run at start, then every `intervalMs`; `false` runs none (the email
   * consumer still holds digest-cadence email, and `sendDueDigests()` sends it).
   * @default every 60 s
   */
  readonly emailDigests?: false | { readonly intervalMs?: number };
}

const directly: HandlerWrapper = (_fn, _records, call) => call();

/**
 * The whole pipeline in one process: fan-out on the event log, a consumer per channel on its
 * queue, and preference-cache invalidation on the preference change feed, each driven the way
 * its AWS event-source mapping would drive the Lambda; and the dead-letter audit on a timer, as
 * its EventBridge schedule would.
 */
export class Pipeline {
  readonly #fanout: KinesisPoller;
  /** Each channel's consumer, with the retries it put back on its queue. */
  readonly #consumers: readonly { readonly poller: SqsPoller; readonly retries: DelayedRetries }[];
  readonly #invalidation: StreamPoller;
  readonly #deadLetters: DeadLetterSweep | undefined;
  readonly #digests: Periodic | undefined;
  readonly #sendDigests: () => Promise<EmailDigestResult>;
  #started = false;

  constructor(ports: Ports, opts: PipelineOptions = {}) {
    const { clock, logger } = ports;
    const retryBaseMs = opts.retryBaseMs ?? 200;
    const around = opts.aroundHandler ?? directly;
    const aggregation = new TenantAggregationRules(ports.tenants, clock);
    this.#fanout = new KinesisPoller({
      log: ports.log,
      checkpoints: ports.checkpoints,
      consumer: 'fanout',
      batchSize: opts.fanoutBatchSize ?? 100,
      retryBaseMs,
      logger,
      ...(opts.onFanoutFailure ? { onFailure: opts.onFanoutFailure } : {}),
      handler: (event) =>
        around('fanout', event.Records.length, () =>
          fanOut(event, {
            graph: ports.graph,
            inbox: ports.inbox,
            feed: ports.feed,
            queues: ports.queues,
            tierPolicy: ports.tierPolicy,
            clock,
            logger,
            aggregation,
          }),
        ),
    });
    const shared = {
      preferences: ports.preferences,
      preferenceCache: ports.preferenceCache,
      dedup: ports.dedup,
      audit: ports.audit,
      clock,
      logger,
      maxReceiveCount: opts.maxReceiveCount ?? 4,
      retractions: ports.inbox,
      ...(opts.leaseMs === undefined ? {} : { leaseMs: opts.leaseMs }),
    };
    const retries = { push: new DelayedRetries(clock), email: new DelayedRetries(clock) };
    const pollerFor = (channel: Channel, handler: SqsHandler) => ({
      poller: makeSqs(ports, handler, channel, opts, retryBaseMs),
      retries: retries[channel],
    });
    // The consumers send their retries through the watched queues; the pollers receive directly.
    const queues = {
      push: retries.push.watch(ports.queues.push),
      email: retries.email.watch(ports.queues.email),
    };
    this.#consumers = [
      pollerFor('push', (event) =>
        around('push', jobsIn(event.Records), () =>
          consumePush(event, {
            ...shared,
            queue: queues.push,
            devices: ports.devices,
            push: ports.push,
            inbox: ports.inbox,
            caps: { store: ports.frequencyCaps, defaults: opts.capDefaults ?? NO_CAP_DEFAULTS },
          }),
        ),
      ),
      pollerFor('email', (event) =>
        around('email', jobsIn(event.Records), () =>
          consumeEmail(event, {
            ...shared,
            queue: queues.email,
            email: ports.email,
            digests: ports.digestSchedule,
            ...(opts.unsubscribe ? { unsubscribe: opts.unsubscribe } : {}),
          }),
        ),
      ),
    ];
    this.#invalidation = new StreamPoller({
      store: ports.preferences,
      checkpoints: ports.checkpoints,
      logger,
      handler: (event) =>
        around('preference-invalidation', event.Records.length, () =>
          invalidatePreferences(event, { cache: ports.preferenceCache, logger }),
        ),
    });
    const deadLetters = opts.deadLetterAudit ?? {};
    this.#deadLetters =
      deadLetters === false
        ? undefined
        : new DeadLetterSweep({
            queues: ports.queues,
            audit: ports.audit,
            dedup: ports.dedup,
            clock,
            logger,
            ...(deadLetters.intervalMs === undefined ? {} : { intervalMs: deadLetters.intervalMs }),
            ...(deadLetters.sinceStart ? { notBefore: clock.now() } : {}),
          });
    this.#sendDigests = () =>
      around('email-digest', 1, () =>
        sendDueDigests({
          schedule: ports.digestSchedule,
          inbox: ports.inbox,
          preferences: ports.preferences,
          preferenceCache: ports.preferenceCache,
          dedup: ports.dedup,
          email: ports.email,
          audit: ports.audit,
          clock,
          logger,
          ...(opts.leaseMs === undefined ? {} : { leaseMs: opts.leaseMs }),
          ...(opts.unsubscribe ? { unsubscribe: opts.unsubscribe } : {}),
        }),
      );
    const digests = opts.emailDigests ?? {};
    this.#digests =
      digests === false
        ? undefined
        : new Periodic(async () => {
            try {
              await this.sendDueDigests();
            } catch (err) {
              logger.warn('email digest run failed', { error: errorName(err) });
            }
          }, digests.intervalMs ?? 60_000);
  }

  /**
   * One run of the email digest sender now: the digests due by the pipeline's clock. The timer
   * calls it; a test with a clock of its own calls it after moving the clock.
   */
  sendDueDigests(): Promise<EmailDigestResult> {
    return this.#sendDigests();
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.#fanout.start();
    for (const c of this.#consumers) c.poller.start();
    this.#invalidation.start();
    this.#deadLetters?.start();
    this.#digests?.start();
  }

  /**
   * Resolves once fan-out has checkpointed every record, every retry a consumer put back on its
   * queue as a delayed copy (a job waiting out a dedup lease or a provider's Retry-After) has come
   * due and been received, and no queue has a visible or in-flight message, seen twice in a row so
   * that work moving from one stage to the next is not missed. Scheduled messages (quiet-hours
   * deferrals, digest flushes: a `notBefore` still ahead) are not waited for (delayed-retries.ts).
   */
  async drained(opts: { readonly pollMs?: number; readonly signal?: AbortSignal } = {}): Promise<void> {
    let quietRounds = 0;
    while (!opts.signal?.aborted) {
      quietRounds = (await this.#isQuiet()) ? quietRounds + 1 : 0;
      if (quietRounds >= 2) return;
      await sleep(opts.pollMs ?? 100, opts.signal);
    }
  }

  async #isQuiet(): Promise<boolean> {
    if (!(await this.#fanout.isCaughtUp())) return false;
    for (const { poller, retries } of this.#consumers) {
      if (retries.pending()) return false;
      if (!(await poller.isIdle({ receivedSince: retries.dueAt }))) return false;
    }
    return this.#invalidation.isCaughtUp();
  }

  /** Lets every batch in flight finish and checkpoint, then stops. Nothing is lost. */
  async stop(): Promise<void> {
    await this.#fanout.stop();
    await Promise.all(this.#consumers.map((c) => c.poller.stop()));
    await this.#invalidation.stop();
    await this.#deadLetters?.stop();
    await this.#digests?.stop();
  }
}

function makeSqs(
  ports: Ports,
  handler: SqsHandler,
  channel: Channel,
  opts: PipelineOptions,
  retryBaseMs: number,
): SqsPoller {
  const maxPerSecond = opts.maxPerSecond?.[channel];
  return new SqsPoller({
    queue: ports.queues[channel],
    handler,
    batchSize: opts.deliveryBatchSize ?? 10,
    concurrency: opts.deliveryConcurrency ?? 2,
    retryBaseMs,
    logger: ports.logger,
    ...(maxPerSecond ? { maxPerSecond } : {}),
    ...(opts.visibilityTimeoutMs === undefined ? {} : { visibilityTimeoutMs: opts.visibilityTimeoutMs }),
    ...(opts.rateClock === undefined ? {} : { now: opts.rateClock }),
  });
}

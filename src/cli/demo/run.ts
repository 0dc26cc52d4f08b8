import type { AuditEntry } from '../../domain/audit-types.ts';
import { createUnsubscribeTokens } from '../../domain/unsubscribe.ts';
import { ingestEvents } from '../../handlers/ingest.ts';
import { sleep } from '../../lib/sleep.ts';
import type { AuditSink } from '../../ports/audit-sink.ts';
import type { Logger } from '../../ports/logger.ts';
import type { Ports } from '../../ports/ports.ts';
import type { RuntimeConfig } from '../../runtime/config.ts';
import { DataDirSecret, dataDirSecret, openEmbeddedPorts } from '../../runtime/embedded.ts';
import { type HandlerWrapper, Pipeline, type PipelineOptions } from '../../runtime/pipeline.ts';
import type { Reporter } from '../progress.ts';
import { step } from '../step.ts';
import { UsageError } from '../usage.ts';
import { type DemoBackend, embeddedBackend } from './backend.ts';
import { DemoClock } from './clock.ts';
import { demoEvents } from './events.ts';
import { type RealRecipient, seedRealRecipient, sinksOnly, withRealRecipient } from './real-recipient.ts';
import type { Scenario } from './scenario.ts';
import { seedDemo } from './seed.ts';
import type { DemoState } from './state.ts';
import { type DemoSummary, summarize } from './summary.ts';
import { demoEmailFault, demoPushFault } from './users.ts';
import { type ViralTarget, viralEvents, viralTarget } from './viral.ts';

/** Events per ingest call. */
const POST_CHUNK = 500;
/** How often progress is read from the stores while the pipeline runs (counts cost a little). */
const PROGRESS_POLL_MS = 1000;

export interface DemoRunOptions {
  readonly config: RuntimeConfig;
  readonly scenario: Scenario;
  /** `--at`: the instant the demo's clock starts at; the system clock when undefined. */
  readonly at?: number;
  readonly reporter: Reporter;
  /** Aborted by SIGINT / SIGTERM: the run stops gracefully and rejects with the abort reason. */
  readonly signal: AbortSignal;
  readonly logger?: Logger;
  /**
   * Opens the profile the demo runs on, with the demo's clock and injected transport faults.
   * @default the embedded profile on `config.dataDir`
   */
  readonly openBackend?: (ctx: BackendContext) => Promise<DemoBackend>;
  /** You, reached through the real providers (FANOUT_DEMO_DEVICES, FANOUT_DEMO_EMAIL; real-recipient.ts). */
  readonly realRecipient?: RealRecipient;
  /** Wraps every handler call of the pipeline (the aws-cost benchmark's Lambda meter). */
  readonly aroundHandler?: HandlerWrapper;
}

/** What a profile needs to open a demo backend. */
export interface BackendContext {
  readonly config: RuntimeConfig;
  readonly clock: DemoClock;
  readonly logger?: Logger;
  readonly realRecipient?: RealRecipient;
}

/**
 * The embedded profile, with the demo's injected push and email faults. Synthetic users' sends
 * always stay on the recording sinks; only yours reach the configured providers.
 */
export async function openEmbeddedBackend(ctx: BackendContext): Promise<DemoBackend> {
  const ports = await openEmbeddedPorts({
    config: ctx.config,
    clock: ctx.clock,
    ...(ctx.logger ? { logger: ctx.logger } : {}),
    pushFault: demoPushFault,
    emailFault: demoEmailFault,
    // The demo keeps its synthetic users on the sinks itself (sinksOnly, withRealRecipient).
    demo: true,
  });
  return embeddedBackend(ctx.realRecipient ? withRealRecipient(ports, ctx.realRecipient) : sinksOnly(ports));
}

/** A finished demo run whose pipeline is still running (`fanout start` keeps it going). */
export interface DemoRun {
  readonly backend: DemoBackend;
  readonly pipeline: Pipeline;
  readonly summary: DemoSummary;
}

/**
 * The pipeline knobs of a local run. Visibility timeout above the dedup lease: a job that comes
 * back after a crash finds its claim stale and is re-sent as ambiguous at once, instead of
 * burning its retries on a claim that is still busy.
 */
export function localPipelineOptions(config: RuntimeConfig): PipelineOptions {
  return {
    deliveryBatchSize: config.deliveryBatch,
    deliveryConcurrency: config.deliveryConcurrency,
    maxPerSecond: {
      ...(config.pushRate > 0 ? { push: config.pushRate } : {}),
      ...(config.emailRate > 0 ? { email: config.emailRate } : {}),
    },
    visibilityTimeoutMs: 10_000,
    leaseMs: 5_000,
    capDefaults: config.frequencyCaps,
    // The memory dedup store forgets which dead letters were audited: only newer ones are looked at.
    deadLetterAudit: { sinceStart: config.dedup === 'memory' },
    ...unsubscribeLinks(config),
  };
}

/**
 * Signed one-click unsubscribe links, when the API has a public URL: signed with the data dir's
 * token secret, which `fanout serve`'s unsubscribe route checks them with (a `fanout work` process
 * on the same data dir reads the same file).
 */
function unsubscribeLinks(config: RuntimeConfig): Pick<PipelineOptions, 'unsubscribe'> {
  const baseUrl = config.delivery.publicBaseUrl;
  if (baseUrl === undefined) return {};
  const secret = config.tokenSecret ?? dataDirSecret(config.dataDir, DataDirSecret.Token);
  return { unsubscribe: { baseUrl, tokens: createUnsubscribeTokens(secret) } };
}

/**
 * Seeds the demo tenant, posts its events through the Event API handler, runs the pipeline until
 * it is drained and reads the totals back from durable state. Safe to run again on the same data
 * dir, after a clean exit or a crash: seeding and posting are idempotent, fan-out resumes from its
 * checkpoints, deliveries from the queues and the dedup store.
 */
export async function runDemo(opts: DemoRunOptions): Promise<DemoRun> {
  const { scenario: s, reporter, signal } = opts;
  const started = performance.now();
  const clock = new DemoClock(opts.at ?? Date.now());
  const opening =
    opts.config.profile === 'local-aws'
      ? 'starting the local-aws emulators'
      : `opening the data dir ${opts.config.dataDir}`;
  const backend = await step(opening, () =>
    (opts.openBackend ?? openEmbeddedBackend)({
      config: opts.config,
      clock,
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.realRecipient ? { realRecipient: opts.realRecipient } : {}),
    }),
  );
  const { ports, state } = backend;
  let pipeline: Pipeline | undefined;
  try {
    const epoch = prepareState(state, s, clock, opts.at);
    // The like storm's post and owner, found once: the events and the summary name the same.
    const viral = (s.viralLikes ?? 0) > 0 ? viralTarget(s, epoch) : undefined;
    await step('seeding the demo graph', async () => {
      await seedDemo(s, { ports, state, reporter, signal, at: epoch });
      const you = opts.realRecipient;
      if (you !== undefined) await seedRealRecipient(ports, s.tenantId, you, epoch);
      backend.afterSeed();
    });
    const eventsAppended = await step('posting the events', () =>
      postEvents(ports, s, epoch, viral, reporter, signal),
    );
    let decisions = 0;
    const audit = countingSink(ports.audit, (n) => {
      if (decisions === 0) reporter.phase('delivery');
      decisions += n;
    });
    pipeline = new Pipeline(
      { ...ports, audit },
      {
        ...localPipelineOptions(opts.config),
        ...(opts.aroundHandler ? { aroundHandler: opts.aroundHandler } : {}),
      },
    );
    reporter.phase('fanout');
    const running = pipeline;
    await step('fanning out and delivering', async () => {
      await running.start();
      await watchProgress(backend, s.tenantId, running, reporter, signal, () => decisions);
    });
    signal.throwIfAborted();
    reporter.phase('summary');
    const summary = await step('reading the totals', () =>
      summarize(backend, s.tenantId, {
        eventsAppended,
        elapsedMs: Math.round(performance.now() - started),
        ...(viral ? { viral: { likes: s.viralLikes ?? 0, target: viral, now: clock.now() } } : {}),
      }),
    );
    return { backend, pipeline, summary };
  } catch (err) {
    await pipeline?.stop();
    await backend.close();
    throw err;
  }
}

/** Checks the data dir holds this scenario (or none), resumes the clock, returns the event epoch. */
function prepareState(state: DemoState, s: Scenario, clock: DemoClock, at: number | undefined): number {
  const fingerprint = JSON.stringify(s);
  const stored = state.get('scenario');
  if (stored !== undefined && stored !== fingerprint) {
    throw new UsageError('the data dir holds a demo of another scale or seed; use another --data-dir');
  }
  if (stored === undefined) state.set('scenario', fingerprint);
  if (at !== undefined) {
    const anchor = state.get('clock');
    const parsed = anchor === undefined ? undefined : (JSON.parse(anchor) as { at: number; wall: number });
    if (parsed?.at === at) clock.resume(parsed);
    else state.set('clock', JSON.stringify(clock.anchor));
  }
  // Event times derive from `--at` alone when given, so two data dirs get the same events.
  const epochText = state.get('epoch');
  if (epochText !== undefined) return Number(epochText);
  const epoch = at ?? Math.floor(clock.now() / 1000) * 1000;
  state.set('epoch', String(epoch));
  return epoch;
}

async function postEvents(
  ports: Ports,
  s: Scenario,
  epoch: number,
  viral: ViralTarget | undefined,
  reporter: Reporter,
  signal: AbortSignal,
): Promise<number> {
  reporter.phase('post');
  const events = [...demoEvents(s, epoch), ...(viral ? viralEvents(s, epoch, viral) : [])];
  const bar = reporter.bar('events posted', events.length);
  let appended = 0;
  for (let i = 0; i < events.length; i += POST_CHUNK) {
    signal.throwIfAborted();
    const results = await ingestEvents(s.tenantId, events.slice(i, i + POST_CHUNK), ports);
    appended += results.filter((r) => r.fresh).length;
    bar.update(Math.min(events.length, i + POST_CHUNK));
  }
  bar.end();
  return appended;
}

/** Draws fan-out and delivery progress until the pipeline is drained or the run is aborted. */
async function watchProgress(
  backend: DemoBackend,
  tenantId: string,
  pipeline: Pipeline,
  reporter: Reporter,
  signal: AbortSignal,
  decisions: () => number,
): Promise<void> {
  if (!reporter.live) return pipeline.drained({ signal });
  const { ports } = backend;
  const total = (await backend.storeCounts(tenantId)).events;
  const fanout = reporter.bar('fan-out', total);
  const delivery = reporter.bar('delivery', 0);
  let drained = false;
  const done = pipeline.drained({ signal }).then(() => {
    drained = true;
  });
  let fanoutDone = false;
  while (!drained && !signal.aborted) {
    const fanned = (await backend.fannedOutEvents()) ?? 0;
    if (!fanoutDone) fanout.update(fanned);
    if (!fanoutDone && fanned >= total) {
      fanoutDone = true;
      fanout.end();
    }
    const [push, email] = await Promise.all([ports.queues.push.depth(), ports.queues.email.depth()]);
    const remaining = push.visible + push.inFlight + email.visible + email.inFlight;
    // Jobs keep arriving while fan-out runs: the total is shown once it is known, not guessed.
    if (decisions() > 0) {
      if (fanoutDone) delivery.update(decisions(), decisions() + remaining);
      else delivery.update(decisions());
    }
    await Promise.race([done, sleep(PROGRESS_POLL_MS, signal)]);
  }
  await done;
  if (!fanoutDone) fanout.end();
  delivery.update(decisions(), decisions());
  delivery.end();
}

/** The audit sink, counting what was appended (the decisions made) for progress. */
function countingSink(inner: AuditSink, onAppend: (count: number) => void): AuditSink {
  return {
    async append(entries: readonly AuditEntry[]): Promise<void> {
      await inner.append(entries);
      onAppend(entries.length);
    },
  };
}

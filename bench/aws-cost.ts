import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { demoEvents } from '../src/cli/demo/events.ts';
import { localAwsBackend } from '../src/cli/demo/local-aws-backend.ts';
import { runDemo } from '../src/cli/demo/run.ts';
import { type Scenario, SMALL_SCENARIO } from '../src/cli/demo/scenario.ts';
import { CELEBRITY_ID } from '../src/cli/demo/users.ts';
import type { Reporter } from '../src/cli/progress.ts';
import type { UserKey } from '../src/domain/types.ts';
import { markAllRead, readInbox, unreadCount } from '../src/handlers/inbox.ts';
import { ingestEvents } from '../src/handlers/ingest.ts';
import type { Ports } from '../src/ports/ports.ts';
import { readRuntimeConfig } from '../src/runtime/config.ts';
import { CostMeter } from '../src/runtime/local-aws/cost-meter.ts';
import { type EmulatorEndpoints, startEmulators } from '../src/runtime/local-aws/emulators.ts';
import { LambdaMeter } from '../src/runtime/local-aws/lambda-meter.ts';
import type { LocalAwsProfile } from '../src/runtime/local-aws/profile.ts';
import type { Pipeline } from '../src/runtime/pipeline.ts';
import { costReport, type ModeRun } from './aws-cost-report.ts';
import { InboxReadCost, type ReadCostOptions } from './aws-read-cost.ts';
import { withReadCosts } from './aws-read-report.ts';
import { LOWEST_COST } from './lowest-cost.ts';
import { PUSH_WORKLOADS, type PushWorkload, runPushWorkload } from './push-workload.ts';
import type { BenchReport } from './support.ts';
import { withTempDir } from './support.ts';

/** A size of the aws-cost benchmark: the demo scenario it runs and the read-cost readers. */
export interface AwsCostSize {
  readonly scenario: Scenario;
  /** FANOUT_CELEBRITY_THRESHOLD of the run: the scenario's celebrity must reach it. */
  readonly celebrityThreshold: number;
  /** Fresh events posted after the demo (see liveEvents). */
  readonly liveEvents: number;
  /** Users whose inbox is opened after the run, to price the read side of each unread mode. */
  readonly readers: number;
  readonly readCost: ReadCostOptions;
  /** Run after the lowest-cost run's demo, on the same pipeline (bench/push-workload.ts). */
  readonly pushWorkload: PushWorkload;
}

/**
 * `small` (the default): the small demo scenario, about three minutes on a quiet 2-core machine.
 * `tiny`: the same shapes at a tenth of the size (a 1,200-follower celebrity over a threshold of
 * 1,000), to check that the benchmark runs; its figures are noisier (fewer rows per batch).
 */
export const AWS_COST_SIZES = {
  small: {
    scenario: SMALL_SCENARIO,
    celebrityThreshold: 10_000,
    liveEvents: 100,
    readers: 200,
    readCost: {},
    pushWorkload: PUSH_WORKLOADS.small,
  },
  // Seconds, not minutes: only to check the benchmark works (`--tiny`); its figures mean nothing.
  tiny: {
    scenario: {
      ...SMALL_SCENARIO,
      celebrityFollowers: 300,
      authors: 20,
      activeUsers: 150,
      extraEvents: 10,
      celebrityPosts: 1,
    },
    celebrityThreshold: 250,
    liveEvents: 5,
    readers: 5,
    readCost: { celebrities: [3, 6], pointersPerCelebrity: 2, rows: 40, reads: 2 },
    pushWorkload: PUSH_WORKLOADS.tiny,
  },
} as const satisfies Record<string, AwsCostSize>;

export type AwsCostSizeName = keyof typeof AWS_COST_SIZES;

/** Options of {@link awsCostBench}. */
export interface AwsCostOptions {
  /** @default 'small' */
  readonly size?: AwsCostSizeName;
}

/**
 * `npm run bench -- aws-cost`: runs the small demo scenario through the AWS adapters on the
 * emulators, once per unread mode and once more as the lowest-cost configuration runs it (counter
 * mode, consumers taking batches of 100 messages), counting every request and DynamoDB's consumed capacity
 * (see CostMeter) and each function's handler CPU time (LambdaMeter), then prices them with
 * bench/aws-prices.ts for the default and the lowest-cost configuration.
 */
export async function awsCostBench(opts: AwsCostOptions = {}): Promise<BenchReport> {
  const sizeName = opts.size ?? 'small';
  const size: AwsCostSize = AWS_COST_SIZES[sizeName];
  const emulators = await startEmulators();
  try {
    const gsi = await runMode('gsi', emulators.endpoints, size);
    const counter = await runMode('counter', emulators.endpoints, size);
    // The lowest-cost configuration's consumers take larger batches: their invocations, requests
    // and CPU are measured in a run of their own.
    const lowest = await runMode(
      'counter',
      emulators.endpoints,
      size,
      LOWEST_COST.deliveryBatch,
      size.pushWorkload,
    );
    const reads = new InboxReadCost(emulators.endpoints, size.readCost);
    try {
      await reads.seed();
      const readCosts = { gsi: await reads.measure('gsi'), counter: await reads.measure('counter') };
      const runs = { gsi, counter, lowest, pushWorkload: lowest.pushWorkload! };
      return withReadCosts(costReport(runs, sizeName, size), readCosts, reads.options);
    } finally {
      reads.close();
    }
  } finally {
    await emulators.stop();
  }
}

async function runMode(
  mode: 'gsi' | 'counter',
  endpoints: EmulatorEndpoints,
  size: AwsCostSize,
  deliveryBatch = 10,
  workload?: PushWorkload,
): Promise<ModeRun & { readonly pushWorkload?: ModeRun }> {
  const scenario = size.scenario;
  const tenant = scenario.tenantId;
  return withTempDir(`aws-cost-${mode}-${deliveryBatch}`, async (dir) => {
    const meter = new CostMeter();
    const lambda = new LambdaMeter(meter);
    // Seeding the graph, devices and preferences is a one-off import, not a per-notification cost.
    meter.enabled = false;
    lambda.enabled = false;
    const reporter: Reporter = {
      live: false,
      // Measured from the first posted event until drained; the summary's read-back is not.
      phase: (name) => {
        if (name === 'post') meter.enabled = lambda.enabled = true;
        if (name === 'summary') meter.enabled = lambda.enabled = false;
      },
      bar: () => ({ update() {}, end() {} }),
    };
    const config = readRuntimeConfig({
      FANOUT_DATA_DIR: dir,
      FANOUT_PROFILE: 'local-aws',
      FANOUT_UNREAD_MODE: mode,
      FANOUT_LOG_LEVEL: 'silent',
      FANOUT_CELEBRITY_THRESHOLD: String(size.celebrityThreshold),
      // The consumers' batch on Lambda (FanoutDelivery batchSize): one invocation, one audit
      // record per 10 messages as deployed by default (100 in the lowest-cost configuration), not
      // the embedded queue's 500. A message carries up to FANOUT_JOBS_PER_MESSAGE jobs (10, the
      // deployed default, left to the profile).
      FANOUT_DELIVERY_BATCH: String(deliveryBatch),
    });
    let profile: LocalAwsProfile | undefined;
    const run = await runDemo({
      config,
      scenario,
      // Tomorrow, so nothing the run writes is past its TTL on the emulator's wall clock.
      at: Math.ceil(Date.now() / 86_400_000) * 86_400_000 + 3 * 3_600_000,
      reporter,
      signal: new AbortController().signal,
      openBackend: localAwsBackend({ endpoints, meter, onOpen: (p) => (profile = p) }),
      aroundHandler: lambda.around,
    });
    try {
      const pipeline = meter.counts();
      const functions = lambda.usage();
      // The live events run warm code (the demo compiled it): their CPU time per record is what a
      // warm Lambda container spends, where the demo's includes the JIT's first compilations.
      lambda.reset();
      lambda.enabled = true;
      const live = await liveEvents(run.backend.ports, run.pipeline, meter, scenario, size.liveEvents, () =>
        run.backend.storeCounts(tenant),
      );
      lambda.enabled = false;
      const warmFunctions = lambda.usage();
      const pushWorkload =
        workload === undefined
          ? undefined
          : await runPushWorkload({ backend: run.backend, pipeline: run.pipeline, meter, lambda }, workload);
      await run.pipeline.stop();
      meter.enabled = false;
      const users = await readers(profile!, tenant, size.readers);
      meter.reset();
      meter.enabled = true;
      for (const user of users) await openInbox(run.backend.ports, user);
      return {
        summary: run.summary,
        live,
        pipeline,
        functions,
        warmFunctions,
        reads: meter.counts(),
        readers: users.length,
        ...(pushWorkload === undefined ? {} : { pushWorkload }),
      };
    } finally {
      await run.backend.close();
    }
  });
}

/** The first `count` users with inbox rows (read with the meter off). */
async function readers(profile: LocalAwsProfile, tenantId: string, count: number): Promise<UserKey[]> {
  const users = new Set<string>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await profile.clients.documents.send(
      new ScanCommand({
        TableName: profile.resources.tables.inbox,
        ProjectionExpression: 'pk',
        FilterExpression: 'begins_with(pk, :t) AND attribute_exists(ca)',
        ExpressionAttributeValues: { ':t': `${tenantId}#` },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) users.add(String(item.pk));
    start = page.LastEvaluatedKey;
  } while (start !== undefined && users.size < count);
  return [...users].slice(0, count).map((pk) => ({ tenantId, userId: pk.slice(tenantId.length + 1) }));
}

/**
 * The demo's events are backdated by design (deterministic ids across profiles), so every row they
 * write is "late" for the counter mode, which then resets the user's counter. A live app posts
 * events as they happen: this posts `count` of the demo's own authors' events again with fresh ids and
 * no occurredAt (the Event API stamps it), and measures what their rows cost.
 */
async function liveEvents(
  ports: Ports,
  pipeline: Pipeline,
  meter: CostMeter,
  scenario: Scenario,
  count: number,
  counts: () => Promise<{ readonly inboxRows: number }>,
): Promise<ModeRun['live']> {
  const before = (await counts()).inboxRows;
  const bodies = demoEvents(scenario, ports.clock.now())
    .filter((body) => body.actorId !== CELEBRITY_ID)
    .slice(0, count)
    .map(({ occurredAt: _, ...body }) => ({ ...body, id: `live-${body.id}` }));
  meter.reset();
  meter.enabled = true;
  await ingestEvents(scenario.tenantId, bodies, ports);
  await pipeline.drained();
  const live = meter.counts();
  meter.enabled = false;
  return { counts: live, rows: (await counts()).inboxRows - before };
}

/** What an app does when a user opens the notification center. */
async function openInbox(ports: Ports, user: UserKey): Promise<void> {
  await unreadCount(user, ports);
  await readInbox(user, { limit: 20 }, ports);
  await markAllRead(user, ports);
  await unreadCount(user, ports);
}

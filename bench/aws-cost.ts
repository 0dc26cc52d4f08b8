import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { demoEvents } from '../src/cli/demo/events.ts';
import { localAwsBackend } from '../src/cli/demo/local-aws-backend.ts';
import { runDemo } from '../src/cli/demo/run.ts';
import { type Scenario, SMALL_SCENARIO } from '../src/cli/demo/scenario.ts';
import type { DemoSummary } from '../src/cli/demo/summary.ts';
import { CELEBRITY_ID } from '../src/cli/demo/users.ts';
import type { Reporter } from '../src/cli/progress.ts';
import type { UserKey } from '../src/domain/types.ts';
import { markAllRead, readInbox, unreadCount } from '../src/handlers/inbox.ts';
import { ingestEvents } from '../src/handlers/ingest.ts';
import type { Ports } from '../src/ports/ports.ts';
import { readRuntimeConfig } from '../src/runtime/config.ts';
import { type CostCounts, CostMeter } from '../src/runtime/local-aws/cost-meter.ts';
import { type EmulatorEndpoints, startEmulators } from '../src/runtime/local-aws/emulators.ts';
import type { LocalAwsProfile } from '../src/runtime/local-aws/profile.ts';
import type { Pipeline } from '../src/runtime/pipeline.ts';
import { AWS_PRICES as P } from './aws-prices.ts';
import { InboxReadCost, type ReadCostOptions, type ReaderCost } from './aws-read-cost.ts';
import type { BenchReport } from './support.ts';
import { withTempDir } from './support.ts';

/** The sizes of one aws-cost run; the defaults are the measured ones. */
export interface AwsCostOptions {
  /** The demo scenario run once per unread mode. @default the small demo */
  readonly scenario?: Scenario;
  /** Fresh events posted after the demo (see liveEvents). @default 100 */
  readonly liveEvents?: number;
  /** Users whose inbox is opened after the run, to price the read side of each mode. @default 200 */
  readonly readers?: number;
  /** The inbox-read cost part. @default its own defaults */
  readonly readCost?: ReadCostOptions;
}

type Sizes = Required<Omit<AwsCostOptions, 'readCost'>>;
/** Firehose bills each record rounded up to 5 KiB. */
const FIREHOSE_RECORD_GB = 5 / (1024 * 1024);

interface ModeRun {
  readonly summary: DemoSummary;
  /** Fresh events (occurredAt = now) posted after the demo, as a live app posts them. */
  readonly live: { readonly counts: CostCounts; readonly rows: number };
  /** What the pipeline cost: from the first posted event until drained. */
  readonly pipeline: CostCounts;
  /** What opening READERS inboxes cost: unread count, a page, mark all read, count again. */
  readonly reads: CostCounts;
  readonly readers: number;
}

const sum = (values: Readonly<Record<string, number>>, keep: (key: string) => boolean = () => true) =>
  Object.entries(values).reduce((total, [key, value]) => (keep(key) ? total + value : total), 0);

/**
 * `npm run bench -- aws-cost`: runs the small demo scenario through the AWS adapters on the
 * emulators, once per unread mode, counting every request and DynamoDB's consumed capacity
 * (see CostMeter), then prices them with bench/aws-prices.ts.
 */
export async function awsCostBench(opts: AwsCostOptions = {}): Promise<BenchReport> {
  const o: Sizes = {
    scenario: opts.scenario ?? SMALL_SCENARIO,
    liveEvents: opts.liveEvents ?? 100,
    readers: opts.readers ?? 200,
  };
  const emulators = await startEmulators();
  try {
    const gsi = await runMode('gsi', emulators.endpoints, o);
    const counter = await runMode('counter', emulators.endpoints, o);
    const reads = new InboxReadCost(emulators.endpoints, opts.readCost);
    try {
      await reads.seed();
      const readCosts = { gsi: await reads.measure('gsi'), counter: await reads.measure('counter') };
      return withReadCosts(report(gsi, counter, o), readCosts, reads.options);
    } finally {
      reads.close();
    }
  } finally {
    await emulators.stop();
  }
}

/** Inbox reads cost no more than this per call, whatever the number of celebrities followed. */
const READ_GOALS = { requests: 5, readUnits: 25 } as const;

/**
 * Adds what an inbox open (a 20-item page) and an unread count cost per call at each number of
 * celebrities followed, and what catching up cost, per unread mode.
 */
function withReadCosts(
  base: BenchReport,
  costs: Readonly<Record<'gsi' | 'counter', readonly ReaderCost[]>>,
  opts: InboxReadCost['options'],
): BenchReport {
  const figures: Record<string, number> = { ...base.figures };
  const goals = [...base.goals];
  const notes: string[] = [];
  for (const [mode, readers] of Object.entries(costs)) {
    for (const r of readers) {
      const at = `at_${r.celebrities}`;
      for (const [call, cost] of [
        ['open', r.open],
        ['count', r.count],
      ] as const) {
        figures[`${mode}_${call}_requests_${at}`] = cost.requests;
        figures[`${mode}_${call}_read_units_${at}`] = cost.readUnits;
        goals.push(
          { figure: `${mode}_${call}_requests_${at}`, op: '<=', value: READ_GOALS.requests },
          { figure: `${mode}_${call}_read_units_${at}`, op: '<=', value: READ_GOALS.readUnits },
        );
        notes.push(
          `  ${mode}, ${r.celebrities} celebrities, ${call}: ${cost.requests.toFixed(2)} requests (${describe(cost.byCommand)}), ${cost.readUnits.toFixed(2)} read units, ${cost.writeUnits.toFixed(2)} write units`,
        );
      }
      const c = r.catchUp;
      notes.push(
        `  ${mode}, ${r.celebrities} celebrities, first catch-up: ${c.scanned} log entries read, ${c.materialised} pointers copied; ${c.requests} requests, ${c.readUnits.toFixed(1)} read units, ${c.writeUnits.toFixed(1)} write units`,
      );
    }
    // The largest reader copies every pointer; the smallest mostly reads past other readers' ones.
    const copier = readers.at(-1)!.catchUp;
    const scanner = readers[0]!.catchUp;
    figures[`${mode}_catch_up_read_units_per_pointer`] = copier.readUnits / copier.materialised;
    figures[`${mode}_catch_up_write_units_per_pointer`] = copier.writeUnits / copier.materialised;
    figures[`${mode}_catch_up_read_units_per_1000_arrivals`] = (scanner.readUnits * 1000) / scanner.scanned;
    figures[`${mode}_catch_up_requests_per_1000_arrivals`] = (scanner.requests * 1000) / scanner.scanned;
  }
  return {
    ...base,
    figures,
    goals,
    settings: {
      ...base.settings,
      read_cost_readers: opts.celebrities.join(', '),
      read_cost_rows_per_reader: opts.rows,
      read_cost_pointers_per_celebrity: opts.pointersPerCelebrity,
      read_cost_calls_measured: opts.reads,
    },
    notes: [
      ...(base.notes ?? []),
      '',
      "Inbox reads per call, steady state (after each reader's first catch-up, nothing new in the log):",
      `an open is one 20-item page (readInbox), a count one unreadCount; readers of one tenant follow ${opts.celebrities.join(' and ')}`,
      `celebrities, ${opts.pointersPerCelebrity} pointers each, ${opts.rows} rows of their own (a third read, a watermark 15 days back).`,
      ...notes,
      'Catch-up per pointer: the reader of the most celebrities, who copies every pointer in. Per 1,000',
      'arrivals: the reader of the fewest, who reads past most of the log (1 read unit per distinct author',
      'it asks the graph about, besides the log itself).',
    ],
  };
}

function describe(byCommand: Readonly<Record<string, number>>): string {
  return Object.entries(byCommand)
    .map(([k, v]) => `${k.replace('dynamodb:', '')} ${Number.isInteger(v) ? v : v.toFixed(2)}`)
    .join(', ');
}

async function runMode(mode: 'gsi' | 'counter', endpoints: EmulatorEndpoints, o: Sizes): Promise<ModeRun> {
  const tenant = o.scenario.tenantId;
  return withTempDir(`aws-cost-${mode}`, async (dir) => {
    const meter = new CostMeter();
    // Seeding the graph, devices and preferences is a one-off import, not a per-notification cost.
    meter.enabled = false;
    const reporter: Reporter = {
      live: false,
      // Measured from the first posted event until drained; the summary's read-back is not.
      phase: (name) => {
        if (name === 'post') meter.enabled = true;
        if (name === 'summary') meter.enabled = false;
      },
      bar: () => ({ update() {}, end() {} }),
    };
    const config = readRuntimeConfig({
      FANOUT_DATA_DIR: dir,
      FANOUT_PROFILE: 'local-aws',
      FANOUT_UNREAD_MODE: mode,
      FANOUT_LOG_LEVEL: 'silent',
      // The scenario's celebrity stays one at any size (the small one's 12,000 are above 10,000).
      FANOUT_CELEBRITY_THRESHOLD: String(Math.min(10_000, o.scenario.celebrityFollowers)),
    });
    let profile: LocalAwsProfile | undefined;
    const run = await runDemo({
      config,
      scenario: o.scenario,
      // Tomorrow, so nothing the run writes is past its TTL on the emulator's wall clock.
      at: Math.ceil(Date.now() / 86_400_000) * 86_400_000 + 3 * 3_600_000,
      reporter,
      signal: new AbortController().signal,
      openBackend: localAwsBackend({ endpoints, meter, onOpen: (p) => (profile = p) }),
    });
    try {
      const pipeline = meter.counts();
      const live = await liveEvents(run.backend.ports, run.pipeline, meter, o, () =>
        run.backend.storeCounts(tenant),
      );
      await run.pipeline.stop();
      meter.enabled = false;
      const users = await readers(profile!, tenant, o.readers);
      meter.reset();
      meter.enabled = true;
      for (const user of users) await openInbox(run.backend.ports, user);
      return { summary: run.summary, live, pipeline, reads: meter.counts(), readers: users.length };
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
 * events as they happen: this posts LIVE_EVENTS of the demo's own authors again with fresh ids and
 * no occurredAt (the Event API stamps it), and measures what their rows cost.
 */
async function liveEvents(
  ports: Ports,
  pipeline: Pipeline,
  meter: CostMeter,
  o: Sizes,
  counts: () => Promise<{ readonly inboxRows: number }>,
): Promise<ModeRun['live']> {
  const before = (await counts()).inboxRows;
  const bodies = demoEvents(o.scenario, ports.clock.now())
    .filter((body) => body.actorId !== CELEBRITY_ID)
    .slice(0, o.liveEvents)
    .map(({ occurredAt: _, ...body }) => ({ ...body, id: `live-${body.id}` }));
  meter.reset();
  meter.enabled = true;
  await ingestEvents(o.scenario.tenantId, bodies, ports);
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

/** One mode's figures. */
function modeFigures(run: ModeRun) {
  const rows = run.summary.inboxRows;
  const inboxWrites = sum(
    run.pipeline.writeUnits,
    (t) => t.endsWith('-inbox') || t.endsWith('-inbox/unread'),
  );
  const allWrites = sum(run.pipeline.writeUnits);
  const allReads = sum(run.pipeline.readUnits);
  const emptyReceives = run.pipeline.requests['sqs:ReceiveMessage(empty)'] ?? 0;
  // `sqs:ReceiveMessage` counts every receive; the empty ones are polling, kept apart.
  const sqs =
    sum(run.pipeline.requests, (k) => k.startsWith('sqs:') && k !== 'sqs:ReceiveMessage(empty)') -
    emptyReceives;
  const jobs = run.summary.push.jobs + run.summary.email.jobs;
  const liveInbox = sum(
    run.live.counts.writeUnits,
    (t) => t.endsWith('-inbox') || t.endsWith('-inbox/unread'),
  );
  return {
    rows,
    liveInboxPerRow: liveInbox / run.live.rows,
    liveRows: run.live.rows,
    inboxWrites,
    allWrites,
    allReads,
    sqs,
    emptyReceives,
    jobs,
    kinesisPuts: run.pipeline.requests['kinesis:PutRecords'] ?? 0,
    readWrites: sum(run.reads.writeUnits) / run.readers,
    readReads: sum(run.reads.readUnits) / run.readers,
  };
}

/**
 * Dollars of a run per million push notifications sent, from the price table. Measured: DynamoDB
 * units, SQS requests. Modelled, because SNS and Firehose have no emulator: one SNS Publish and one
 * mobile delivery per push sent, one Firehose record (≤ 5 KiB) per audit decision, one Kinesis PUT
 * payload unit per event (events are far below 25 KiB). Email (SES) is left out: it is not push.
 */
function dollarsPerMillionPush(run: ModeRun): { total: number; lines: string[] } {
  const f = modeFigures(run);
  const pushSent = run.summary.push.sent;
  const parts: [string, number][] = [
    ['DynamoDB writes', (f.allWrites * P.dynamoWriteUnitsPerMillion) / 1e6],
    ['DynamoDB reads', (f.allReads * P.dynamoReadUnitsPerMillion) / 1e6],
    ['SQS requests', (f.sqs * P.sqsRequestsPerMillion) / 1e6],
    ['SNS publish + delivery', (pushSent * (P.snsRequestsPerMillion + P.snsMobilePushPerMillion)) / 1e6],
    ['Kinesis PUT units', (run.summary.events * P.kinesisPutUnitsPerMillion) / 1e6],
    ['Firehose', run.summary.auditRecords * FIREHOSE_RECORD_GB * P.firehosePerGb],
  ];
  const perMillion = (dollars: number) => (dollars / pushSent) * 1e6;
  return {
    total: perMillion(parts.reduce((t, [, d]) => t + d, 0)),
    lines: parts.map(([name, d]) => `    ${name.padEnd(24)} $${perMillion(d).toFixed(3)}`),
  };
}

function report(gsi: ModeRun, counter: ModeRun, o: Sizes): BenchReport {
  const g = modeFigures(gsi);
  const c = modeFigures(counter);
  const gCost = dollarsPerMillionPush(gsi);
  const cCost = dollarsPerMillionPush(counter);
  return {
    name: 'aws-cost',
    figures: {
      gsi_write_units_per_inbox_notification: g.liveInboxPerRow,
      counter_write_units_per_inbox_notification: c.liveInboxPerRow,
      counter_vs_gsi_inbox_write_ratio: c.liveInboxPerRow / g.liveInboxPerRow,
      gsi_write_units_per_inbox_notification_backdated: g.inboxWrites / g.rows,
      counter_write_units_per_inbox_notification_backdated: c.inboxWrites / c.rows,
      gsi_write_units_all_tables_per_notification: g.allWrites / g.rows,
      counter_write_units_all_tables_per_notification: c.allWrites / c.rows,
      sqs_requests_per_delivery: g.sqs / g.jobs,
      gsi_dollars_per_million_push: gCost.total,
      counter_dollars_per_million_push: cCost.total,
      gsi_inbox_open_write_units: g.readWrites,
      counter_inbox_open_write_units: c.readWrites,
      gsi_inbox_open_read_units: g.readReads,
      counter_inbox_open_read_units: c.readReads,
    },
    settings: {
      scenario: `demo scenario (${o.scenario.celebrityFollowers.toLocaleString('en-US')}-follower celebrity, ${o.scenario.activeUsers.toLocaleString('en-US')} active users)`,
      inbox_rows: g.rows,
      live_events: o.liveEvents,
      live_inbox_rows: g.liveRows,
      delivery_jobs: g.jobs,
      push_sent: gsi.summary.push.sent,
      prices: `${P.region}, ${P.asOf} (bench/aws-prices.ts)`,
      inbox_opens: gsi.readers,
    },
    goals: [
      { figure: 'gsi_write_units_per_inbox_notification', op: '<=', value: 2 },
      { figure: 'counter_write_units_per_inbox_notification', op: '<=', value: 1.2 },
      { figure: 'sqs_requests_per_delivery', op: '<=', value: 0.35 },
    ],
    notes: [
      'Inbox write units per notification: rows of live events (posted now, as an app does);',
      '"_backdated": the demo\'s own events, up to 6 minutes old when posted, which counter mode',
      'must treat as late rows (a counter reset per user per batch, see src/adapters/aws/inbox-counter.ts).',
      'Units: DynamoDB Local ConsumedCapacity per table and index, except where it differs from',
      "DynamoDB's bill: transactions (2 units per item, 1 per index entry), BatchGetItem (every key",
      'asked for) and reads that find nothing (at least one read) are billed as DynamoDB does.',
      `Empty SQS receives (polling, billed per second of waiting, not per delivery): gsi ${g.emptyReceives},`,
      `counter ${c.emptyReceives}; left out of sqs_requests_per_delivery. A demo inbox open = unread count,`,
      "a 20-item page, mark all read, unread count again (the user's first catch-up included).",
      `Requests in GSI mode: ${Object.entries(gsi.pipeline.requests)
        .filter(([k]) => !k.startsWith('dynamodb:'))
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
      'Dollars per million push notifications (GSI mode):',
      ...gCost.lines,
      'Counter mode:',
      ...cCost.lines,
    ],
  };
}

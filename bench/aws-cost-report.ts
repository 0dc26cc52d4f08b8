import type { DemoSummary } from '../src/cli/demo/summary.ts';
import { DEFAULT_JOBS_PER_MESSAGE } from '../src/runtime/aws-ports.ts';
import type { CostCounts } from '../src/runtime/local-aws/cost-meter.ts';
import type { FunctionUsage } from '../src/runtime/local-aws/lambda-meter.ts';
import type { PipelineFunction } from '../src/runtime/pipeline.ts';
import type { AwsCostSize, AwsCostSizeName } from './aws-cost.ts';
import { describeRequests, describeUnits, lambdaLines } from './aws-cost-lines.ts';
import { HOURS_PER_MONTH, AWS_PRICES as P } from './aws-prices.ts';
import { DEFAULT_CAPACITY_SCENARIO } from './capacity-model.ts';
import { DEFAULT_TROUGH, provisionedPerMillionUnits, simulateAutoScaling } from './dynamo-provisioned.ts';
import { LAMBDA_MEMORY_MB, LAMBDA_WAITS, lambdaBill } from './lambda-cost.ts';
import { LOWEST_COST } from './lowest-cost.ts';
import type { BenchReport } from './support.ts';

/** What one unread mode's run counted. */
export interface ModeRun {
  /** The run's totals (the demo's summary, or the push workload's own). */
  readonly summary: Pick<DemoSummary, 'events' | 'inboxRows' | 'push' | 'email' | 'auditRecords'>;
  /** Fresh events (occurredAt = now) posted after the demo, as a live app posts them. */
  readonly live: { readonly counts: CostCounts; readonly rows: number };
  /** What the pipeline cost: from the first posted event until drained. */
  readonly pipeline: CostCounts;
  /** Each function's handler calls over the same span (LambdaMeter). */
  readonly functions: Readonly<Partial<Record<PipelineFunction, FunctionUsage>>>;
  /** The same over the live events, after the demo warmed the code up. */
  readonly warmFunctions: Readonly<Partial<Record<PipelineFunction, FunctionUsage>>>;
  /** What opening the readers' inboxes cost: unread count, a page, mark all read, count again. */
  readonly reads: CostCounts;
  readonly readers: number;
}

/** A deployment's choices that change the per-notification bill. */
interface Configuration {
  /** Push through SNS platform endpoints (the default) or straight to APNs / FCM (`directPush`). */
  readonly sns: boolean;
  /**
   * Inbox write units per row to price the run's rows at, instead of what its counter-mode inbox
   * measured: the demo's events are backdated, which counter mode must treat as late rows (a
   * counter reset each), where an app posting as things happen pays none. Unset: as measured.
   */
  readonly inboxUnitsPerRow?: number;
  /** Memory of each function, MB. @default LAMBDA_MEMORY_MB */
  readonly lambdaMemoryMb?: Readonly<Record<PipelineFunction, number>>;
  /** Tables on provisioned capacity, and what a consumed unit costs on them. @default none */
  readonly provisioned?: {
    readonly tables: readonly string[];
    readonly perMillion: { readonly write: number; readonly read: number };
  };
}

/** The three runs: each unread mode at the default batches, and the lowest-cost configuration's. */
export interface CostRuns {
  readonly gsi: ModeRun;
  readonly counter: ModeRun;
  /** Counter mode, consumers taking LOWEST_COST.deliveryBatch jobs. */
  readonly lowest: ModeRun;
  /** The push workload (bench/push-workload.ts), on the lowest-cost run's pipeline after its demo. */
  readonly pushWorkload: ModeRun;
}

/** The lowest-cost configuration's goal, all in: dollars per million push notifications. */
export const LOWEST_COST_GOAL = 1.0;

const sum = (values: Readonly<Record<string, number>>, keep: (key: string) => boolean = () => true) =>
  Object.entries(values).reduce((total, [key, value]) => (keep(key) ? total + value : total), 0);

const isInbox = (t: string) => t.endsWith('-inbox') || t.endsWith('-inbox/unread');

/**
 * What only the local runtime pays, left out of the bills: its pollers' checkpoints (a DynamoDB
 * table; on Lambda the event-source mappings keep their own, unbilled) and their drain checks
 * (`sqs:GetQueueAttributes`; Lambda's SQS mapping polls without them, billed as its receives).
 */
const localOnly = (key: string) => key.endsWith('-checkpoints') || key === 'sqs:GetQueueAttributes';
const billed = (units: Readonly<Record<string, number>>) =>
  Object.fromEntries(Object.entries(units).filter(([key]) => !localOnly(key)));

/** Whether a metered table (or `table/index`) key is one of `tables` (logical names). */
const inTables = (tables: readonly string[]) => (key: string) =>
  tables.some((table) => key.replace(/\/.*$/, '').endsWith(`-${table}`));

/** One mode's figures. */
function modeFigures(run: ModeRun) {
  const rows = run.summary.inboxRows;
  const inboxWrites = sum(run.pipeline.writeUnits, isInbox);
  const allWrites = sum(billed(run.pipeline.writeUnits));
  const allReads = sum(billed(run.pipeline.readUnits));
  const emptyReceives = run.pipeline.requests['sqs:ReceiveMessage(empty)'] ?? 0;
  // `sqs:ReceiveMessage` counts every receive; the empty ones are polling, kept apart.
  const sqs =
    sum(
      run.pipeline.requests,
      (k) => k.startsWith('sqs:') && k !== 'sqs:ReceiveMessage(empty)' && !localOnly(k),
    ) - emptyReceives;
  const jobs = run.summary.push.jobs + run.summary.email.jobs;
  const liveInbox = sum(run.live.counts.writeUnits, isInbox);
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
    firehoseRecords: run.pipeline.modelled['firehose:records'] ?? 0,
    firehoseBilledBytes: run.pipeline.modelled['firehose:billedBytes'] ?? 0,
    readWrites: run.readers === 0 ? 0 : sum(run.reads.writeUnits) / run.readers,
    readReads: run.readers === 0 ? 0 : sum(run.reads.readUnits) / run.readers,
  };
}

/**
 * Dollars of a run per million push notifications sent, from the price table, in one
 * configuration. Measured: DynamoDB units, SQS requests, handler CPU time. Modelled, because they
 * have no emulator: one SNS Publish and one mobile delivery per push sent (none with direct
 * APNs / FCM, which bill nothing per message), the Firehose records the audit objects stand for
 * (packed as FirehoseAuditSink packs them, each billed in 5 KiB steps), one Kinesis PUT payload
 * unit per event (events are far below 25 KiB), Lambda's waits on the network (LAMBDA_WAITS).
 * Every part of the pipeline is charged to the push notifications sent, the email consumer's
 * requests and compute included; SES itself is left out: it is not push.
 */
function pushBill(run: ModeRun, config: Configuration, withLambda: boolean) {
  const f = modeFigures(run);
  const pushSent = run.summary.push.sent;
  const provisioned = inTables(config.provisioned?.tables ?? []);
  // Write units per table, the inbox's at the given units per row when asked.
  const writeUnits: Record<string, number> = billed(run.pipeline.writeUnits);
  const readUnits = billed(run.pipeline.readUnits);
  if (config.inboxUnitsPerRow !== undefined) {
    for (const key of Object.keys(writeUnits)) if (isInbox(key)) delete writeUnits[key];
    writeUnits[`-inbox`] = f.rows * config.inboxUnitsPerRow;
  }
  const onDemand = (k: string) => !provisioned(k);
  const perMillionUnits = config.provisioned?.perMillion ?? { write: 0, read: 0 };
  const lambda = lambdaBill(warmed(run), config.lambdaMemoryMb ?? LAMBDA_MEMORY_MB);
  // The upper bound: every request waits alone, as if none overlapped.
  const lambdaSerial = lambdaBill(warmed(run), config.lambdaMemoryMb ?? LAMBDA_MEMORY_MB, true);
  const parts: [string, number][] = [
    ['DynamoDB writes', (sum(writeUnits, onDemand) * P.dynamoWriteUnitsPerMillion) / 1e6],
    ['DynamoDB reads', (sum(readUnits, onDemand) * P.dynamoReadUnitsPerMillion) / 1e6],
    ...(config.provisioned === undefined
      ? []
      : ([
          ['DynamoDB provisioned writes', (sum(writeUnits, provisioned) * perMillionUnits.write) / 1e6],
          ['DynamoDB provisioned reads', (sum(readUnits, provisioned) * perMillionUnits.read) / 1e6],
        ] as [string, number][])),
    ['SQS requests', (f.sqs * P.sqsRequestsPerMillion) / 1e6],
    [
      config.sns ? 'SNS publish + delivery' : 'APNs / FCM direct',
      config.sns ? (pushSent * (P.snsRequestsPerMillion + P.snsMobilePushPerMillion)) / 1e6 : 0,
    ],
    ['Kinesis PUT units', (run.summary.events * P.kinesisPutUnitsPerMillion) / 1e6],
    ['Firehose', (f.firehoseBilledBytes / 2 ** 30) * P.firehosePerGb],
    ...(withLambda ? ([['Lambda', lambda.dollars]] as [string, number][]) : []),
  ];
  const perMillion = (dollars: number) => (dollars / pushSent) * 1e6;
  return {
    total: perMillion(parts.reduce((t, [, d]) => t + d, 0)),
    lambda: perMillion(lambda.dollars),
    lambdaSerial: perMillion(lambdaSerial.dollars),
    totalSerial: perMillion(parts.reduce((t, [, d]) => t + d, 0) - lambda.dollars + lambdaSerial.dollars),
    lambdaFunctions: lambda.perFunction,
    byPart: Object.fromEntries(parts.map(([name, d]) => [name, perMillion(d)])),
    lines: parts.map(([name, d]) => `    ${name.padEnd(28)} $${perMillion(d).toFixed(3)}`),
  };
}

/**
 * The demo's invocations, records and requests with the warm CPU time per record of the live
 * events (the demo's own where the live events did not reach a function).
 */
function warmed(run: ModeRun): Partial<Record<PipelineFunction, FunctionUsage>> {
  const out: Partial<Record<PipelineFunction, FunctionUsage>> = {};
  for (const [fn, u] of Object.entries(run.functions) as [PipelineFunction, FunctionUsage][]) {
    const warm = run.warmFunctions[fn];
    out[fn] = warm && warm.records > 0 ? { ...u, cpuMs: (warm.cpuMs / warm.records) * u.records } : u;
  }
  return out;
}

/** Dollars a month that do not scale with notifications, at the default stack's sizes. */
function fixedMonthly() {
  return {
    memorydb_two_nodes_dollars_per_month: 2 * P.memoryDbR7gLargeHour * HOURS_PER_MONTH,
    elasticache_serverless_minimum_dollars_per_month:
      0.1 * P.elastiCacheServerlessValkeyGbHour * HOURS_PER_MONTH,
    elasticache_four_nodes_dollars_per_month: 4 * P.elastiCacheR7gLargeHour * HOURS_PER_MONTH,
    kinesis_dollars_per_shard_month: P.kinesisShardHour * HOURS_PER_MONTH,
  };
}

/**
 * Auto scaling as the lowest-cost configuration deploys it, over a day of the capacity model's
 * default peak-to-average ratio: what a consumed unit on its provisioned tables costs.
 */
export function lowestCostProvisioning() {
  const day = simulateAutoScaling({
    targetUtilization: LOWEST_COST.targetUtilization,
    peakToAverage: DEFAULT_CAPACITY_SCENARIO.peakToAverage,
  });
  const floorPerMonth =
    LOWEST_COST.provisionedCapacityHolders *
    (LOWEST_COST.minWriteCapacity * P.dynamoProvisionedWcuHour +
      LOWEST_COST.minReadCapacity * P.dynamoProvisionedRcuHour) *
    HOURS_PER_MONTH;
  return { day, perMillion: provisionedPerMillionUnits(P, day.effectiveUtilization), floorPerMonth };
}

/** The benchmark's report: per-mode figures, the configurations' bills, the fixed costs. */
export function costReport(runs: CostRuns, sizeName: AwsCostSizeName, size: AwsCostSize): BenchReport {
  const { gsi, counter, lowest: lowestRun } = runs;
  const g = modeFigures(gsi);
  const c = modeFigures(counter);
  const l = modeFigures(lowestRun);
  const provisioning = lowestCostProvisioning();
  const demo: Configuration = { sns: true };
  // The demo's rows without the counter mode's late-row resets: the GSI run's inbox table units
  // (its `unread` index left out) per row. The same items as counter mode writes, aggregated
  // likes' group items included, which an app pays too. Until 2026-12-08 the rows were priced at
  // the live events' units per row, and those events are posts only: 1 unit, with no group.
  const inboxUnitsPerRow = sum(gsi.pipeline.writeUnits, (k) => k.endsWith('-inbox')) / g.rows;
  // What `cdk deploy` sets up: the counter unread mode (the default since it costs half the inbox
  // writes of the GSI mode), push through SNS platform endpoints.
  const defaults: Configuration = { sns: true, inboxUnitsPerRow };
  // The lowest-cost configuration (bench/lowest-cost.ts, docs/deploy.md): direct APNs / FCM,
  // consumers of 512 MB taking batches of 100, the inbox and events tables on provisioned capacity
  // with auto scaling; and the same on on-demand tables.
  const lowestOnDemand: Configuration = {
    sns: false,
    inboxUnitsPerRow,
    lambdaMemoryMb: LOWEST_COST.lambdaMemoryMb,
  };
  const lowest: Configuration = {
    ...lowestOnDemand,
    provisioned: { tables: LOWEST_COST.provisionedTables, perMillion: provisioning.perMillion },
  };
  // What the lowest-cost configuration was before its batches, memory and provisioned tables.
  const directOnly: Configuration = { sns: false, inboxUnitsPerRow };
  const gCost = pushBill(gsi, demo, false);
  const cCost = pushBill(counter, demo, false);
  const defaultCost = pushBill(counter, defaults, true);
  const directCost = pushBill(counter, directOnly, true);
  const lowestOnDemandCost = pushBill(lowestRun, lowestOnDemand, true);
  const lowestCost = pushBill(lowestRun, lowest, true);
  const pushLoad = runs.pushWorkload;
  const p = modeFigures(pushLoad);
  // Posted as they happen: its inbox as measured.
  const { inboxUnitsPerRow: _, ...lowestAsMeasured } = lowest;
  const pushLoadCost = pushBill(pushLoad, lowestAsMeasured, true);
  const fns = defaultCost.lambdaFunctions;
  const cpu = (fn: PipelineFunction) => fns[fn]?.cpuMsPerRecord ?? 0;
  const decisions = gsi.summary.auditRecords;
  const s = size.scenario;
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
      audit_decisions_per_firehose_record: decisions / g.firehoseRecords,
      gsi_dollars_per_million_push: gCost.total,
      counter_dollars_per_million_push: cCost.total,
      fanout_cpu_ms_per_record: cpu('fanout'),
      // Warm fan-out CPU over the live events' rows: what the capacity model charges per row.
      fanout_cpu_ms_per_inbox_row: (gsi.warmFunctions.fanout?.cpuMs ?? 0) / g.liveRows,
      push_cpu_ms_per_record: cpu('push'),
      email_cpu_ms_per_record: cpu('email'),
      default_lambda_dollars_per_million_push: defaultCost.lambda,
      default_dollars_per_million_push_all_in: defaultCost.total,
      // The goal's figure: pushes sent are what a hosted push service bills for (see the notes).
      push_workload_lowest_cost_dollars_per_million_push_all_in: pushLoadCost.total,
      push_workload_lowest_cost_vs_goal_ratio: pushLoadCost.total / LOWEST_COST_GOAL,
      push_workload_lowest_cost_lambda_dollars_per_million_push: pushLoadCost.lambda,
      push_workload_lowest_cost_dollars_per_million_push_serial_waits: pushLoadCost.totalSerial,
      push_workload_sqs_requests_per_delivery: p.sqs / p.jobs,
      // The demo's mix: every job and row of it charged to its pushes.
      lowest_cost_dollars_per_million_push_all_in: lowestCost.total,
      lowest_cost_vs_goal_ratio: lowestCost.total / LOWEST_COST_GOAL,
      lowest_cost_dollars_per_million_delivery_jobs_all_in:
        (lowestCost.total * lowestRun.summary.push.sent) / l.jobs,
      lowest_cost_on_demand_dollars_per_million_push_all_in: lowestOnDemandCost.total,
      direct_push_only_dollars_per_million_push_all_in: directCost.total,
      lowest_cost_lambda_dollars_per_million_push: lowestCost.lambda,
      // The same with every AWS request waiting alone (no overlap): the upper bound.
      lowest_cost_dollars_per_million_push_serial_waits: lowestCost.totalSerial,
      default_dollars_per_million_push_serial_waits: defaultCost.totalSerial,
      lowest_cost_sqs_requests_per_delivery: l.sqs / l.jobs,
      provisioned_effective_utilization: provisioning.day.effectiveUtilization,
      provisioned_write_dollars_per_million_units: provisioning.perMillion.write,
      provisioned_read_dollars_per_million_units: provisioning.perMillion.read,
      // A Global Table replica writes every unit again, billed as a replicated write unit.
      replica_region_dollars_per_million_push:
        (((g.allWrites * P.dynamoReplicatedWriteUnitsPerMillion) / 1e6) * 1e6) / gsi.summary.push.sent,
      ...fixedMonthly(),
      provisioned_floor_dollars_per_month: provisioning.floorPerMonth,
      gsi_inbox_open_write_units: g.readWrites,
      counter_inbox_open_write_units: c.readWrites,
      gsi_inbox_open_read_units: g.readReads,
      counter_inbox_open_read_units: c.readReads,
    },
    settings: {
      size: sizeName,
      scenario: `${s.celebrityFollowers}-follower celebrity, ${s.authors} authors, ${s.activeUsers} active users (threshold ${size.celebrityThreshold})`,
      inbox_rows: g.rows,
      live_events: size.liveEvents,
      live_inbox_rows: g.liveRows,
      delivery_jobs: g.jobs,
      inbox_units_per_row_priced: `${inboxUnitsPerRow.toFixed(3)} in the counter-mode configurations (the GSI run's inbox table per row: the demo's rows and groups, without the counter resets its backdated events cause; the push workload as measured)`,
      jobs_per_message: `up to ${DEFAULT_JOBS_PER_MESSAGE} (every run; jobs of one tenant and one delay share a message)`,
      push_sent: gsi.summary.push.sent,
      audit_decisions: decisions,
      prices: `${P.region}, ${P.asOf} (bench/aws-prices.ts)`,
      lambda_memory_mb: Object.entries(LAMBDA_MEMORY_MB)
        .map(([fn, mb]) => `${fn} ${mb}`)
        .join(', '),
      lambda_waits: `${LAMBDA_WAITS.awsRequestMs} ms per round of AWS requests (per request in the _serial_waits figures), ${LAMBDA_WAITS.providerRoundTripMs} ms per provider round, ${LAMBDA_WAITS.redisRoundTrips} Redis round trips per delivery invocation`,
      inbox_opens: gsi.readers,
      lowest_cost: `counter unread mode, direct APNs / FCM, consumers of ${LOWEST_COST.lambdaMemoryMb.push} MB taking batches of ${LOWEST_COST.deliveryBatch} messages of up to ${DEFAULT_JOBS_PER_MESSAGE} jobs (the run's: ${lowestRun.summary.push.jobs + lowestRun.summary.email.jobs} jobs in ${(lowestRun.functions.push?.invocations ?? 0) + (lowestRun.functions.email?.invocations ?? 0)} invocations), ${LOWEST_COST.provisionedTables.join(' and ')} tables provisioned with auto scaling at ${LOWEST_COST.targetUtilization * 100} % target`,
      push_workload: `${pushLoad.summary.events} events (posts of authors with ${size.pushWorkload.followersPerAuthor} followers, each with one push device, push consent, no quiet hours; ${size.pushWorkload.singleRecipientEvents} single-recipient likes and comments): ${pushLoad.summary.push.sent} pushes sent of ${pushLoad.summary.push.jobs} push jobs and ${pushLoad.summary.email.jobs} email jobs, ${pushLoad.summary.inboxRows} inbox rows`,
      provisioned_day: `peak-to-average ${DEFAULT_CAPACITY_SCENARIO.peakToAverage}, quietest minute ${DEFAULT_TROUGH} of the average; ${provisioning.day.scaleUps} scale-ups, ${provisioning.day.scaleDowns} scale-downs; peak consumption ${(provisioning.day.peakOverProvisioned * 100).toFixed(0)} % of provisioned`,
    },
    goals: [
      { figure: 'gsi_write_units_per_inbox_notification', op: '<=', value: 2 },
      { figure: 'counter_write_units_per_inbox_notification', op: '<=', value: 1.2 },
      { figure: 'sqs_requests_per_delivery', op: '<=', value: 0.35 },
      // The goal beside both mixes: the demo's, the issue's own measure, and the push workload.
      { figure: 'lowest_cost_dollars_per_million_push_all_in', op: '<=', value: LOWEST_COST_GOAL },
      {
        figure: 'push_workload_lowest_cost_dollars_per_million_push_all_in',
        op: '<=',
        value: LOWEST_COST_GOAL,
      },
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
      "Left out of every bill and per-delivery figure: the local pollers' checkpoints table and drain checks",
      '(sqs:GetQueueAttributes); on Lambda the event-source mappings keep their own, unbilled.',
      `Requests in GSI mode: ${describeRequests(gsi.pipeline.requests)}`,
      `Requests in the push workload: ${describeRequests(pushLoad.pipeline.requests)}`,
      `Write units by table in GSI mode: ${describeUnits(gsi.pipeline.writeUnits)}`,
      `Audit: ${decisions} decisions in ${g.firehoseRecords} Firehose records (one per delivery batch).`,
      "Lambda, GSI mode (warm handler CPU per record, from the live events; duration = CPU at the memory's vCPU share + waits):",
      ...lambdaLines(fns),
      `Handler CPU per record during the demo (cold: the JIT's first compilations included): ${Object.entries(
        gsi.functions,
      )
        .map(([fn, u]) => `${fn} ${(u.cpuMs / Math.max(1, u.records)).toFixed(3)} ms`)
        .join(', ')}.`,
      'Before Lambda, per million push notifications. GSI mode:',
      ...gCost.lines,
      'Counter mode:',
      ...cCost.lines,
      'Default configuration, all in (counter unread mode, the demo rows and groups without the counter resets of its backdated events, push through SNS, Lambda at the memory above):',
      ...defaultCost.lines,
      'Direct APNs / FCM alone (counter mode, on-demand tables, consumers of 1,024 MB in batches of 10 messages):',
      ...directCost.lines,
      `Lowest-cost configuration, on-demand tables (direct APNs / FCM, consumers of ${LOWEST_COST.lambdaMemoryMb.push} MB in batches of ${LOWEST_COST.deliveryBatch} messages):`,
      ...lowestOnDemandCost.lines,
      `Lowest-cost configuration, all in, the demo's mix (the same, ${LOWEST_COST.provisionedTables.join(' and ')} tables provisioned):`,
      ...lowestCost.lines,
      `Push workload, lowest-cost configuration, all in (its own measured span after the demo; goal <= $${LOWEST_COST_GOAL.toFixed(2)}):`,
      ...pushLoadCost.lines,
      'The goal is printed beside both: the push workload is what a hosted push service bills for (pushes sent);',
      'the demo mix above charges its emails, inbox-only rows and push jobs that end without a send (no device, quiet hours,',
      `consent) to its ${lowestRun.summary.push.sent} pushes ($${((lowestCost.total * lowestRun.summary.push.sent) / l.jobs).toFixed(3)} per million delivery jobs).`,
      `Units by table in the push workload: writes ${describeUnits(pushLoad.pipeline.writeUnits)}; reads ${describeUnits(pushLoad.pipeline.readUnits)}.`,
      'Lambda of the push workload:',
      ...lambdaLines(pushLoadCost.lambdaFunctions),
      `Units by table in the lowest-cost run: writes ${describeUnits(lowestRun.pipeline.writeUnits)}; reads ${describeUnits(lowestRun.pipeline.readUnits)}.`,
      'Lambda of the lowest-cost configuration (its own run):',
      ...lambdaLines(lowestCost.lambdaFunctions),
      `Provisioned capacity: $${P.dynamoProvisionedWcuHour} per WCU-hour and $${P.dynamoProvisionedRcuHour} per RCU-hour over ${(provisioning.day.effectiveUtilization * 100).toFixed(1)} % effective`,
      `utilization (auto scaling at a ${LOWEST_COST.targetUtilization * 100} % target simulated over a day, bench/dynamo-provisioned.ts): $${provisioning.perMillion.write.toFixed(3)} per million`,
      `write units and $${provisioning.perMillion.read.toFixed(3)} per million read units consumed, against $${P.dynamoWriteUnitsPerMillion} and $${P.dynamoReadUnitsPerMillion} on-demand;`,
      `their floor (${LOWEST_COST.minWriteCapacity} WCU and ${LOWEST_COST.minReadCapacity} RCU on each of ${LOWEST_COST.provisionedCapacityHolders} tables and indexes) is a fixed $${provisioning.floorPerMonth.toFixed(2)} a month.`,
      'Fixed costs, a month, apart from the figures per notification: MemoryDB (dedup) 2 db.r7g.large nodes;',
      'ElastiCache serverless at its 100 MB minimum (or 2 shards x 2 cache.r7g.large with cacheMode nodes);',
      'Kinesis per provisioned shard.',
      'A Global Table replica region (GSI mode): every write unit again as a replicated write unit;',
      'the bytes sent to it ($0.02 per GB) are not counted here (see docs/capacity.md).',
    ],
  };
}

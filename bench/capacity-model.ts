import { DEFAULT_JOBS_PER_MESSAGE } from '../src/runtime/aws-ports.ts';
import { provisionedPerMillionUnits, simulateAutoScaling } from './dynamo-provisioned.ts';

/**
 * The capacity model's formulas: pure arithmetic from a scenario, per-unit costs measured by
 * `npm run bench -- aws-cost` and AWS's published limits and prices. docs/capacity.md explains
 * each formula, its source and where it stops being trustworthy.
 */

/** What a deployment serves. */
export interface CapacityScenario {
  readonly users: number;
  readonly dailyActiveUsers: number;
  readonly eventsPerDay: number;
  /** Share of events that fan out to the author's followers (posts); the rest notify one user. */
  readonly postShare: number;
  /** Followers of a regular (non-celebrity) author's post, mean over posts. */
  readonly meanFollowers: number;
  /** Share of posts written by celebrities (one pointer each, read at inbox open). */
  readonly celebrityShare: number;
  /** Share of inbox notifications that are also pushed. */
  readonly pushShare: number;
  /** Share of inbox notifications that are also emailed. */
  readonly emailShare: number;
  /** Peak rate over the day's average rate. */
  readonly peakToAverage: number;
  /** Inbox opens per daily active user per day (each: count, page, mark read). */
  readonly opensPerActiveUser: number;
  /** The viral post: likes it gets, and how fast they come at their height. */
  readonly viralLikes: number;
  readonly viralLikesPerSecond: number;
  /** Regions holding the tables (2 or more: Global Tables). */
  readonly regions: number;
  readonly unreadMode: 'gsi' | 'counter';
  /** Push through SNS (true) or straight to APNs / FCM. */
  readonly sns: boolean;
  /**
   * How the inbox and events tables are billed: on-demand, or provisioned with auto scaling (the
   * lowest-cost configuration, context `tableBilling: provisioned`).
   */
  readonly tableBilling: 'onDemand' | 'provisioned';
}

/** The documented default scenario (docs/capacity.md). */
export const DEFAULT_CAPACITY_SCENARIO: CapacityScenario = {
  users: 10_000_000,
  dailyActiveUsers: 1_000_000,
  eventsPerDay: 50_000_000,
  postShare: 0.1,
  meanFollowers: 50,
  celebrityShare: 0.01,
  pushShare: 0.2,
  emailShare: 0.01,
  peakToAverage: 3,
  opensPerActiveUser: 5,
  viralLikes: 100_000,
  viralLikesPerSecond: 2_000,
  regions: 1,
  unreadMode: 'counter',
  sns: false,
  tableBilling: 'provisioned',
};

/**
 * Per-unit costs of the AWS adapters, as measured by `npm run bench -- aws-cost` (see
 * docs/benchmarks.md for the run), and the sizes of the items and keys.
 */
export interface UnitCosts {
  /** Write units per inbox row, by unread mode (live events). */
  readonly rowWriteUnits: { readonly gsi: number; readonly counter: number };
  /** Read units per inbox row (fan-out's consistent existence check, every key billed). */
  readonly rowReadUnits: number;
  /** Write and read units per event besides its rows: idempotency claim, checkpoints, pointer. */
  readonly eventWriteUnits: number;
  readonly eventReadUnits: number;
  /** Write and read units of one inbox open (count, page, mark all read, count), by mode. */
  readonly openWriteUnits: { readonly gsi: number; readonly counter: number };
  readonly openReadUnits: { readonly gsi: number; readonly counter: number };
  /**
   * SQS requests per delivery job: send, receive and delete, each batched by 10 messages, measured
   * with packing (up to `jobsPerMessage` jobs a message, jobs of one tenant and one delay): the
   * packs the measured mix filled, not full ones.
   */
  readonly sqsRequestsPerJob: number;
  /** Handler CPU time: fan-out per event and per inbox row, consumers per job (ms, one core). */
  readonly fanoutCpuMsPerEvent: number;
  readonly fanoutCpuMsPerRow: number;
  readonly pushCpuMsPerJob: number;
  readonly emailCpuMsPerJob: number;
  /** Audit decisions per Firehose record (one record per delivery batch, of up to 10 × jobsPerMessage jobs). */
  readonly decisionsPerAuditRecord: number;
  /** Bytes of one audit decision's JSON line (ids, outcome, target digest, attempt). */
  readonly auditLineBytes: number;
  /** Bytes of an event on the stream, of an inbox row, of a graph edge item. */
  readonly eventBytes: number;
  readonly rowBytes: number;
  readonly edgeBytes: number;
  /** Redis bytes per dedup key (key, value, TTL, dict entry) and per hot-list member (sorted set). */
  readonly dedupKeyBytes: number;
  readonly hotListMemberBytes: number;
}

/**
 * Measured by `npm run bench -- aws-cost` on the shared 2-core development VM (2026-12-07, small
 * size; docs/benchmarks.md): units per row and per open, SQS requests per job, warm handler CPU
 * (fan-out's charged to its rows: 28.6 ms per live event of 35 rows), the audit packing.
 * Estimated from the adapters' items: event reads (tier, follower count, pointer replay check),
 * sizes (an audit line of a push sent is about 230 bytes), Redis bytes.
 */
export const MEASURED_UNITS: UnitCosts = {
  rowWriteUnits: { gsi: 2, counter: 1 },
  rowReadUnits: 1,
  eventWriteUnits: 2,
  eventReadUnits: 2,
  openWriteUnits: { gsi: 26, counter: 18 },
  openReadUnits: { gsi: 19.5, counter: 24 },
  sqsRequestsPerJob: 0.362,
  fanoutCpuMsPerEvent: 0,
  fanoutCpuMsPerRow: 0.81,
  pushCpuMsPerJob: 1.81,
  emailCpuMsPerJob: 2.84,
  decisionsPerAuditRecord: 11.1,
  auditLineBytes: 250,
  eventBytes: 600,
  rowBytes: 500,
  edgeBytes: 80,
  dedupKeyBytes: 200,
  hotListMemberBytes: 90,
};

/** AWS's limits, our defaults (infra/, src/adapters/aws/) and the assumed network waits. */
export const CAPACITY_LIMITS = {
  /** Kinesis: records and bytes per second one shard takes in. */
  shardRecordsPerSecond: 1000,
  shardBytesPerSecond: 1024 * 1024,
  /** FanoutWorker parallelizationFactor: concurrent batches per shard. */
  parallelizationFactor: 2,
  /** DynamoDB: units per second one partition serves. */
  partitionWriteUnits: 1000,
  partitionReadUnits: 3000,
  /** DynamoDB on-demand: what a new table serves at once before it adapts. */
  newTableWriteUnits: 4000,
  /** Consumer event-source maxConcurrency (DEFAULT_MAX_CONCURRENCY) and batch size in messages. */
  pushMaxConcurrency: 50,
  emailMaxConcurrency: 20,
  deliveryBatch: 10,
  /**
   * Delivery jobs one SQS message carries (`jobsPerMessage`): a consumer invocation takes up to
   * deliveryBatch × this many jobs. The model takes every message as full.
   */
  jobsPerMessage: DEFAULT_JOBS_PER_MESSAGE,
  /** Messages in one SendMessageBatch (SQS's limit). */
  sqsBatchEntries: 10,
  /** Fan-out: BatchWriteItem and BatchGetItem sizes, calls in flight (inbox-batch.ts). */
  writeBatch: 25,
  getBatch: 100,
  batchConcurrency: 4,
  /** Authors above this are not kept as hot lists in Redis (CachedFollowerGraph). */
  maxCachedFollowers: 100_000,
  hotListTtlSeconds: 600,
  dedupTtlDays: 30,
  celebrityThreshold: 10_000,
  /** Lambda memory of every function (MB) and the CPU share it buys (full vCPU at 1,769 MB). */
  lambdaMemoryMb: 1024,
  fullVcpuMb: 1769,
  /** Assumed waits (bench/lambda-cost.ts): an AWS request, a provider round, Redis round trips. */
  awsRequestMs: 6,
  providerRoundTripMs: 40,
  redisRoundTripsPerDelivery: 3,
  redisRoundTripMs: 1,
  /** Firehose bills each record in 5 KiB steps (firehose-audit.ts). */
  firehoseBillingStepBytes: 5 * 1024,
  /** Usable memory of one MemoryDB db.r7g.large node (13.07 GiB, 75% kept for data). */
  memoryDbNodeBytes: 13.07 * 0.75 * 1024 ** 3,
  /** Global Tables: typical replication lag, seconds. */
  replicationLagSeconds: 1.5,
  /** Provisioned tables: auto scaling's target utilization, and a table's write capacity quota. */
  provisionedTargetUtilization: 0.7,
  tableMaxWriteCapacity: 40_000,
} as const;

/** The prices the monthly bill uses (a subset of bench/aws-prices.ts, passed in to keep this pure). */
export interface CapacityPrices {
  readonly dynamoWriteUnitsPerMillion: number;
  readonly dynamoReadUnitsPerMillion: number;
  readonly dynamoProvisionedWcuHour: number;
  readonly dynamoProvisionedRcuHour: number;
  readonly sqsRequestsPerMillion: number;
  readonly snsRequestsPerMillion: number;
  readonly snsMobilePushPerMillion: number;
  readonly kinesisPutUnitsPerMillion: number;
  readonly kinesisShardHour: number;
  readonly firehosePerGb: number;
  readonly sesPerThousand: number;
  readonly lambdaArmPerGbSecond: number;
  readonly lambdaRequestsPerMillion: number;
  readonly memoryDbR7gLargeHour: number;
  readonly elastiCacheServerlessValkeyGbHour: number;
  readonly dynamoReplicatedWriteUnitsPerMillion: number;
  readonly interRegionTransferPerGb: number;
}

/** The limits, any of which a test or a what-if may change. */
export type Limits = { readonly [K in keyof typeof CAPACITY_LIMITS]: number };

const DAY = 86_400;
const MONTH_DAYS = 730 / 24;
const GIB = 1024 ** 3;

/** Daily and peak rates of the scenario. */
export function rates(s: CapacityScenario) {
  const posts = s.eventsPerDay * s.postShare;
  const celebrityPosts = posts * s.celebrityShare;
  const directs = s.eventsPerDay - posts;
  const rowsPerDay = directs + (posts - celebrityPosts) * s.meanFollowers;
  const peak = (perDay: number) => (perDay / DAY) * s.peakToAverage;
  return {
    eventsPerDay: s.eventsPerDay,
    rowsPerDay,
    pointersPerDay: celebrityPosts,
    pushesPerDay: rowsPerDay * s.pushShare,
    emailsPerDay: rowsPerDay * s.emailShare,
    opensPerDay: s.dailyActiveUsers * s.opensPerActiveUser,
    peakEventsPerSecond: peak(s.eventsPerDay),
    peakRowsPerSecond: peak(rowsPerDay),
    peakPushesPerSecond: peak(rowsPerDay * s.pushShare),
    peakEmailsPerSecond: peak(rowsPerDay * s.emailShare),
    peakOpensPerSecond: peak(s.dailyActiveUsers * s.opensPerActiveUser),
  };
}

/** CPU time stretched by the share of a vCPU the function's memory buys. */
function cpuWall(cpuMs: number, l: Limits): number {
  return cpuMs * Math.max(1, l.fullVcpuMb / l.lambdaMemoryMb);
}

/** Jobs one consumer invocation of a full batch takes: its messages × jobs a message. */
export function jobsPerInvocation(l: Limits = CAPACITY_LIMITS): number {
  return l.deliveryBatch * l.jobsPerMessage;
}

/**
 * Billed ms of fan-out per event with `rows` rows: CPU, graph page, existence checks, writes, job
 * sends (one SendMessageBatch per 10 messages of up to jobsPerMessage jobs each).
 */
export function fanoutMs(
  rows: number,
  s: CapacityScenario,
  u: UnitCosts,
  l: Limits = CAPACITY_LIMITS,
): number {
  const cpu = cpuWall(u.fanoutCpuMsPerEvent + rows * u.fanoutCpuMsPerRow, l);
  const calls =
    Math.ceil(rows / l.writeBatch) / l.batchConcurrency +
    Math.ceil(rows / l.getBatch) / l.batchConcurrency +
    Math.ceil((rows * (s.pushShare + s.emailShare)) / (l.sqsBatchEntries * l.jobsPerMessage)) /
      l.batchConcurrency +
    1;
  return cpu + calls * l.awsRequestMs;
}

/**
 * Billed ms of one delivery invocation of a full batch (every message full): the jobs' CPU, their
 * SQS requests, the audit record, one devices or preferences call per 100 jobs (BatchGetItem's
 * size; preferences are read once per user and batch), a provider round and the Redis trips.
 */
export function deliveryMs(cpuMsPerJob: number, u: UnitCosts, l: Limits = CAPACITY_LIMITS): number {
  const jobs = jobsPerInvocation(l);
  const requests = jobs * u.sqsRequestsPerJob + 1 /* audit */ + Math.ceil(jobs / l.getBatch);
  return (
    cpuWall(cpuMsPerJob * jobs, l) +
    requests * l.awsRequestMs +
    l.providerRoundTripMs +
    l.redisRoundTripsPerDelivery * l.redisRoundTripMs
  );
}

/** Every figure of the model. */
export function capacity(
  s: CapacityScenario,
  u: UnitCosts = MEASURED_UNITS,
  prices: CapacityPrices,
  l: Limits = CAPACITY_LIMITS,
) {
  const r = rates(s);
  const regularRowsPerPost = s.meanFollowers;
  const rowsPerEvent = r.rowsPerDay / r.eventsPerDay;

  // Kinesis: enough shards for the events coming in, and for fan-out to keep up with them.
  const ingestShards = Math.max(
    r.peakEventsPerSecond / l.shardRecordsPerSecond,
    (r.peakEventsPerSecond * u.eventBytes) / l.shardBytesPerSecond,
  );
  const msPerEvent = fanoutMs(rowsPerEvent, s, u, l);
  const fanoutConcurrency = (r.peakEventsPerSecond * msPerEvent) / 1000;
  const kinesisShards = Math.max(
    1,
    Math.ceil(ingestShards),
    Math.ceil(fanoutConcurrency / l.parallelizationFactor),
  );

  // Lambda concurrency, by Little's law: arrivals per second × seconds each.
  const pushMs = deliveryMs(u.pushCpuMsPerJob, u, l);
  const emailMs = deliveryMs(u.emailCpuMsPerJob, u, l);
  const batchJobs = jobsPerInvocation(l);
  const pushConcurrency = ((r.peakPushesPerSecond / batchJobs) * pushMs) / 1000;
  const emailConcurrency = ((r.peakEmailsPerSecond / batchJobs) * emailMs) / 1000;

  // DynamoDB at peak.
  const rowWrite = u.rowWriteUnits[s.unreadMode];
  const peakWriteUnits =
    r.peakRowsPerSecond * rowWrite +
    r.peakEventsPerSecond * u.eventWriteUnits +
    r.peakOpensPerSecond * u.openWriteUnits[s.unreadMode];
  const peakReadUnits =
    r.peakRowsPerSecond * u.rowReadUnits +
    r.peakEventsPerSecond * u.eventReadUnits +
    r.peakOpensPerSecond * u.openReadUnits[s.unreadMode];

  // Hot partitions. A 9,999-follower author is the largest that still fans out row by row.
  const bigAuthor = l.celebrityThreshold - 1;
  const bigAuthorFanoutMs = fanoutMs(bigAuthor, s, u, l);
  // Its edges, read from DynamoDB when its hot list is cold: eventually consistent, 4 KB a unit.
  const bigAuthorGraphReadUnits = Math.ceil((bigAuthor * u.edgeBytes) / 4096) * 0.5;
  const bigAuthorPostsPerSecondAtPartitionLimit = l.partitionReadUnits / bigAuthorGraphReadUnits;
  const bigAuthorBurstWriteUnitsPerSecond = (bigAuthor * rowWrite) / (bigAuthorFanoutMs / 1000);
  // The viral post's owner: every like a row in one inbox partition (its index entry in another).
  const ownerRowsPerSecond = Math.min(s.viralLikesPerSecond, l.partitionWriteUnits);
  const viralSeconds = s.viralLikes / ownerRowsPerSecond;

  // Redis.
  const hotListAuthors = r.peakEventsPerSecond * s.postShare * (1 - s.celebrityShare) * l.hotListTtlSeconds;
  const hotListBytes =
    Math.min(hotListAuthors, s.users) *
    Math.min(s.meanFollowers, l.maxCachedFollowers) *
    u.hotListMemberBytes;
  const dedupKeys = (r.pushesPerDay + r.emailsPerDay) * l.dedupTtlDays;
  const dedupBytes = dedupKeys * u.dedupKeyBytes;
  const memoryDbShards = Math.max(1, Math.ceil(dedupBytes / l.memoryDbNodeBytes));

  // SQS: what the consumers take at their maxConcurrency, against the peak.
  const pushJobsPerSecondMax = (l.pushMaxConcurrency * batchJobs * 1000) / pushMs;
  const emailJobsPerSecondMax = (l.emailMaxConcurrency * batchJobs * 1000) / emailMs;
  const jobsPerDay = r.pushesPerDay + r.emailsPerDay;
  const peakSqsRequestsPerSecond = (r.peakPushesPerSecond + r.peakEmailsPerSecond) * u.sqsRequestsPerJob;

  // The month's bill, per service.
  const month = (perDay: number) => perDay * MONTH_DAYS;
  const writeUnitsPerDay =
    r.rowsPerDay * rowWrite +
    r.eventsPerDay * u.eventWriteUnits +
    r.opensPerDay * u.openWriteUnits[s.unreadMode];
  const readUnitsPerDay =
    r.rowsPerDay * u.rowReadUnits +
    r.eventsPerDay * u.eventReadUnits +
    r.opensPerDay * u.openReadUnits[s.unreadMode];
  const fanoutGbSeconds = (r.eventsPerDay * msPerEvent * l.lambdaMemoryMb) / 1024 / 1000;
  const deliveryGbSeconds =
    ((r.pushesPerDay / batchJobs) * pushMs + (r.emailsPerDay / batchJobs) * emailMs) *
    (l.lambdaMemoryMb / 1024 / 1000);
  const invocationsPerDay = r.eventsPerDay / 100 + jobsPerDay / batchJobs;
  const auditRecordsPerDay = jobsPerDay / u.decisionsPerAuditRecord;
  // A batch's decisions share one record, billed in 5 KiB steps: a packed batch's record takes several.
  const auditRecordBilledBytes =
    Math.max(1, Math.ceil((u.decisionsPerAuditRecord * u.auditLineBytes) / l.firehoseBillingStepBytes)) *
    l.firehoseBillingStepBytes;
  // DynamoDB: the inbox's units (rows, opens) on provisioned capacity when the scenario says so,
  // priced at the utilization auto scaling reaches over the day; the events' units stay on-demand
  // here (they also touch checkpoints and the celebrity feed, which are on-demand).
  const inboxWriteUnitsPerDay = r.rowsPerDay * rowWrite + r.opensPerDay * u.openWriteUnits[s.unreadMode];
  const inboxReadUnitsPerDay = r.rowsPerDay * u.rowReadUnits + r.opensPerDay * u.openReadUnits[s.unreadMode];
  const provisioned = s.tableBilling === 'provisioned';
  const autoScaling = provisioned
    ? simulateAutoScaling({
        targetUtilization: l.provisionedTargetUtilization,
        peakToAverage: s.peakToAverage,
      })
    : undefined;
  const inboxPrices = autoScaling
    ? provisionedPerMillionUnits(prices, autoScaling.effectiveUtilization)
    : { write: prices.dynamoWriteUnitsPerMillion, read: prices.dynamoReadUnitsPerMillion };
  const peakInboxWriteUnits =
    r.peakRowsPerSecond * rowWrite + r.peakOpensPerSecond * u.openWriteUnits[s.unreadMode];
  const bill = {
    dynamodb: month(
      (inboxWriteUnitsPerDay * inboxPrices.write +
        inboxReadUnitsPerDay * inboxPrices.read +
        (writeUnitsPerDay - inboxWriteUnitsPerDay) * prices.dynamoWriteUnitsPerMillion +
        (readUnitsPerDay - inboxReadUnitsPerDay) * prices.dynamoReadUnitsPerMillion) /
        1e6,
    ),
    sqs: month((jobsPerDay * u.sqsRequestsPerJob * prices.sqsRequestsPerMillion) / 1e6),
    sns: s.sns
      ? month((r.pushesPerDay * (prices.snsRequestsPerMillion + prices.snsMobilePushPerMillion)) / 1e6)
      : 0,
    kinesis:
      kinesisShards * prices.kinesisShardHour * 730 +
      month((r.eventsPerDay * prices.kinesisPutUnitsPerMillion) / 1e6),
    firehose: month(((auditRecordsPerDay * auditRecordBilledBytes) / GIB) * prices.firehosePerGb),
    lambda: month(
      (fanoutGbSeconds + deliveryGbSeconds) * prices.lambdaArmPerGbSecond +
        (invocationsPerDay * prices.lambdaRequestsPerMillion) / 1e6,
    ),
    ses: month((r.emailsPerDay / 1000) * prices.sesPerThousand),
    memorydb: memoryDbShards * 2 * prices.memoryDbR7gLargeHour * 730,
    elasticache: Math.max(0.1, hotListBytes / GIB) * prices.elastiCacheServerlessValkeyGbHour * 730,
    globalTables: 0,
  };

  // Global Tables: every replica region pays each write again as a replicated write, and the
  // bytes cross regions.
  const replicatedBytesPerDay = r.rowsPerDay * u.rowBytes + r.eventsPerDay * u.eventBytes;
  const perReplicaRegion = month(
    (writeUnitsPerDay * prices.dynamoReplicatedWriteUnitsPerMillion) / 1e6 +
      (replicatedBytesPerDay / GIB) * prices.interRegionTransferPerGb,
  );
  bill.globalTables = Math.max(0, s.regions - 1) * perReplicaRegion;
  // A failover at peak: what is in flight in the old region (Little's law again).
  const inFlightEvents = r.peakEventsPerSecond * (msPerEvent / 1000 + 1) /* batching window */;
  const inFlightJobs =
    (r.peakPushesPerSecond + r.peakEmailsPerSecond) * (1 /* batching window */ + pushMs / 1000);
  const rowsInReplicationLag = r.peakRowsPerSecond * l.replicationLagSeconds;
  const total = Object.values(bill).reduce((a, b) => a + b, 0);

  return {
    rates: r,
    regularRowsPerPost,
    kinesisShards,
    lambdaConcurrency: {
      fanout: Math.max(fanoutConcurrency, 1),
      fanoutAtShards: kinesisShards * l.parallelizationFactor,
      push: pushConcurrency,
      email: emailConcurrency,
    },
    dynamodb: {
      peakWriteUnits,
      peakReadUnits,
      newTableWriteUnits: l.newTableWriteUnits,
      billing: s.tableBilling,
      /** Consumed over provisioned units over the day (provisioned tables only). */
      effectiveUtilization: autoScaling?.effectiveUtilization ?? 1,
      /** The inbox's provisioned write capacity at the peak, and whether it fits a table's quota. */
      inboxWriteCapacityAtPeak: provisioned ? peakInboxWriteUnits / l.provisionedTargetUtilization : 0,
      inboxWriteCapacityOverQuota:
        provisioned && peakInboxWriteUnits / l.provisionedTargetUtilization > l.tableMaxWriteCapacity,
      inboxWriteDollarsPerMillionUnits: inboxPrices.write,
      inboxReadDollarsPerMillionUnits: inboxPrices.read,
    },
    hotPartitions: {
      bigAuthorFollowers: bigAuthor,
      bigAuthorFanoutSeconds: bigAuthorFanoutMs / 1000,
      bigAuthorGraphReadUnits,
      bigAuthorPostsPerSecondAtPartitionLimit,
      bigAuthorBurstWriteUnitsPerSecond,
      viralOwnerRowsPerSecond: ownerRowsPerSecond,
      viralThrottled: s.viralLikesPerSecond > l.partitionWriteUnits,
      viralSeconds,
    },
    redis: { hotListBytes, dedupKeys, dedupBytes, memoryDbShards },
    sqs: {
      peakJobsPerSecond: r.peakPushesPerSecond + r.peakEmailsPerSecond,
      /** Messages a second at peak, every message full (fewer jobs a message send more). */
      peakMessagesPerSecond: (r.peakPushesPerSecond + r.peakEmailsPerSecond) / l.jobsPerMessage,
      peakRequestsPerSecond: peakSqsRequestsPerSecond,
      pushJobsPerSecondMax,
      emailJobsPerSecondMax,
    },
    monthly: { ...bill, total },
    /** What one more region adds a month: its replicated writes and the bytes sent to it. */
    perReplicaRegion,
    failover: { inFlightEvents, inFlightJobs, rowsInReplicationLag },
  };
}

export type Capacity = ReturnType<typeof capacity>;

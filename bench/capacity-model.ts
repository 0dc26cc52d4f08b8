import {
  CAPACITY_LIMITS,
  type CapacityPrices,
  type CapacityScenario,
  type Limits,
  MEASURED_UNITS,
  type UnitCosts,
} from './capacity-inputs.ts';
import { provisionedPerMillionUnits, simulateAutoScaling } from './dynamo-provisioned.ts';

export {
  CAPACITY_LIMITS,
  type CapacityPrices,
  type CapacityScenario,
  DEFAULT_CAPACITY_SCENARIO,
  type Limits,
  MEASURED_UNITS,
  type UnitCosts,
} from './capacity-inputs.ts';

/**
 * The capacity model's formulas: pure arithmetic from a scenario, per-unit costs measured by
 * `npm run bench -- aws-cost` and AWS's published limits and prices. docs/capacity.md explains
 * each formula, its source and where it stops being trustworthy.
 */

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
 * SQS requests, the audit record, the device lists (a Query per user, `deviceQueryConcurrency` in
 * flight: one round per that many jobs, every user taken as distinct), one round of preference
 * reads (all at once, once per user and batch), a provider round and the Redis trips.
 */
export function deliveryMs(cpuMsPerJob: number, u: UnitCosts, l: Limits = CAPACITY_LIMITS): number {
  const jobs = jobsPerInvocation(l);
  const requests =
    jobs * u.sqsRequestsPerJob +
    1 /* audit */ +
    Math.ceil(jobs / l.deviceQueryConcurrency) +
    1; /* preference reads, all at once */
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

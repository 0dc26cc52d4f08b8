import { DEFAULT_JOBS_PER_MESSAGE } from '../src/runtime/aws-ports.ts';

/**
 * The capacity model's inputs: the scenario, the per-unit costs measured by
 * `npm run bench -- aws-cost`, AWS's limits and our defaults, and the prices it is given.
 * capacity-model.ts holds the formulas; docs/capacity.md explains both.
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
 * Measured by `npm run bench -- aws-cost --json` (small size, the default) alone on the 2-core
 * development VM on 2026-12-08, with ten jobs a message (docs/benchmarks.md): SQS requests per job,
 * warm handler CPU (fan-out's charged to its rows: 11.7 ms per live event of 35 rows, the higher of
 * two runs), the audit packing (one record per consumer invocation of up to 100 jobs), units per
 * open. Units per row and per event as measured on 2026-12-07 (unchanged since).
 * Estimated from the adapters' items: event reads (tier, follower count, pointer replay check),
 * sizes (an audit line of a push sent is about 230 bytes), Redis bytes.
 */
export const MEASURED_UNITS: UnitCosts = {
  rowWriteUnits: { gsi: 2, counter: 1 },
  rowReadUnits: 1,
  eventWriteUnits: 2,
  eventReadUnits: 2,
  openWriteUnits: { gsi: 26, counter: 18 },
  openReadUnits: { gsi: 23.5, counter: 28 },
  sqsRequestsPerJob: 0.04,
  fanoutCpuMsPerEvent: 0,
  fanoutCpuMsPerRow: 0.27,
  pushCpuMsPerJob: 0.77,
  emailCpuMsPerJob: 0.74,
  decisionsPerAuditRecord: 108,
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
  /**
   * Push consumer: device-list Queries in flight (DynamoDevices' default concurrency; one Query
   * per distinct user of the batch, taken as all distinct).
   */
  deviceQueryConcurrency: 16,
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

import { describe, expect, it } from 'vitest';
import { AWS_PRICES } from '../../bench/aws-prices.ts';
import { capacityScenario } from '../../bench/capacity.ts';
import {
  CAPACITY_LIMITS,
  type CapacityScenario,
  capacity,
  DEFAULT_CAPACITY_SCENARIO,
  type UnitCosts,
} from '../../bench/capacity-model.ts';
import { ValidationError } from '../../src/domain/errors.ts';

/*
 * A scenario small enough to compute by hand: one event a second on average (half posts to 10
 * followers, half to one user), peak twice that, one inbox open a second, every function at
 * 2,048 MB (a full vCPU: CPU time is wall time).
 */
const SMALL: CapacityScenario = {
  users: 1000,
  dailyActiveUsers: 100,
  eventsPerDay: 86_400,
  postShare: 0.5,
  meanFollowers: 10,
  celebrityShare: 0,
  pushShare: 0.5,
  emailShare: 0,
  peakToAverage: 2,
  opensPerActiveUser: 864,
  viralLikes: 3000,
  viralLikesPerSecond: 1500,
  regions: 2,
  unreadMode: 'counter',
  sns: true,
  tableBilling: 'onDemand',
};

const UNITS: UnitCosts = {
  rowWriteUnits: { gsi: 2, counter: 1 },
  rowReadUnits: 1,
  eventWriteUnits: 2,
  eventReadUnits: 1,
  openWriteUnits: { gsi: 5, counter: 3 },
  openReadUnits: { gsi: 20, counter: 4 },
  sqsRequestsPerJob: 0.3,
  fanoutCpuMsPerEvent: 1,
  fanoutCpuMsPerRow: 0.1,
  pushCpuMsPerJob: 1,
  emailCpuMsPerJob: 1,
  decisionsPerAuditRecord: 10,
  auditLineBytes: 1000,
  eventBytes: 1024,
  rowBytes: 512,
  edgeBytes: 100,
  dedupKeyBytes: 200,
  hotListMemberBytes: 100,
};

/** Packed as deployed: 10 jobs a message, consumer batches of 10 messages (100 jobs). */
const LIMITS = { ...CAPACITY_LIMITS, lambdaMemoryMb: 2048, jobsPerMessage: 10 };
/** One job a message, as before packing: consumer batches of 10 jobs. */
const UNPACKED = { ...LIMITS, jobsPerMessage: 1 };

describe('capacity model', () => {
  it('computes the rates, shards, units at peak and concurrency of a hand-computed scenario', () => {
    // Act
    const c = capacity(SMALL, UNITS, AWS_PRICES, LIMITS);
    // Assess: 43,200 posts × 10 rows + 43,200 single-recipient events = 475,200 rows a day
    expect(c.rates.rowsPerDay).toBe(475_200);
    expect(c.rates.peakRowsPerSecond).toBeCloseTo(11, 9); // 5.5 a second on average, × 2
    expect(c.rates.peakEventsPerSecond).toBeCloseTo(2, 9);
    expect(c.rates.pushesPerDay).toBe(237_600);
    // 11 rows × 1 + 2 events × 2 + 2 opens × 3 write units; 11 × 1 + 2 × 1 + 2 × 4 read units
    expect(c.dynamodb.peakWriteUnits).toBeCloseTo(21, 9);
    expect(c.dynamodb.peakReadUnits).toBeCloseTo(21, 9);
    // 2 events/s of 1 KiB is far below a shard; fan-out of 5.5 rows an event:
    // CPU 1 + 0.55 ms, calls (1/4 write + 1/4 read + 1/4 send batch + 1 graph page) × 6 ms = 12.05 ms
    // (the send term: 2.75 jobs an event fill one SendMessageBatch of 10 messages × 10 jobs)
    expect(c.kinesisShards).toBe(1);
    expect(c.lambdaConcurrency.fanout).toBe(1); // 2 × 12.05 ms = 0.0241, at least one
    // A push invocation of 10 messages × 10 jobs = 100 jobs: 100 ms CPU + (100 × 0.3 SQS + 1 audit
    // + ⌈100 / 16⌉ device rounds + 1 preference round) = 39 requests × 6 ms + 40 ms + 3 × 1 ms = 377 ms
    expect(c.lambdaConcurrency.push).toBeCloseTo((5.5 / 100) * 0.377, 9); // 0.020735
    expect(c.sqs.peakRequestsPerSecond).toBeCloseTo(5.5 * 0.3, 9); // measured per job, packing included
    expect(c.sqs.peakMessagesPerSecond).toBeCloseTo(0.55, 9); // 5.5 jobs/s in full messages of 10
    expect(c.sqs.pushJobsPerSecondMax).toBeCloseTo((50 * 100 * 1000) / 377, 9); // 13,263 jobs/s
  });

  it('gives the figures of one job a message with jobsPerMessage 1', () => {
    // Act
    const c = capacity(SMALL, UNITS, AWS_PRICES, UNPACKED);
    // Assess: a push invocation of 10 jobs: 10 ms CPU + (10 × 0.3 + 1 + ⌈10 / 16⌉ + 1) = 6 requests
    // × 6 ms + 40 ms + 3 × 1 ms = 89 ms
    expect(c.lambdaConcurrency.push).toBeCloseTo((5.5 / 10) * 0.089, 9);
    expect(c.sqs.peakMessagesPerSecond).toBeCloseTo(5.5, 9);
    expect(c.sqs.pushJobsPerSecondMax).toBeCloseTo((50 * 10 * 1000) / 89, 9);
    // The 9,999-follower post: CPU 1 + 999.9 ms; calls (400/4 + 100/4 + 500/4 + 1) × 6 ms = 1,506 ms,
    // its 4,999.5 push jobs in ⌈4,999.5 / 10⌉ = 500 SendMessageBatch calls of 10 messages
    expect(c.hotPartitions.bigAuthorFanoutSeconds).toBeCloseTo(2.5069, 9);
    // 5.5 jobs/s × (1 s batching window + 89 ms)
    expect(c.failover.inFlightJobs).toBeCloseTo(5.5 * 1.089, 9);
    // Lambda: fan-out 86,400 events × 12.05 ms and 23,760 push invocations × 89 ms at 2 GB;
    // 864 fan-out invocations (batches of 100 records) and 23,760 push ones
    const month = 730 / 24;
    const gbSeconds = (86_400 * 12.05 * 2) / 1000 + (23_760 * 89 * 2) / 1000; // 2,082.24 + 4,229.28
    expect(c.monthly.lambda).toBeCloseTo(
      (gbSeconds * AWS_PRICES.lambdaArmPerGbSecond + (24_624 * AWS_PRICES.lambdaRequestsPerMillion) / 1e6) *
        month,
      9,
    );
  });

  it('computes the hot partitions: the 9,999-follower author and the viral post owner', () => {
    // Act
    const h = capacity(SMALL, UNITS, AWS_PRICES, LIMITS).hotPartitions;
    // Assess: CPU 1 + 999.9 ms; calls (400/4 + 100/4 + 50/4 + 1) × 6 ms = 831 ms: its 4,999.5 push
    // jobs go in ⌈4,999.5 / 100⌉ = 50 SendMessageBatch calls of 10 messages of 10 jobs
    expect(h.bigAuthorFanoutSeconds).toBeCloseTo(1.8319, 9);
    // 9,999 edges × 100 B = 245 pages of 4 KB, half a unit each (eventually consistent)
    expect(h.bigAuthorGraphReadUnits).toBe(122.5);
    expect(h.bigAuthorPostsPerSecondAtPartitionLimit).toBeCloseTo(3000 / 122.5, 9);
    expect(h.bigAuthorBurstWriteUnitsPerSecond).toBeCloseTo(9999 / 1.8319, 6);
    // 1,500 likes a second into one partition of 1,000 write units: 3,000 likes take 3 s
    expect(h.viralOwnerRowsPerSecond).toBe(1000);
    expect(h.viralThrottled).toBe(true);
    expect(h.viralSeconds).toBe(3);
  });

  it('computes Redis memory, the monthly bill, a replica region and a failover', () => {
    // Act
    const c = capacity(SMALL, UNITS, AWS_PRICES, LIMITS);
    // Assess: 237,600 pushes a day kept 30 days, 200 B each
    expect(c.redis.dedupKeys).toBe(7_128_000);
    expect(c.redis.dedupBytes).toBe(1_425_600_000);
    expect(c.redis.memoryDbShards).toBe(1);
    // 2 events/s × half posts × 600 s of hot-list TTL = 600 lists of 10 members, 100 B each
    expect(c.redis.hotListBytes).toBeCloseTo(600_000, 6);
    const month = 730 / 24;
    expect(c.monthly.sns).toBeCloseTo(0.2376 * month, 9);
    expect(c.monthly.ses).toBe(0);
    // 237,600 decisions a day, 10 a record: 23,760 records of 10 × 1,000 B, billed as 2 steps of 5 KiB
    expect(c.monthly.firehose).toBeCloseTo(((23_760 * 10_240) / 1024 ** 3) * 0.029 * month, 9);
    // Lambda: fan-out 86,400 × 12.05 ms, push 2,376 invocations of 100 jobs × 377 ms, at 2 GB;
    // 864 + 2,376 invocations
    const gbSeconds = (86_400 * 12.05 * 2) / 1000 + (2_376 * 377 * 2) / 1000; // 2,082.24 + 1,791.50
    expect(c.monthly.lambda).toBeCloseTo(
      (gbSeconds * AWS_PRICES.lambdaArmPerGbSecond + (3_240 * AWS_PRICES.lambdaRequestsPerMillion) / 1e6) *
        month,
      9,
    );
    // 907,200 write units a day (475,200 + 172,800 + 259,200) replicated, 331,776,000 bytes sent
    const replica = (907_200 * 0.625) / 1e6 + (331_776_000 / 1024 ** 3) * 0.02;
    expect(c.perReplicaRegion).toBeCloseTo(replica * month, 9);
    expect(c.monthly.globalTables).toBeCloseTo(replica * month, 9);
    expect(c.monthly.total).toBeCloseTo(
      Object.entries(c.monthly)
        .filter(([k]) => k !== 'total')
        .reduce((t, [, v]) => t + v, 0),
      9,
    );
    // 5.5 jobs/s × (1 s batching window + 377 ms); 11 rows/s × 1.5 s of replication lag
    expect(c.failover.inFlightJobs).toBeCloseTo(5.5 * 1.377, 9);
    expect(c.failover.rowsInReplicationLag).toBeCloseTo(16.5, 9);
  });
});

describe('capacity model, provisioned tables', () => {
  it('bills the inbox units at provisioned capacity over the utilization reached, the rest on-demand', () => {
    // Prepare: a flat day (peak = average), where auto scaling holds its 70 % target exactly
    const flat: CapacityScenario = { ...SMALL, peakToAverage: 1, tableBilling: 'provisioned' };
    // Act
    const c = capacity(flat, UNITS, AWS_PRICES, LIMITS);
    // Assess: inbox 475,200 rows + 86,400 opens × 3 = 734,400 write units a day, 475,200 + 86,400 × 4
    // = 820,800 read units; events 172,800 write and 86,400 read units stay on-demand.
    const write = (0.00065 / 3600 / 0.7) * 1e6; // $0.2579 per million units
    const read = (0.00013 / 3600 / 0.7) * 1e6; // $0.0516
    expect(c.dynamodb.effectiveUtilization).toBeCloseTo(0.7, 9);
    expect(c.dynamodb.inboxWriteDollarsPerMillionUnits).toBeCloseTo(write, 9);
    expect(c.dynamodb.inboxReadDollarsPerMillionUnits).toBeCloseTo(read, 9);
    const month = 730 / 24;
    const daily = (734_400 * write + 820_800 * read + 172_800 * 0.625 + 86_400 * 0.125) / 1e6;
    expect(c.monthly.dynamodb).toBeCloseTo(daily * month, 9);
    // 5.5 rows + 1 open × 3 = 8.5 write units a second, provisioned at 70 %: 12.14 units
    expect(c.dynamodb.inboxWriteCapacityAtPeak).toBeCloseTo(8.5 / 0.7, 9);
    expect(c.dynamodb.inboxWriteCapacityOverQuota).toBe(false);
  });

  it('costs less than on-demand on the default day of peak 3, the auto scaling lag included', () => {
    const onDemand = capacity(
      { ...DEFAULT_CAPACITY_SCENARIO, tableBilling: 'onDemand' },
      undefined,
      AWS_PRICES,
    );
    const provisioned = capacity(DEFAULT_CAPACITY_SCENARIO, undefined, AWS_PRICES);
    expect(provisioned.dynamodb.effectiveUtilization).toBeLessThan(0.7);
    expect(provisioned.monthly.dynamodb).toBeLessThan(onDemand.monthly.dynamodb);
  });
});

describe('capacityScenario', () => {
  it('is the documented default without options, and takes every field as a flag', () => {
    // Act / Assess
    expect(capacityScenario({})).toEqual(DEFAULT_CAPACITY_SCENARIO);
    expect(
      capacityScenario({
        users: '2000000',
        'push-share': '0.5',
        'unread-mode': 'gsi',
        transport: 'sns',
        regions: '2',
        'table-billing': 'on-demand',
      }),
    ).toEqual({
      ...DEFAULT_CAPACITY_SCENARIO,
      users: 2_000_000,
      pushShare: 0.5,
      unreadMode: 'gsi',
      sns: true,
      regions: 2,
      tableBilling: 'onDemand',
    });
  });

  it('rejects unknown options and bad values, naming each', () => {
    // Act
    let error: unknown;
    try {
      capacityScenario({
        'push-share': '1.5',
        users: 'many',
        bogus: '1',
        regions: '1.5',
        'unread-mode': 'x',
        'table-billing': 'reserved',
      });
    } catch (err) {
      error = err;
    }
    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.path).sort()).toEqual([
      'bogus',
      'push-share',
      'regions',
      'table-billing',
      'unread-mode',
      'users',
    ]);
  });
});

import { ValidationError } from '../src/domain/errors.ts';
import { AWS_PRICES } from './aws-prices.ts';
import {
  CAPACITY_LIMITS,
  type CapacityScenario,
  capacity,
  DEFAULT_CAPACITY_SCENARIO,
  jobsPerInvocation,
  MEASURED_UNITS,
} from './capacity-model.ts';
import type { BenchReport } from './support.ts';

/** `--name=value` flags of the capacity benchmark: the scenario's fields, kebab-cased. */
const NUMBER_FLAGS = {
  users: 'users',
  'daily-active-users': 'dailyActiveUsers',
  'events-per-day': 'eventsPerDay',
  'post-share': 'postShare',
  'mean-followers': 'meanFollowers',
  'celebrity-share': 'celebrityShare',
  'push-share': 'pushShare',
  'email-share': 'emailShare',
  'peak-to-average': 'peakToAverage',
  'opens-per-active-user': 'opensPerActiveUser',
  'viral-likes': 'viralLikes',
  'viral-likes-per-second': 'viralLikesPerSecond',
  regions: 'regions',
} as const satisfies Record<string, keyof CapacityScenario>;

const SHARES = new Set<keyof CapacityScenario>(['postShare', 'celebrityShare', 'pushShare', 'emailShare']);

/** The flags `capacity` takes, for the usage line. */
export const CAPACITY_FLAGS = [
  ...Object.keys(NUMBER_FLAGS),
  'unread-mode',
  'transport',
  'table-billing',
] as const;

/**
 * The scenario of `--name=value` options over the default: shares in [0, 1], counts positive,
 * `--unread-mode=gsi|counter`, `--transport=direct|sns`, `--table-billing=provisioned|on-demand`. A bad or unknown option throws
 * ValidationError naming it.
 */
export function capacityScenario(options: Readonly<Record<string, string>>): CapacityScenario {
  const issues: { path: string; message: string }[] = [];
  const s: Record<string, unknown> = { ...DEFAULT_CAPACITY_SCENARIO };
  for (const [flag, raw] of Object.entries(options)) {
    if (flag === 'unread-mode') {
      if (raw === 'gsi' || raw === 'counter') s.unreadMode = raw;
      else issues.push({ path: flag, message: "must be 'gsi' or 'counter'" });
      continue;
    }
    if (flag === 'transport') {
      if (raw === 'direct' || raw === 'sns') s.sns = raw === 'sns';
      else issues.push({ path: flag, message: "must be 'direct' or 'sns'" });
      continue;
    }
    if (flag === 'table-billing') {
      if (raw === 'provisioned' || raw === 'on-demand')
        s.tableBilling = raw === 'on-demand' ? 'onDemand' : raw;
      else issues.push({ path: flag, message: "must be 'provisioned' or 'on-demand'" });
      continue;
    }
    const field = (NUMBER_FLAGS as Record<string, keyof CapacityScenario>)[flag];
    if (field === undefined) {
      issues.push({ path: flag, message: `is not an option (${CAPACITY_FLAGS.join(', ')})` });
      continue;
    }
    const value = Number(raw);
    const ok = SHARES.has(field)
      ? raw !== '' && Number.isFinite(value) && value >= 0 && value <= 1
      : raw !== '' && Number.isFinite(value) && value > 0 && (field !== 'regions' || Number.isInteger(value));
    if (ok) s[field] = value;
    else
      issues.push({
        path: flag,
        message: SHARES.has(field) ? 'must be in [0, 1]' : 'must be a positive number',
      });
  }
  const out = s as unknown as CapacityScenario;
  if (out.dailyActiveUsers > out.users)
    issues.push({ path: 'daily-active-users', message: 'must be ≤ users' });
  if (out.peakToAverage < 1) issues.push({ path: 'peak-to-average', message: 'must be ≥ 1' });
  if (issues.length > 0) throw new ValidationError(issues);
  return out;
}

const round = (n: number, digits = 0) => Number(n.toFixed(digits));

/**
 * `npm run bench -- capacity [--json] [--users=N …]`: the capacity model of a scenario (see
 * bench/capacity-model.ts and docs/capacity.md). Arithmetic only: it runs in milliseconds.
 */
export function capacityBench(options: Readonly<Record<string, string>> = {}): BenchReport {
  const s = capacityScenario(options);
  const c = capacity(s, MEASURED_UNITS, AWS_PRICES);
  const h = c.hotPartitions;
  const gb = (bytes: number) => bytes / 1024 ** 3;
  const money = Object.entries(c.monthly).map(
    ([k, v]) => `    ${k.padEnd(14)} $${Math.round(v).toLocaleString('en-US')}`,
  );
  return {
    name: 'capacity',
    figures: {
      inbox_rows_per_day: c.rates.rowsPerDay,
      push_per_day: c.rates.pushesPerDay,
      peak_events_per_second: c.rates.peakEventsPerSecond,
      peak_inbox_rows_per_second: c.rates.peakRowsPerSecond,
      kinesis_shards: c.kinesisShards,
      fanout_concurrency: c.lambdaConcurrency.fanout,
      push_concurrency: c.lambdaConcurrency.push,
      email_concurrency: c.lambdaConcurrency.email,
      peak_write_units_per_second: c.dynamodb.peakWriteUnits,
      peak_read_units_per_second: c.dynamodb.peakReadUnits,
      provisioned_effective_utilization: c.dynamodb.effectiveUtilization,
      inbox_write_capacity_at_peak: c.dynamodb.inboxWriteCapacityAtPeak,
      big_author_fanout_seconds: h.bigAuthorFanoutSeconds,
      big_author_burst_write_units_per_second: h.bigAuthorBurstWriteUnitsPerSecond,
      big_author_posts_per_second_at_partition_limit: h.bigAuthorPostsPerSecondAtPartitionLimit,
      viral_owner_rows_per_second: h.viralOwnerRowsPerSecond,
      viral_like_storm_seconds: h.viralSeconds,
      redis_hot_lists_gb: gb(c.redis.hotListBytes),
      redis_dedup_gb_30_days: gb(c.redis.dedupBytes),
      memorydb_shards: c.redis.memoryDbShards,
      peak_sqs_requests_per_second: c.sqs.peakRequestsPerSecond,
      peak_sqs_messages_per_second: c.sqs.peakMessagesPerSecond,
      push_jobs_per_second_at_max_concurrency: c.sqs.pushJobsPerSecondMax,
      monthly_dollars_total: c.monthly.total,
      monthly_dollars_dynamodb: c.monthly.dynamodb,
      monthly_dollars_lambda: c.monthly.lambda,
      monthly_dollars_memorydb: c.monthly.memorydb,
      monthly_dollars_per_replica_region: c.perReplicaRegion,
      failover_in_flight_jobs: c.failover.inFlightJobs,
      failover_rows_in_replication_lag: c.failover.rowsInReplicationLag,
    },
    settings: {
      users: s.users,
      daily_active_users: s.dailyActiveUsers,
      events_per_day: s.eventsPerDay,
      post_share: s.postShare,
      mean_followers: s.meanFollowers,
      celebrity_share: s.celebrityShare,
      push_share: s.pushShare,
      email_share: s.emailShare,
      peak_to_average: s.peakToAverage,
      opens_per_active_user: s.opensPerActiveUser,
      viral: `${s.viralLikes} likes at ${s.viralLikesPerSecond}/s`,
      regions: s.regions,
      unread_mode: s.unreadMode,
      transport: s.sns ? 'sns' : 'direct',
      table_billing: s.tableBilling === 'provisioned' ? 'provisioned (inbox)' : 'on-demand',
      lambda_memory_mb: CAPACITY_LIMITS.lambdaMemoryMb,
      delivery_batch: `${CAPACITY_LIMITS.deliveryBatch} messages of ${CAPACITY_LIMITS.jobsPerMessage} jobs (every message taken as full)`,
      prices: `${AWS_PRICES.region}, ${AWS_PRICES.asOf} (bench/aws-prices.ts)`,
    },
    goals: [],
    notes: [
      'A model, not a measurement: per-unit costs from aws-cost (bench/capacity-inputs.ts MEASURED_UNITS),',
      "AWS's published limits and prices; docs/capacity.md gives each formula and where it stops holding.",
      `Lambda concurrency: fan-out needs ${round(c.lambdaConcurrency.fanout, 1)} and gets ${c.lambdaConcurrency.fanoutAtShards} (shards x parallelization factor);`,
      `push ${round(c.lambdaConcurrency.push, 1)} of maxConcurrency ${CAPACITY_LIMITS.pushMaxConcurrency}, email ${round(c.lambdaConcurrency.email, 1)} of ${CAPACITY_LIMITS.emailMaxConcurrency}.`,
      `Hot partitions: a ${h.bigAuthorFollowers}-follower post reads ${h.bigAuthorGraphReadUnits} units of edges when its hot list is cold`,
      `(${round(h.bigAuthorPostsPerSecondAtPartitionLimit, 1)} such posts a second reach one partition's 3,000 units) and writes`,
      `${round(h.bigAuthorBurstWriteUnitsPerSecond)} units a second, spread over its followers' partitions, for ${round(h.bigAuthorFanoutSeconds, 2)} s.`,
      `Viral post: its owner's inbox partition takes ${h.viralOwnerRowsPerSecond} rows a second${h.viralThrottled ? ' (throttled: likes come faster; the stream absorbs the rest)' : ''};`,
      `${s.viralLikes} likes land in ${round(h.viralSeconds, 1)} s.`,
      `Redis: hot follower lists ${round(gb(c.redis.hotListBytes), 2)} GB (ElastiCache); dedup keys over 30 days`,
      `${round(c.redis.dedupKeys / 1e6)} M = ${round(gb(c.redis.dedupBytes), 1)} GB (MemoryDB: ${c.redis.memoryDbShards} shard(s) of 2 db.r7g.large).`,
      `SQS at peak: ${round(c.sqs.peakJobsPerSecond)} jobs/s in ${round(c.sqs.peakMessagesPerSecond)} messages/s of ${CAPACITY_LIMITS.jobsPerMessage} jobs, ${round(c.sqs.peakRequestsPerSecond)} requests/s;`,
      `the push consumers (${jobsPerInvocation()} jobs an invocation) take up to ${round(c.sqs.pushJobsPerSecondMax)} jobs/s at their maxConcurrency, email ${round(c.sqs.emailJobsPerSecondMax)}.`,
      s.tableBilling === 'provisioned'
        ? `DynamoDB: the inbox on provisioned capacity with auto scaling at ${CAPACITY_LIMITS.provisionedTargetUtilization * 100} % target, ${round(c.dynamodb.effectiveUtilization * 100, 1)} % used over the day (bench/dynamo-provisioned.ts):`
        : 'DynamoDB: every table on-demand.',
      s.tableBilling === 'provisioned'
        ? `$${round(c.dynamodb.inboxWriteDollarsPerMillionUnits, 3)} per million write units, $${round(c.dynamodb.inboxReadDollarsPerMillionUnits, 3)} per million read units; ${round(c.dynamodb.inboxWriteCapacityAtPeak)} WCU at the peak${c.dynamodb.inboxWriteCapacityOverQuota ? ' (over the 40,000 WCU per-table quota: ask AWS for more)' : ''}.`
        : '',
      `Monthly bill (${s.tableBilling === 'provisioned' ? 'inbox provisioned, the rest on-demand' : 'on-demand'}, us-east-1):`,
      ...money,
      `Failover at peak: ~${round(c.failover.inFlightEvents)} events and ~${round(c.failover.inFlightJobs)} delivery jobs in flight in the old region,`,
      `~${round(c.failover.rowsInReplicationLag)} inbox rows inside the replication lag (docs/deploy.md, region failover).`,
    ],
  };
}

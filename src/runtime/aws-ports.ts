import type { Redis } from 'ioredis';
import { DynamoCelebrityFeed } from '../adapters/aws/celebrity-feed.ts';
import { DynamoCheckpoints } from '../adapters/aws/checkpoints.ts';
import { RedisDedupStore } from '../adapters/aws/dedup-store.ts';
import { SqsDeliveryQueue } from '../adapters/aws/delivery-queue.ts';
import { DynamoDevices } from '../adapters/aws/devices.ts';
import { DynamoDigestSchedule } from '../adapters/aws/digest-schedule.ts';
import { KinesisEventLog } from '../adapters/aws/event-log.ts';
import { DynamoFollowerGraph } from '../adapters/aws/follower-graph.ts';
import { DynamoFrequencyCaps } from '../adapters/aws/frequency-caps-dynamodb.ts';
import { RedisFrequencyCaps } from '../adapters/aws/frequency-caps-redis.ts';
import { CachedFollowerGraph } from '../adapters/aws/hot-follower-lists.ts';
import { DynamoInbox, type UnreadMode } from '../adapters/aws/inbox.ts';
import type { CapacitySink } from '../adapters/aws/inbox-batch.ts';
import { RedisPreferenceCache } from '../adapters/aws/preference-cache.ts';
import { DynamoPreferenceStore } from '../adapters/aws/preferences.ts';
import { RedisRequestBuckets } from '../adapters/aws/request-buckets-redis.ts';
import type { TableNames } from '../adapters/aws/tables.ts';
import { DynamoTenants } from '../adapters/aws/tenants.ts';
import { createCursorCodec } from '../domain/cursor.ts';
import { tierPolicy } from '../domain/tier.ts';
import type { Channel } from '../domain/types.ts';
import type { AuditSink } from '../ports/audit-sink.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import { type Logger, silentLogger } from '../ports/logger.ts';
import type { Ports } from '../ports/ports.ts';
import type { EmailTransport, PushTransport } from '../ports/transports.ts';
import type { AwsClients } from './aws-clients.ts';

/** The names of one deployment's resources (the CDK app's outputs; the local profile's own). */
export interface AwsResources {
  readonly tables: TableNames;
  readonly streamName: string;
  readonly queues: Readonly<Record<Channel, { readonly url: string; readonly deadLetterUrl: string }>>;
}

/** The transports and audit sink of a deployment, built once the data ports exist. */
export interface AwsDelivery {
  readonly push: PushTransport;
  readonly email: EmailTransport;
  readonly audit: AuditSink;
}

export interface AwsPortsOptions {
  readonly clients: AwsClients;
  /** ElastiCache: hot follower lists and the preference cache. */
  readonly cacheRedis: Redis;
  /** MemoryDB: the dedup store (may be the same connection locally). */
  readonly dedupRedis: Redis;
  readonly resources: AwsResources;
  readonly celebrityThreshold: number;
  readonly tierHysteresis: number;
  /** HMAC key of inbox cursors (from Secrets Manager on AWS). */
  readonly cursorSecret: string;
  /** How unread counts are kept. @default 'gsi' */
  readonly unread?: UnreadMode;
  /** Receives before the DLQ, as the queues' redrive policy says. @default 4 */
  readonly maxReceiveCount?: number;
  /** Delivery jobs packed into one SQS message. @default {@link DEFAULT_JOBS_PER_MESSAGE} */
  readonly jobsPerMessage?: number;
  /**
   * Builds the transports and the audit sink; receives the devices adapter, whose items also
   * cache SNS endpoint ARNs.
   */
  readonly delivery: (built: { readonly devices: DynamoDevices }) => AwsDelivery;
  /**
   * Prefix of every Redis key, so deployments (or test runs) sharing a Redis stay apart.
   * @default 'fanout'
   */
  readonly redisKeyPrefix?: string;
  /**
   * Where the push frequency-cap counters live: MemoryDB (the dedup connection) or the
   * `frequencyCaps` DynamoDB table. @default 'memorydb'
   */
  readonly frequencyCapStore?: FrequencyCapStore;
  /** Where DynamoDB capacity is reported (the cost benchmark); nowhere by default. */
  readonly capacity?: CapacitySink;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** Where the AWS mode keeps the push frequency-cap counters. */
export type FrequencyCapStore = 'memorydb' | 'dynamodb';

/**
 * Delivery jobs per SQS message in the AWS mode unless configured: a tenth of the SQS requests of
 * one job a message (docs/benchmarks.md, aws-cost), and small enough that a retried message
 * brings back few siblings and a batch of ten messages stays within one 64 KiB billing chunk.
 */
export const DEFAULT_JOBS_PER_MESSAGE = 10;

/**
 * Every port on AWS-managed services: the one place where the aws adapters are wired, used by the
 * Lambda entry points (once per container) and by the local-aws profile against emulators.
 */
export function openAwsPorts(opts: AwsPortsOptions): Ports {
  const { clients, resources } = opts;
  const { documents } = clients;
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? silentLogger;
  const tables = resources.tables;
  const capacity = opts.capacity === undefined ? {} : { capacity: opts.capacity };
  const keyPrefix = opts.redisKeyPrefix ?? 'fanout';
  const devices = new DynamoDevices({ documents, tableName: tables.devices });
  const delivery = opts.delivery({ devices });
  const queue = (channel: Channel) =>
    new SqsDeliveryQueue({
      sqs: clients.sqs,
      channel,
      queueUrl: resources.queues[channel].url,
      deadLetterQueueUrl: resources.queues[channel].deadLetterUrl,
      maxReceiveCount: opts.maxReceiveCount ?? 4,
      jobsPerMessage: opts.jobsPerMessage ?? DEFAULT_JOBS_PER_MESSAGE,
    });
  return {
    clock,
    logger,
    log: new KinesisEventLog({
      kinesis: clients.kinesis,
      streamName: resources.streamName,
      documents,
      eventsTable: tables.events,
      clock,
    }),
    checkpoints: new DynamoCheckpoints({ documents, tableName: tables.checkpoints }),
    graph: new CachedFollowerGraph({
      graph: new DynamoFollowerGraph({ documents, tableName: tables.followers }),
      redis: opts.cacheRedis,
      keyPrefix,
      logger,
    }),
    inbox: new DynamoInbox({
      documents,
      tableName: tables.inbox,
      unread: opts.unread ?? 'gsi',
      clock,
      ...capacity,
    }),
    feed: new DynamoCelebrityFeed({ documents, tableName: tables.celebrityFeed, clock, ...capacity }),
    queues: { push: queue('push'), email: queue('email') },
    dedup: new RedisDedupStore({ redis: opts.dedupRedis, keyPrefix, clock }),
    // On MemoryDB beside the dedup keys by default: durable, and the push consumer reaches it already.
    frequencyCaps:
      opts.frequencyCapStore === 'dynamodb'
        ? new DynamoFrequencyCaps({ documents, tableName: tables.frequencyCaps, clock })
        : new RedisFrequencyCaps({ redis: opts.dedupRedis, keyPrefix, clock }),
    digestSchedule: new DynamoDigestSchedule({ documents, tableName: tables.digestSchedule }),
    preferences: new DynamoPreferenceStore({
      documents,
      tableName: tables.preferences,
      streams: clients.dynamodbStreams,
      dynamodb: clients.dynamodb,
      clock,
    }),
    preferenceCache: new RedisPreferenceCache({ redis: opts.cacheRedis, keyPrefix, logger }),
    // On the cache: a lost bucket only forgives a burst, and every API container reaches it.
    requestBuckets: new RedisRequestBuckets({ redis: opts.cacheRedis, keyPrefix, clock }),
    devices,
    tenants: new DynamoTenants({ documents, tableName: tables.tenants }),
    push: delivery.push,
    email: delivery.email,
    audit: delivery.audit,
    cursors: createCursorCodec(opts.cursorSecret),
    tierPolicy: tierPolicy({ threshold: opts.celebrityThreshold, hysteresis: opts.tierHysteresis }),
    async close() {
      // The caller owns the clients and Redis connections (a Lambda container keeps them warm).
    },
  };
}

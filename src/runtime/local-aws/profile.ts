import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisReady } from '../../adapters/aws/dedup-store.ts';
import { readS3Audit, S3AuditSink } from '../../adapters/aws/s3-audit.ts';
import { SesEmailTransport } from '../../adapters/aws/ses-email.ts';
import { EmbeddedDb } from '../../adapters/embedded/db.ts';
import {
  RecordingEmailTransport,
  RecordingPushTransport,
  type TransportFault,
} from '../../adapters/embedded/recording-transports.ts';
import type { AuditEntry } from '../../domain/audit-types.ts';
import { SetupError } from '../../lib/setup-error.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import { type Logger, silentLogger } from '../../ports/logger.ts';
import type { Ports } from '../../ports/ports.ts';
import type {
  EmailMessage,
  EmailResult,
  EmailTransport,
  PushMessage,
  PushResult,
} from '../../ports/transports.ts';
import { type AwsClients, createAwsClients, createRedis } from '../aws-clients.ts';
import { openAwsPorts } from '../aws-ports.ts';
import type { CostMeter } from './cost-meter.ts';
import {
  type EmulatorEndpoints,
  type EmulatorPorts,
  type RunningEmulators,
  startEmulators,
} from './emulators.ts';
import { type LocalResources, provisionLocal } from './provision.ts';

export interface LocalAwsOptions {
  /** Kinesis shards. */
  readonly shards: number;
  readonly celebrityThreshold: number;
  readonly tierHysteresis: number;
  readonly cursorSecret: string;
  /** How unread counts are kept. @default 'gsi' */
  readonly unread?: 'gsi' | 'counter';
  /** Delivery jobs packed into one SQS message. @default 10, as a deployment's */
  readonly jobsPerMessage?: number;
  /** Emulators already running; when unset, they are started on `ports` and stopped on close. */
  readonly endpoints?: EmulatorEndpoints;
  /** Ports to start the emulators on; free ones when unset. */
  readonly ports?: EmulatorPorts;
  /** Prefix of every resource and Redis key. @default a fresh `fanout-<random>` */
  readonly prefix?: string;
  /**
   * SQLite file of the recording sinks, so what reached "the providers" outlives the process (a
   * run SIGKILLed and restarted on the same emulators and prefix). @default in memory
   */
  readonly sinkDbPath?: string;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly pushFault?: TransportFault<PushMessage, PushResult>;
  readonly emailFault?: TransportFault<EmailMessage, EmailResult>;
  /** Counts requests and DynamoDB capacity (the aws-cost benchmark). */
  readonly meter?: CostMeter;
}

/** The local-aws profile, open: ports on the emulators, and what reads totals back. */
export interface LocalAwsProfile {
  readonly ports: Ports;
  readonly endpoints: EmulatorEndpoints;
  readonly resources: LocalResources;
  /** Prefix of every resource and Redis key (given, or this run's fresh one). */
  readonly prefix: string;
  readonly clients: AwsClients;
  /** The device side of SNS (no emulator exists): every push that reached "the provider". */
  readonly pushSink: RecordingPushTransport;
  /** Every email SES accepted, recorded beside the SES emulator's own store. */
  readonly emailSink: RecordingEmailTransport;
  /** The sinks' database (`sinkDbPath` or memory): the demo keeps its own progress beside them. */
  readonly sinkDb: EmbeddedDb;
  /** Every audit decision, as Firehose would have delivered it to S3. */
  auditEntries(): AsyncIterable<AuditEntry>;
  close(): Promise<void>;
}

/**
 * Opens the AWS adapters against local emulators: DynamoDB Local, kinesalite, fauxqs (SQS and the
 * audit bucket in S3), the SES v2 emulator and Redis. Two services have no emulator and are
 * replaced at their edge, never inside the pipeline: SNS mobile push by a recording device sink,
 * and Firehose by writing the objects it would write straight to the audit bucket.
 */
export async function openLocalAws(opts: LocalAwsOptions): Promise<LocalAwsProfile> {
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? silentLogger;
  const emulators: RunningEmulators | undefined =
    opts.endpoints === undefined ? await startEmulators(opts.ports ?? {}) : undefined;
  const endpoints = opts.endpoints ?? (emulators as RunningEmulators).endpoints;
  const clients = createAwsClients({
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    endpoints: {
      dynamodb: endpoints.dynamodb,
      kinesis: endpoints.kinesis,
      sqs: endpoints.sqs,
      s3: endpoints.sqs,
      ses: endpoints.ses,
    },
  });
  opts.meter?.attach(clients);
  const redis: Redis = createRedis({ url: endpoints.redis });
  const sinkDb = new EmbeddedDb({ path: opts.sinkDbPath ?? ':memory:' });
  const prefix = opts.prefix ?? `fanout-${randomUUID().slice(0, 8)}`;
  // The Redis keys of this run die with its tables: when the emulators are ours or the prefix is
  // this run's own, nobody else can use them after close (dedup keys would otherwise stay 30 days).
  // A given prefix on emulators running elsewhere may be opened again by a restarted run, which
  // needs them all, dedup claims first: those are kept, on open and on close.
  const ownsKeys = emulators !== undefined || opts.prefix === undefined;
  const close = async () => {
    if (ownsKeys) await clearRedisKeys(redis, prefix).catch(() => {});
    redis.disconnect();
    clients.destroy();
    sinkDb.close();
    await emulators?.stop();
  };
  try {
    // The client has no offline queue (a lost connection must fail fast in the pipeline), so
    // nothing may be sent before its first connection is up: wait for it here, once.
    await redisReady(redis, REDIS_CONNECT_MS).catch((err: unknown) => {
      throw redisUnreachable(endpoints.redis, err);
    });
    // Emulators started here hold nothing yet, so Redis keys under this prefix belong to an
    // earlier run's tables: stale dedup keys would turn this run's sends into duplicates.
    if (emulators !== undefined) await clearRedisKeys(redis, prefix);
    const resources = await provisionLocal(clients, { prefix, shards: opts.shards });
    const pushSink = new RecordingPushTransport({
      db: sinkDb,
      clock,
      ...(opts.pushFault ? { fault: opts.pushFault } : {}),
    });
    const emailSink = new RecordingEmailTransport({ db: sinkDb, clock });
    const ses = new SesEmailTransport({ ses: clients.ses, from: 'notifications@fanout.local' });
    const ports = openAwsPorts({
      clients,
      cacheRedis: redis,
      dedupRedis: redis,
      redisKeyPrefix: prefix,
      resources,
      celebrityThreshold: opts.celebrityThreshold,
      tierHysteresis: opts.tierHysteresis,
      cursorSecret: opts.cursorSecret,
      ...(opts.unread === undefined ? {} : { unread: opts.unread }),
      ...(opts.jobsPerMessage === undefined ? {} : { jobsPerMessage: opts.jobsPerMessage }),
      delivery: () => ({
        push: pushSink,
        email: recordedEmail(ses, emailSink, opts.emailFault),
        audit: new S3AuditSink({ s3: clients.s3, bucket: resources.auditBucket, clock }),
      }),
      clock,
      logger,
    });
    return {
      ports: { ...ports, close },
      endpoints,
      resources,
      prefix,
      clients,
      pushSink,
      emailSink,
      sinkDb,
      auditEntries: () => readS3Audit(clients.s3, resources.auditBucket),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Email through SES (its emulator keeps what it accepted), with the demo's injected rejections in
 * front, as a real provider would refuse them, and every accepted send recorded so the demo can
 * prove no address got a message twice.
 */
function recordedEmail(
  ses: EmailTransport,
  recorder: RecordingEmailTransport,
  fault: TransportFault<EmailMessage, EmailResult> | undefined,
): EmailTransport {
  return {
    async send(message) {
      const injected = fault?.(message);
      if (injected instanceof Error) throw injected;
      if (injected !== undefined && injected.status !== 'sent') return injected;
      const result = await ses.send(message);
      if (result.status === 'sent') await recorder.send(message);
      return result;
    },
  };
}

/** How long the first Redis connection may take before the profile gives up. */
const REDIS_CONNECT_MS = 10_000;

function redisUnreachable(url: string, cause: unknown): SetupError {
  const { hostname, port } = new URL(url);
  return new SetupError(
    `Redis is not reachable at ${hostname}:${port || 6379}`,
    'start Redis there (redis-server, or a container publishing that port), then run the command again',
    { cause },
  );
}

/** Deletes every key under `prefix:` (SCAN, then UNLINK in pages; local Redis only). */
export async function clearRedisKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

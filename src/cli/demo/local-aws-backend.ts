import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ScanCommand, type ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from '../../runtime/aws-clients.ts';
import type { StoreCounts } from '../../runtime/embedded-stats.ts';
import type { CostMeter } from '../../runtime/local-aws/cost-meter.ts';
import type { EmulatorEndpoints } from '../../runtime/local-aws/emulators.ts';
import { type LocalAwsProfile, openLocalAws } from '../../runtime/local-aws/profile.ts';
import { UsageError } from '../usage.ts';
import type { DemoBackend } from './backend.ts';
import type { BackendContext } from './run.ts';
import { DemoState, memoryStateStore, sqliteStateStore } from './state.ts';
import { demoEmailFault, demoPushFault } from './users.ts';

/** Extra knobs of the local-aws demo (the aws-cost benchmark and the tests set them). */
export interface LocalAwsDemoOptions {
  /** Emulators already running (the tests' set-up); started and stopped by the run when unset. */
  readonly endpoints?: EmulatorEndpoints;
  /** Prefix of every resource and Redis key; a fresh one per run when unset. */
  readonly prefix?: string;
  /**
   * Directory of the recording sinks' SQLite file and the demo's progress beside it, so a run
   * restarted on the same emulators, `prefix` and `dir` resumes (the local-aws chaos test kills
   * it). Requires `endpoints` and `prefix`: emulators the run starts, or resources under a fresh
   * prefix, do not outlive it. Kept in memory when unset.
   */
  readonly dir?: string;
  readonly meter?: CostMeter;
  /** Hands over the opened profile (the aws-cost benchmark reads its tables directly). */
  readonly onOpen?: (profile: LocalAwsProfile) => void;
}

/**
 * The demo on the local-aws profile: the same scenario through Kinesis, DynamoDB, SQS, Redis, SES
 * and S3 emulators. Its state lives as long as the emulators; its own progress and the recording
 * sinks in memory, unless `dir` keeps them on disk so that a restarted run resumes.
 */
export function localAwsBackend(extra: LocalAwsDemoOptions = {}) {
  if (extra.dir !== undefined && (extra.endpoints === undefined || extra.prefix === undefined)) {
    throw new UsageError('a local-aws demo dir needs running emulators and a fixed prefix to resume on');
  }
  return async (ctx: BackendContext): Promise<DemoBackend> => {
    const { config } = ctx;
    if (extra.dir !== undefined) mkdirSync(extra.dir, { recursive: true });
    const profile = await openLocalAws({
      shards: config.shards,
      celebrityThreshold: config.celebrityThreshold,
      tierHysteresis: config.tierHysteresis,
      cursorSecret: config.cursorSecret ?? 'local-aws-demo-cursor-secret',
      unread: config.unreadMode,
      jobsPerMessage: config.jobsPerMessage,
      clock: ctx.clock,
      ...(ctx.logger ? { logger: ctx.logger } : {}),
      ...(extra.endpoints ? { endpoints: extra.endpoints } : {}),
      ...(extra.prefix === undefined ? {} : { prefix: extra.prefix }),
      ...(extra.dir === undefined ? {} : { sinkDbPath: join(extra.dir, SINK_DB) }),
      ...(extra.meter ? { meter: extra.meter } : {}),
      pushFault: demoPushFault,
      emailFault: demoEmailFault,
    });
    const state = new DemoState(
      extra.dir === undefined ? memoryStateStore() : sqliteStateStore(profile.sinkDb),
    );
    // Progress kept for one prefix's resources means nothing beside another's.
    const kept = state.get('prefix');
    if (kept !== undefined && kept !== profile.prefix) {
      await profile.close();
      throw new UsageError(
        `the demo dir holds a run on prefix ${kept}, not ${profile.prefix}; use another dir`,
      );
    }
    state.set('prefix', profile.prefix);
    extra.onOpen?.(profile);
    const { clients, resources } = profile;
    return {
      ports: profile.ports,
      state,
      afterSeed: () => {},
      fannedOutEvents: async () => undefined,
      storeCounts: (tenantId) => scanCounts(clients, resources.tables, tenantId),
      auditEntries: () => profile.auditEntries(),
      auditChainValid: async () => null,
      transportStats: async () => {
        const [push, email] = await Promise.all([profile.pushSink.stats(), profile.emailSink.stats()]);
        return { push, email };
      },
      close: () => profile.close(),
    };
  };
}

/** The recording sinks' file in a demo dir; the demo's progress is kept in it too. */
export const SINK_DB = 'local-aws-sinks.db';

/**
 * Counts read back from the tables with Scans: fine for a demo's few hundred thousand items, and
 * the only way to count a DynamoDB table's items exactly.
 */
async function scanCounts(
  clients: AwsClients,
  tables: { readonly events: string; readonly inbox: string; readonly celebrityFeed: string },
  tenantId: string,
): Promise<StoreCounts> {
  const tenant = `${tenantId}#`;
  const [events, inboxRows, celebrityPointers] = await Promise.all([
    // Claims that reached the stream carry its sequence number.
    scanCount(clients, {
      TableName: tables.events,
      FilterExpression: 'begins_with(pk, :t) AND attribute_exists(seq)',
      ExpressionAttributeValues: { ':t': tenant },
    }),
    // Rows carry a creation time; read marks and the meta items do not.
    scanCount(clients, {
      TableName: tables.inbox,
      FilterExpression: 'begins_with(pk, :t) AND attribute_exists(ca)',
      ExpressionAttributeValues: { ':t': tenant },
    }),
    // Each pointer is stored twice, by author and by id, and named once in the arrival log:
    // count the first.
    scanCount(clients, {
      TableName: tables.celebrityFeed,
      FilterExpression: 'begins_with(pk, :t) AND NOT begins_with(pk, :byId) AND NOT begins_with(pk, :log)',
      ExpressionAttributeValues: { ':t': tenant, ':byId': `${tenant}ptr#`, ':log': `${tenant}!` },
    }),
  ]);
  return { events, inboxRows, celebrityPointers };
}

async function scanCount(clients: AwsClients, input: ScanCommandInput): Promise<number> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await clients.documents.send(
      new ScanCommand({ ...input, Select: 'COUNT', ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return count;
}

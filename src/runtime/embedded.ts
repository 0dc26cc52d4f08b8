import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJsonlAuditSink } from '../adapters/embedded/audit-log.ts';
import { EmbeddedCelebrityFeed } from '../adapters/embedded/celebrity-feed.ts';
import { EmbeddedCheckpoints } from '../adapters/embedded/checkpoints.ts';
import { EmbeddedDb } from '../adapters/embedded/db.ts';
import { EmbeddedDedupStore } from '../adapters/embedded/dedup-store.ts';
import { EmbeddedDeliveryQueue } from '../adapters/embedded/delivery-queue.ts';
import { EmbeddedDevices } from '../adapters/embedded/devices.ts';
import { EmbeddedDigestSchedule } from '../adapters/embedded/digest-schedule.ts';
import { EmbeddedEventLog } from '../adapters/embedded/event-log.ts';
import { EmbeddedFollowerGraph } from '../adapters/embedded/follower-graph.ts';
import { EmbeddedFrequencyCaps } from '../adapters/embedded/frequency-caps.ts';
import { GroupCommitEventLog } from '../adapters/embedded/group-commit-log.ts';
import { EmbeddedInbox } from '../adapters/embedded/inbox.ts';
import { MemoryDedupStore } from '../adapters/embedded/memory-dedup-store.ts';
import { LruPreferenceCache } from '../adapters/embedded/preference-cache.ts';
import { EmbeddedPreferenceStore } from '../adapters/embedded/preferences.ts';
import {
  RecordingEmailTransport,
  RecordingPushTransport,
} from '../adapters/embedded/recording-transports.ts';
import { EmbeddedTenants } from '../adapters/embedded/tenants.ts';
import { generateVapidKeyPair, type VapidKeys } from '../adapters/push/webpush/vapid.ts';
import { createCursorCodec } from '../domain/cursor.ts';
import { ClosedError, ValidationError } from '../domain/errors.ts';
import { tierPolicy } from '../domain/tier.ts';
import { makePrivateDir } from '../lib/private-files.ts';
import { readOrCreateSecret, readOrCreateSecretFile } from '../lib/secret-file.ts';
import type { AuditSink } from '../ports/audit-sink.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import { type Logger, silentLogger } from '../ports/logger.ts';
import type { Ports } from '../ports/ports.ts';
import type { EmailMessage, EmailResult, PushMessage, PushResult } from '../ports/transports.ts';
import type { RuntimeConfig } from './config.ts';
import type { HousekeepingTask } from './housekeeping.ts';
import {
  type EmbeddedTransports,
  openEmbeddedTransports,
  realProviderVariables,
  vapidSubjectOf,
} from './push/embedded.ts';

/** The data file inside the data dir. */
export const DB_FILE = 'fanout.db';
/** The audit log's directory inside the data dir. */
export const AUDIT_DIR = 'audit';
/**
 * Secrets generated into the data dir when their variable is unset: FANOUT_TOKEN_SECRET (user
 * tokens and unsubscribe links) and FANOUT_CURSOR_SECRET (inbox cursors), by their file names.
 */
export const DataDirSecret = { Token: 'token-secret', Cursor: 'cursor-secret' } as const;
/** The data dir's VAPID key pair (JSON `{publicKey, privateKey}`), generated at first start. */
export const VAPID_KEYS_FILE = 'vapid-keys.json';
export type DataDirSecret = (typeof DataDirSecret)[keyof typeof DataDirSecret];

export interface EmbeddedPortsOptions {
  readonly config: RuntimeConfig;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default silentLogger */
  readonly logger?: Logger;
  /** Injected push rejections or thrown errors (tests, the demo's bad device tokens). */
  readonly pushFault?: (message: PushMessage) => PushResult | Error | undefined;
  /** Injected email rejections or thrown errors. */
  readonly emailFault?: (message: EmailMessage) => EmailResult | Error | undefined;
  /** Receives before a delivery job is dead-lettered. @default 4 (3 retries) */
  readonly maxReceiveCount?: number;
  /**
   * False for a process or thread that runs no pipeline (`fanout serve` with FANOUT_PIPELINE=off,
   * and the API thread of a two-thread `fanout serve`): it opens no audit log, and an audit append
   * fails. @default true
   */
  readonly delivers?: boolean;
  /**
   * True for the demo, which keeps its synthetic users on the recording sinks itself. Any other
   * process that delivers is refused real providers on a data dir the demo seeded. @default false
   */
  readonly demo?: boolean;
}

/** The audit port of a process that makes no delivery decision. */
const noAudit: AuditSink = {
  async append() {
    throw new ClosedError('this process runs no pipeline: the audit log belongs to `fanout work`');
  },
};

/** The embedded ports, plus what the CLI reads directly for summaries. */
export type EmbeddedPorts = Ports & {
  readonly db: EmbeddedDb;
  readonly pushSink: RecordingPushTransport;
  readonly emailSink: RecordingEmailTransport;
  /** Which providers push and email go through (the sinks unless credentials are configured). */
  readonly transports: EmbeddedTransports['summary'];
  /** The VAPID public key browsers of a tenant subscribe with (see `EmbeddedTransports`). */
  readonly webPushPublicKey: EmbeddedTransports['webPushPublicKey'];
  /** The directory the JSONL audit log is written to. */
  readonly auditDir: string;
  /** Space reclaiming no managed service does here (see `embeddedHousekeeping`). */
  readonly housekeeping: readonly HousekeepingTask[];
};

/** How long DynamoDB Streams keeps a change; the embedded change feed keeps as long. */
const CHANGE_RETENTION_MS = 24 * 60 * 60 * 1000;

/**
 * Builds every port of the embedded profile over one SQLite file (`<dataDir>/fanout.db`, WAL) and
 * the hash-chained audit log in `<dataDir>/audit/`. With `dataDir` ':memory:' the database is in
 * memory and the audit log goes to a temporary directory removed by `close()`: for tests.
 * This is the one place the embedded adapters are wired together.
 */
export async function openEmbeddedPorts(opts: EmbeddedPortsOptions): Promise<EmbeddedPorts> {
  const { config } = opts;
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? silentLogger;
  const inMemory = config.dataDir === ':memory:';
  if (!inMemory) makePrivateDir(config.dataDir);
  const auditDir = inMemory ? mkdtempSync(join(tmpdir(), 'fanout-audit-')) : join(config.dataDir, AUDIT_DIR);
  const db = new EmbeddedDb({ path: inMemory ? ':memory:' : join(config.dataDir, DB_FILE) });
  try {
    if (opts.delivers !== false && opts.demo !== true) refuseRealProvidersOnDemoData(db, config);
    // Statistics of an earlier run's bulk load, refreshed only where they have gone stale.
    db.sqlite.exec('PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;');
    const maxReceiveCount = opts.maxReceiveCount ?? 4;
    const pushSink = new RecordingPushTransport({
      db,
      clock,
      ...(opts.pushFault ? { fault: opts.pushFault } : {}),
    });
    const emailSink = new RecordingEmailTransport({
      db,
      clock,
      ...(opts.emailFault ? { fault: opts.emailFault } : {}),
    });
    const transports = openEmbeddedTransports({
      settings: config.delivery,
      pushSink,
      emailSink,
      logger,
      ...(config.delivery.vapid === undefined ? { vapid: dataDirVapid(config) } : {}),
    });
    // After the transports, whose settings may be refused: nothing is left open by a bad setting.
    // Only a process that delivers writes (and, on open, repairs) the audit log: a second writer
    // in another process could cut off the line the first is writing.
    const audit: AuditSink & { close?: () => void } =
      opts.delivers === false ? noAudit : await openJsonlAuditSink({ dir: auditDir });
    const inbox = new EmbeddedInbox({ db });
    const feed = new EmbeddedCelebrityFeed({ db });
    const preferences = new EmbeddedPreferenceStore({ db, clock });
    const dedup =
      config.dedup === 'memory' ? new MemoryDedupStore({ clock }) : new EmbeddedDedupStore({ db, clock });
    const frequencyCaps = new EmbeddedFrequencyCaps({ db, clock });
    const secret = config.cursorSecret ?? dataDirSecret(config.dataDir, DataDirSecret.Cursor);
    return {
      db,
      pushSink,
      emailSink,
      transports: transports.summary,
      webPushPublicKey: (tenantId) => transports.webPushPublicKey(tenantId),
      auditDir,
      clock,
      logger,
      // Concurrent HTTP appends share one SQLite commit; each still answers only once durable.
      log: new GroupCommitEventLog(new EmbeddedEventLog({ db, shards: config.shards, clock })),
      checkpoints: new EmbeddedCheckpoints({ db }),
      graph: new EmbeddedFollowerGraph({ db }),
      inbox,
      feed,
      queues: {
        push: new EmbeddedDeliveryQueue({ db, channel: 'push', maxReceiveCount, clock }),
        email: new EmbeddedDeliveryQueue({ db, channel: 'email', maxReceiveCount, clock }),
      },
      dedup,
      frequencyCaps,
      digestSchedule: new EmbeddedDigestSchedule({ db }),
      preferences,
      preferenceCache: new LruPreferenceCache({}),
      devices: new EmbeddedDevices({ db }),
      tenants: new EmbeddedTenants({ db }),
      push: transports.push,
      email: transports.email,
      audit,
      cursors: createCursorCodec(secret),
      tierPolicy: tierPolicy({ threshold: config.celebrityThreshold, hysteresis: config.tierHysteresis }),
      housekeeping: embeddedHousekeeping({ inbox, feed, preferences, dedup, frequencyCaps }),
      async close() {
        // Stops nothing: callers stop their pollers first, so no batch is cut off here.
        await transports.close();
        await closeIfClosable(audit);
        db.close();
        if (inMemory) rmSync(auditDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    db.close();
    if (inMemory) rmSync(auditDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The demo seeds hundreds of thousands of users with made-up device tokens (APNs ones are 64 hex
 * characters, like real ones) and addresses, and leaves quiet-hours deferrals in the queue. Only the
 * demo keeps them on the recording sinks; `serve` or `work` delivering from its data dir through
 * real providers would push them to Apple and Google, who throttle an app for a flood of bad tokens.
 */
function refuseRealProvidersOnDemoData(db: EmbeddedDb, config: RuntimeConfig): void {
  const real = realProviderVariables(config.delivery);
  if (real.length === 0) return;
  // `demo_state` is the demo's own table (src/cli/demo/state.ts): it marks a data dir the demo seeded.
  const seeded = db.sqlite
    .prepare("SELECT 1 AS seeded FROM sqlite_master WHERE type = 'table' AND name = 'demo_state'")
    .get();
  if (seeded === undefined) return;
  throw new ValidationError([
    {
      path: 'FANOUT_DATA_DIR',
      message: `holds the demo's synthetic users, whose made-up tokens and addresses ${real.join(', ')} would send to: deliver for real from another data dir`,
    },
  ]);
}

/**
 * What the embedded profile must clean up by itself, because no managed service does it here:
 * expired inbox rows, celebrity pointers and their arrival-log entries (DynamoDB TTL's job in
 * AWS), dedup keys past their
 * TTL (Redis expiry's), frequency-cap places past their window, and preference changes older than a stream would keep them. Reads never
 * depend on these deletions (they filter by TTL); they keep the data file from growing for ever.
 */
function embeddedHousekeeping(stores: {
  readonly inbox: EmbeddedInbox;
  readonly feed: EmbeddedCelebrityFeed;
  readonly preferences: EmbeddedPreferenceStore;
  readonly dedup: EmbeddedDedupStore | MemoryDedupStore;
  readonly frequencyCaps: EmbeddedFrequencyCaps;
}): HousekeepingTask[] {
  const { inbox, feed, preferences, dedup, frequencyCaps } = stores;
  const tasks: HousekeepingTask[] = [
    { name: 'inbox', run: async (now) => (await inbox.purgeExpired(now)).rows },
    // Pointers deleted; their arrival-log entries go with them (bookkeeping, not counted here).
    { name: 'celebrity-feed', run: async (now) => (await feed.purgeExpired(now)).pointers },
    { name: 'preference-changes', run: (now) => preferences.purgeChanges(now - CHANGE_RETENTION_MS) },
    // Places of users who got no push since their window ended (Redis expiry's job in AWS).
    { name: 'frequency-caps', run: (now) => frequencyCaps.purgeExpired(now) },
  ];
  // The memory store forgets expired keys lazily by itself.
  if (dedup instanceof EmbeddedDedupStore)
    tasks.push({ name: 'dedup', run: (now) => dedup.purgeExpired(now) });
  return tasks;
}

/**
 * Refreshes SQLite's planner statistics (sampled, so it takes milliseconds). Without them the
 * planner can pick a primary-key range over a selective index once a table holds many rows of one
 * tenant; call it after a bulk load. Prepared statements are re-planned on their next run.
 */
export function refreshPlannerStatistics(db: EmbeddedDb): void {
  db.sqlite.exec('PRAGMA analysis_limit = 1000; ANALYZE;');
}

/**
 * A secret of the data dir: read, or generated once into an owner-only file, so every process on
 * the same data dir (serve, work, demo) uses the same one. A data dir of ':memory:' keeps nothing:
 * it draws a fresh random secret.
 */
export function dataDirSecret(dataDir: string, which: DataDirSecret): string {
  return dataDir === ':memory:' ? randomBytes(32).toString('hex') : readOrCreateSecret(join(dataDir, which));
}

/**
 * The data dir's VAPID keys, generated once like its other secrets, so every process on it (serve,
 * work) signs with the pair browsers subscribed to; ':memory:' draws a pair per process. A file
 * someone edited into something else is refused by the transport's key checks, by field name.
 */
function dataDirVapid(config: RuntimeConfig): VapidKeys {
  const subject = vapidSubjectOf(config.delivery);
  if (config.dataDir === ':memory:') return { ...generateVapidKeyPair(), subject };
  const text = readOrCreateSecretFile(join(config.dataDir, VAPID_KEYS_FILE), () =>
    JSON.stringify(generateVapidKeyPair()),
  );
  let keys: { publicKey?: unknown; privateKey?: unknown } = {};
  try {
    keys = JSON.parse(text) as typeof keys;
  } catch {
    throw new ValidationError([{ path: VAPID_KEYS_FILE, message: 'is not JSON {publicKey, privateKey}' }]);
  }
  return { publicKey: String(keys?.publicKey ?? ''), privateKey: String(keys?.privateKey ?? ''), subject };
}

async function closeIfClosable(resource: object): Promise<void> {
  const close = (resource as { close?: () => unknown }).close;
  if (typeof close === 'function') await close.call(resource);
}

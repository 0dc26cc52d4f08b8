import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { JsonlAuditSink, readAuditLog } from '../../src/adapters/embedded/audit-log.ts';
import { EmbeddedCelebrityFeed } from '../../src/adapters/embedded/celebrity-feed.ts';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedDedupStore } from '../../src/adapters/embedded/dedup-store.ts';
import { EmbeddedDeliveryQueue } from '../../src/adapters/embedded/delivery-queue.ts';
import { EmbeddedDevices } from '../../src/adapters/embedded/devices.ts';
import { EmbeddedFollowerGraph } from '../../src/adapters/embedded/follower-graph.ts';
import { EmbeddedInbox } from '../../src/adapters/embedded/inbox.ts';
import { LruPreferenceCache } from '../../src/adapters/embedded/preference-cache.ts';
import { EmbeddedPreferenceStore } from '../../src/adapters/embedded/preferences.ts';
import {
  RecordingEmailTransport,
  RecordingPushTransport,
} from '../../src/adapters/embedded/recording-transports.ts';
import type { AuditRecord } from '../../src/domain/audit-types.ts';
import { createCursorCodec } from '../../src/domain/cursor.ts';
import { DEFAULT_TIER_POLICY, type TierPolicy } from '../../src/domain/tier.ts';
import { Channel, type Platform, type Preferences, type UserKey } from '../../src/domain/types.ts';
import type { EmailDeps } from '../../src/handlers/email-consumer.ts';
import type { FanoutDeps } from '../../src/handlers/fanout.ts';
import type { InboxDeps } from '../../src/handlers/inbox.ts';
import type { PushDeps } from '../../src/handlers/push-consumer.ts';
import type { Clock } from '../../src/ports/clock.ts';
import type { DedupStore } from '../../src/ports/dedup-store.ts';
import type { DeliveryQueue, QueueMessage } from '../../src/ports/delivery-queue.ts';
import type { Logger } from '../../src/ports/logger.ts';
import type { EmailMessage, EmailResult, PushMessage, PushResult } from '../../src/ports/transports.ts';
import { toSqsRecord } from '../../src/runtime/sqs-poller.ts';
import { type Overrides, withOverrides } from './overrides.ts';

/**
 * Embedded ports in memory around a clock the test moves, for handler tests: the same adapters
 * the local runtime uses, so a handler test exercises real stores, queues and dedup.
 */

/** A clock the test sets and moves; nothing in a test waits on real time. */
export interface TestClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
}

export function testClock(start: number): TestClock {
  let now = start;
  return {
    now: () => now,
    set(ms) {
      now = ms;
    },
    advance(ms) {
      now += ms;
    },
  };
}

/** What a transport fault hook may answer: a result instead of sending, an error to throw, or undefined to send. */
export type PushFault = (message: PushMessage) => PushResult | Error | undefined;
export type EmailFault = (message: EmailMessage) => EmailResult | Error | undefined;

/** A logger that keeps what was logged, to check what a handler reports (and that it leaks nothing). */
export interface RecordingLogger extends Logger {
  readonly lines: { level: string; message: string; attributes: Readonly<Record<string, unknown>> }[];
}

export function recordingLogger(): RecordingLogger {
  const lines: RecordingLogger['lines'] = [];
  const at =
    (level: string) =>
    (message: string, attributes: Readonly<Record<string, unknown>> = {}) => {
      lines.push({ level, message, attributes });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export interface WorldOptions {
  /** @default 2026-05-01T12:00Z */
  readonly now?: number;
  readonly tierPolicy?: TierPolicy;
  /** Followers per fan-out page. @default 5000 */
  readonly pageSize?: number;
}

export interface World {
  readonly db: EmbeddedDb;
  readonly clock: TestClock;
  readonly logger: RecordingLogger;
  readonly graph: EmbeddedFollowerGraph;
  readonly inbox: EmbeddedInbox;
  readonly feed: EmbeddedCelebrityFeed;
  readonly queues: Readonly<Record<Channel, EmbeddedDeliveryQueue>>;
  readonly dedup: EmbeddedDedupStore;
  readonly preferences: EmbeddedPreferenceStore;
  readonly preferenceCache: LruPreferenceCache;
  readonly devices: EmbeddedDevices;
  readonly pushSink: RecordingPushTransport;
  readonly emailSink: RecordingEmailTransport;
  readonly audit: JsonlAuditSink;
  readonly auditDir: string;
  /** Every push / email the consumers handed to the transport, in order, faults included. */
  readonly pushCalls: PushMessage[];
  readonly emailCalls: EmailMessage[];
  /** Set to make the next transport calls fail or reject. */
  pushFault: PushFault | undefined;
  emailFault: EmailFault | undefined;
  fanoutDeps(overrides?: Partial<FanoutDeps>): FanoutDeps;
  pushDeps(overrides?: Partial<PushDeps>): PushDeps;
  emailDeps(overrides?: Partial<EmailDeps>): EmailDeps;
  inboxDeps(): InboxDeps;
  close(): void;
}

const open: World[] = [];

/** Closes every world built since the last call; for `afterEach`. */
export function closeWorlds(): void {
  for (const w of open.splice(0)) w.close();
}

export function world(opts: WorldOptions = {}): World {
  const db = new EmbeddedDb({ path: ':memory:' });
  const clock = testClock(opts.now ?? Date.UTC(2026, 4, 1, 12));
  const logger = recordingLogger();
  const auditDir = mkdtempSync(join(tmpdir(), 'fanout-audit-'));
  const pushCalls: PushMessage[] = [];
  const emailCalls: EmailMessage[] = [];
  const w: World = {
    db,
    clock,
    logger,
    graph: new EmbeddedFollowerGraph({ db }),
    inbox: new EmbeddedInbox({ db }),
    feed: new EmbeddedCelebrityFeed({ db }),
    queues: {
      push: new EmbeddedDeliveryQueue({ db, channel: Channel.Push, clock }),
      email: new EmbeddedDeliveryQueue({ db, channel: Channel.Email, clock }),
    },
    dedup: new EmbeddedDedupStore({ db, clock }),
    preferences: new EmbeddedPreferenceStore({ db, clock }),
    preferenceCache: new LruPreferenceCache({}),
    devices: new EmbeddedDevices({ db }),
    pushSink: new RecordingPushTransport({
      db,
      clock,
      fault: (message: PushMessage) => {
        pushCalls.push(message);
        return w.pushFault?.(message);
      },
    }),
    emailSink: new RecordingEmailTransport({
      db,
      clock,
      fault: (message: EmailMessage) => {
        emailCalls.push(message);
        return w.emailFault?.(message);
      },
    }),
    audit: new JsonlAuditSink({ dir: auditDir }),
    auditDir,
    pushCalls,
    emailCalls,
    pushFault: undefined,
    emailFault: undefined,
    fanoutDeps: (overrides = {}) => ({
      graph: w.graph,
      inbox: w.inbox,
      feed: w.feed,
      queues: w.queues,
      tierPolicy: opts.tierPolicy ?? DEFAULT_TIER_POLICY,
      clock,
      logger,
      ...(opts.pageSize === undefined ? {} : { pageSize: opts.pageSize }),
      ...overrides,
    }),
    pushDeps: (overrides = {}) => ({
      ...shared(w),
      queue: w.queues.push,
      devices: w.devices,
      push: w.pushSink,
      ...overrides,
    }),
    emailDeps: (overrides = {}) => ({
      ...shared(w),
      queue: w.queues.email,
      email: w.emailSink,
      ...overrides,
    }),
    inboxDeps: () => ({
      inbox: w.inbox,
      feed: w.feed,
      graph: w.graph,
      cursors: createCursorCodec('world-cursor-secret-0123456789'),
      clock,
    }),
    close() {
      w.audit.close();
      db.close();
      rmSync(auditDir, { recursive: true, force: true });
    },
  };
  open.push(w);
  return w;
}

function shared(w: World) {
  return {
    preferences: w.preferences,
    preferenceCache: w.preferenceCache,
    dedup: w.dedup as DedupStore,
    audit: w.audit,
    clock: w.clock,
    logger: w.logger,
    retractions: w.inbox,
  };
}

/** Preferences with consent on both channels, no quiet hours; `overrides` replace fields. */
export function consenting(user: UserKey, overrides: Overrides<Preferences> = {}): Preferences {
  return withOverrides(
    {
      tenantId: user.tenantId,
      userId: user.userId,
      timezone: 'UTC',
      email: `${user.userId}@example.com`,
      consent: { push: true, email: true },
      channels: {},
      categories: {},
      updatedAt: 1,
    },
    overrides,
  );
}

/** Registers one device per user; returns the tokens. */
export async function registerDevices(
  w: World,
  users: readonly UserKey[],
  platform: Platform = 'apns',
): Promise<string[]> {
  const regs = users.map((u) => ({
    tenantId: u.tenantId,
    userId: u.userId,
    token: `${platform}-token-${u.tenantId}-${u.userId}`,
    platform,
    registeredAt: w.clock.now(),
  }));
  await w.devices.registerMany(regs);
  return regs.map((r) => r.token);
}

/** Every audit record written so far, oldest first. */
export async function auditRecords(w: World): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  for await (const record of readAuditLog(w.auditDir)) records.push(record);
  return records;
}

/** What one consumer round did. */
export interface Round {
  readonly messages: QueueMessage[];
  readonly response: SQSBatchResponse;
}

/**
 * One Lambda invocation over what is visible in `queue` now, as the event-source mapping makes
 * it: receive, invoke, delete what succeeded. Failed messages stay in flight and come back when
 * the visibility timeout passes on the test clock.
 */
export async function consumeRound(
  queue: DeliveryQueue,
  handler: (event: SQSEvent) => Promise<SQSBatchResponse>,
  opts: { readonly max?: number; readonly visibilityTimeoutMs?: number } = {},
): Promise<Round> {
  const messages = await queue.receive({
    max: opts.max ?? 1000,
    visibilityTimeoutMs: opts.visibilityTimeoutMs ?? 180_000,
  });
  if (messages.length === 0) return { messages, response: { batchItemFailures: [] } };
  const response = await handler({
    Records: messages.map((m) => toSqsRecord(m, 'arn:aws:sqs:local:000000000000:fanout-test')),
  });
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  const done = messages.filter((m) => !failed.has(m.messageId)).map((m) => m.receiptHandle);
  if (done.length > 0) await queue.deleteBatch(done);
  return { messages, response };
}

/**
 * Runs consumer rounds until the queue holds nothing visible, in flight or delayed (dead letters
 * aside), moving the test clock past the visibility timeout whenever nothing is visible.
 */
export async function drain(
  w: World,
  queue: DeliveryQueue,
  handler: (event: SQSEvent) => Promise<SQSBatchResponse>,
  opts: { readonly max?: number; readonly visibilityTimeoutMs?: number; readonly maxRounds?: number } = {},
): Promise<Round[]> {
  const visibilityTimeoutMs = opts.visibilityTimeoutMs ?? 180_000;
  const rounds: Round[] = [];
  for (let i = 0; i < (opts.maxRounds ?? 50); i++) {
    const depth = await queue.depth();
    if (depth.visible + depth.inFlight + depth.delayed === 0) return rounds;
    const round = await consumeRound(queue, handler, {
      visibilityTimeoutMs,
      ...(opts.max ? { max: opts.max } : {}),
    });
    if (round.messages.length > 0) rounds.push(round);
    else w.clock.advance(visibilityTimeoutMs + 1);
  }
  throw new Error('queue did not drain');
}

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { readS3Audit } from '../src/adapters/aws/s3-audit.ts';
import { SINK_DB } from '../src/cli/demo/local-aws-backend.ts';
import { runDemo } from '../src/cli/demo/run.ts';
import type { Scenario } from '../src/cli/demo/scenario.ts';
import { CHANNELS } from '../src/domain/types.ts';
import { type AwsClients, createAwsClients, createRedis } from '../src/runtime/aws-clients.ts';
import { readRuntimeConfig } from '../src/runtime/config.ts';
import type { EmulatorEndpoints } from '../src/runtime/local-aws/emulators.ts';
import { clearRedisKeys } from '../src/runtime/local-aws/profile.ts';
import { type LocalResources, provisionLocal } from '../src/runtime/local-aws/provision.ts';
import {
  auditJobs,
  ChaosPhase,
  jobsDiffering,
  readDurable,
  recordedSends,
  symmetricDifference,
} from './chaos-embedded.ts';
import type { ChildParams } from './chaos-local-aws-child.ts';

/** One demo run in its own process (type stripping runs the .ts directly). */
const CHILD = fileURLToPath(new URL('./chaos-local-aws-child.ts', import.meta.url));

/** Between two reads of the durable state while a run goes on. */
const POLL_MS = 50;

/**
 * Tomorrow at 03:07:30 UTC: ahead of the wall clock, which DynamoDB Local's TTL runs on (rows
 * stamped in the past could expire under the test), and minutes away from any quiet-hours
 * boundary in any zone of the demo.
 */
export function localAwsChaosAt(now = Date.now()): number {
  return Math.ceil(now / 86_400_000) * 86_400_000 + (3 * 3600 + 7 * 60 + 30) * 1000;
}

/** What one killed run had reached when SIGKILL hit it, read from the stores after it died. */
export interface LocalAwsKillRecord {
  readonly phase: ChaosPhase;
  /** The process died of SIGKILL (false: it finished before the phase was seen). */
  readonly killed: boolean;
  /** Rows in the inbox table. */
  readonly inboxRows: number;
  /** Distinct (channel, message id) sends in the recording sinks. */
  readonly sends: number;
  /** Delivery jobs in the queues, visible or in flight (deferred ones not counted). */
  readonly queued: number;
  /** Audit decisions in the bucket. */
  readonly auditRecords: number;
}

/** What the killed-and-resumed local-aws run ended with, checked against an uninterrupted run. */
export interface LocalAwsChaosOutcome {
  readonly kills: readonly LocalAwsKillRecord[];
  /** Inbox rows and distinct sends of the uninterrupted (embedded) reference. */
  readonly referenceInboxRows: number;
  readonly referenceSends: number;
  readonly recipients: number;
  readonly inboxRows: number;
  /** (user, event) pairs with more than one inbox row. */
  readonly duplicateInboxRows: number;
  /** (user, event) pairs of one run and not the other. */
  readonly inboxRowsDiffering: number;
  readonly sends: number;
  /** Sends repeated without being flagged an ambiguous re-send: must be 0. */
  readonly unflaggedRepeats: number;
  readonly ambiguousResends: number;
  readonly sendsDiffering: number;
  readonly jobs: number;
  readonly jobsDiffering: number;
  /** Jobs whose only decisions are non-final (unknown, duplicate). */
  readonly jobsUnsettled: number;
  /** The final summary of both runs. */
  readonly summary: Record<string, unknown>;
  readonly reference: Record<string, unknown>;
  readonly referenceMs: number;
  /** Wall time of the three killed runs and the final one together. */
  readonly chaosMs: number;
}

/** Options of {@link chaosLocalAws}. */
export interface LocalAwsChaosOptions {
  /** Emulators the caller runs; they must outlive every run. */
  readonly endpoints: EmulatorEndpoints;
  /** Resource and Redis key prefix of the chaos run, unused by anyone else. */
  readonly prefix: string;
  readonly scenario: Scenario;
  /** `--at` of both runs, epoch ms ({@link localAwsChaosAt}). */
  readonly at: number;
  /** Runtime settings of both runs, as environment variables (FANOUT_CELEBRITY_THRESHOLD …). */
  readonly env: Readonly<Record<string, string>>;
  /** The embedded reference's data dir. */
  readonly referenceDir: string;
  /** The chaos run's sinks file and demo progress. */
  readonly chaosDir: string;
}

/**
 * The local-aws chaos run: an uninterrupted embedded demo (same scenario, seed and `--at`; the
 * profiles give the same ids), and the local-aws demo in child processes on the caller's
 * emulators, SIGKILLed during fan-out, during delivery and during the drain, each time restarted
 * on the same emulators, prefix and dir, then run to the end. Each kill is placed by what the
 * stores hold, polled from here: the inbox table, the sinks' SQLite file, the queues, the audit
 * bucket. Compares inbox rows, sends and audit decisions per job with the reference's.
 */
export async function chaosLocalAws(opts: LocalAwsChaosOptions): Promise<LocalAwsChaosOutcome> {
  const refStart = performance.now();
  const reference = await embeddedReference(opts);
  const referenceMs = performance.now() - refStart;
  const want = await readDurable(opts.referenceDir);
  const clients = createAwsClients({
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    endpoints: { ...opts.endpoints, s3: opts.endpoints.sqs },
  });
  try {
    mkdirSync(opts.chaosDir, { recursive: true });
    // Idempotent, as every run's own provisioning is: here so the parent knows the names.
    const shards = readRuntimeConfig(opts.env).shards;
    const resources = await provisionLocal(clients, { prefix: opts.prefix, shards });
    const probe = new Probe(clients, resources, join(opts.chaosDir, SINK_DB));
    const ref = { inboxRows: want.inbox.size, sends: want.sends.size };
    const params: ChildParams = {
      endpoints: opts.endpoints,
      prefix: opts.prefix,
      dir: opts.chaosDir,
      scenario: opts.scenario,
      at: opts.at,
      env: opts.env,
    };
    const chaosStart = performance.now();
    const kills: LocalAwsKillRecord[] = [];
    for (const phase of [ChaosPhase.Fanout, ChaosPhase.Delivery, ChaosPhase.Drain]) {
      kills.push(await killDuring(params, probe, phase, ref));
    }
    const final = await runChild(params);
    if (final.code !== 0)
      throw new Error(`local-aws demo exited with ${final.code}: ${final.stderr.slice(-2000)}`);
    const summary = JSON.parse(final.stdout) as Record<string, unknown>;
    const chaosMs = performance.now() - chaosStart;
    const inbox = await probe.inboxPairs();
    const sends = probe.recorded();
    const jobs = await auditJobs(readS3Audit(clients.s3, resources.auditBucket));
    return {
      kills,
      referenceInboxRows: ref.inboxRows,
      referenceSends: ref.sends,
      recipients: new Set([...inbox.keys()].map((k) => k.split('|')[0])).size,
      inboxRows: inbox.size,
      duplicateInboxRows: [...inbox.values()].filter((n) => n > 1).length,
      inboxRowsDiffering: symmetricDifference(want.inbox, new Set(inbox.keys())),
      sends: sends.sends.size,
      unflaggedRepeats: sends.unflaggedRepeats,
      ambiguousResends: sends.ambiguousResends,
      sendsDiffering: symmetricDifference(want.sends, sends.sends),
      jobs: jobs.size,
      jobsDiffering: jobsDiffering(want.jobs, jobs),
      jobsUnsettled: [...jobs.values()].filter((d) => d === '').length,
      summary,
      reference,
      referenceMs,
      chaosMs,
    };
  } finally {
    clients.destroy();
    // Every run kept the prefix's keys (dedup claims first) for the next; the last is done.
    const redis = createRedis({ url: opts.endpoints.redis });
    await clearRedisKeys(redis, opts.prefix).catch(() => {});
    redis.disconnect();
  }
}

async function embeddedReference(opts: LocalAwsChaosOptions): Promise<Record<string, unknown>> {
  const config = readRuntimeConfig({
    ...opts.env,
    FANOUT_DATA_DIR: opts.referenceDir,
    FANOUT_PROFILE: 'embedded',
  });
  const run = await runDemo({
    config,
    scenario: opts.scenario,
    at: opts.at,
    reporter: { live: false, phase() {}, bar: () => ({ update() {}, end() {} }) },
    signal: new AbortController().signal,
  });
  await run.pipeline.stop();
  await run.backend.close();
  return run.summary as unknown as Record<string, unknown>;
}

/**
 * Runs the local-aws demo until the stores show `phase`, then SIGKILLs it: fan-out while the
 * inbox table holds some of the reference's rows and not all; delivery once this run has added
 * sends to the sinks and some are still missing; the drain once every row is written, this run
 * has recorded audit decisions, and sends are missing or jobs queued. A restarted run re-reads the
 * stream from its checkpoints and waits for the jobs the killed one held to become visible again,
 * so each phase lasts seconds.
 */
async function killDuring(
  params: ChildParams,
  probe: Probe,
  phase: ChaosPhase,
  ref: { readonly inboxRows: number; readonly sends: number },
): Promise<LocalAwsKillRecord> {
  const sendsBefore = probe.sends();
  const auditBefore = await probe.auditObjects();
  let rowsComplete = false;
  const reached = async (): Promise<boolean> => {
    if (phase === ChaosPhase.Fanout) {
      const rows = await probe.inboxRows();
      return rows > 0 && rows < ref.inboxRows;
    }
    const sends = probe.sends();
    if (phase === ChaosPhase.Delivery) return sends > sendsBefore && sends < ref.sends;
    // Once complete, the rows stay so: the table is scanned only until then.
    rowsComplete ||= (await probe.inboxRows()) === ref.inboxRows;
    if (!rowsComplete || (await probe.auditObjects()) <= auditBefore) return false;
    return sends < ref.sends || (await probe.queued()) > 0;
  };
  const result = await runChild(params, async (child, running) => {
    while (running()) {
      if (await reached()) {
        child.kill('SIGKILL');
        return;
      }
      await delay(POLL_MS);
    }
  });
  return {
    phase,
    killed: result.signal === 'SIGKILL',
    inboxRows: await probe.inboxRows(),
    sends: probe.sends(),
    queued: await probe.queued(),
    auditRecords: await probe.auditRecords(),
  };
}

interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** One child run; `watch` runs beside it until it returns or the child ends. */
async function runChild(
  params: ChildParams,
  watch?: (child: ChildProcess, running: () => boolean) => Promise<void>,
): Promise<ChildResult> {
  const child = spawn(process.execPath, [CHILD, JSON.stringify(params)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  let ended = false;
  const closed = new Promise<ChildResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      ended = true;
      resolve({ code, signal, stdout, stderr });
    });
  });
  try {
    await watch?.(child, () => !ended);
  } catch (err) {
    child.kill('SIGKILL');
    await closed;
    throw err;
  }
  return closed;
}

/** Reads of the chaos run's stores from outside its process, while it may still write them. */
class Probe {
  readonly #clients: AwsClients;
  readonly #resources: LocalResources;
  readonly #sinkDb: string;

  constructor(clients: AwsClients, resources: LocalResources, sinkDb: string) {
    this.#clients = clients;
    this.#resources = resources;
    this.#sinkDb = sinkDb;
  }

  /** Rows in the inbox table (rows carry a creation time; marks and meta items do not). */
  async inboxRows(): Promise<number> {
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#clients.documents.send(
        new ScanCommand({
          TableName: this.#resources.tables.inbox,
          Select: 'COUNT',
          FilterExpression: 'attribute_exists(ca)',
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return count;
  }

  /** `user|event` → rows of that pair in the inbox table. */
  async inboxPairs(): Promise<Map<string, number>> {
    const pairs = new Map<string, number>();
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#clients.documents.send(
        new ScanCommand({
          TableName: this.#resources.tables.inbox,
          FilterExpression: 'attribute_exists(ca)',
          ProjectionExpression: 'pk, e',
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        // pk is `tenant#user`; the embedded reference keys rows by user alone.
        const user = String(item.pk).slice(String(item.pk).indexOf('#') + 1);
        const key = `${user}|${item.e}`;
        pairs.set(key, (pairs.get(key) ?? 0) + 1);
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return pairs;
  }

  /** Distinct sends in the sinks file; 0 before the first run has made it. */
  sends(): number {
    return (
      this.#withSinks((db) =>
        Number((db.prepare('SELECT count(*) AS n FROM recorded_sends').get() as { n: number }).n),
      ) ?? 0
    );
  }

  recorded(): ReturnType<typeof recordedSends> {
    const got = this.#withSinks(recordedSends);
    if (got === undefined) throw new Error('the chaos run recorded no sends');
    return got;
  }

  /** Jobs visible or in flight in the delivery queues (delayed ones wait for quiet hours to end). */
  async queued(): Promise<number> {
    let n = 0;
    for (const channel of CHANNELS) {
      const out = await this.#clients.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: this.#resources.queues[channel].url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      n += Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
      n += Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    }
    return n;
  }

  /** Objects in the audit bucket: one per appended batch of decisions. */
  async auditObjects(): Promise<number> {
    let n = 0;
    let token: string | undefined;
    do {
      const page = await this.#clients.s3.send(
        new ListObjectsV2Command({ Bucket: this.#resources.auditBucket, ContinuationToken: token }),
      );
      n += page.KeyCount ?? page.Contents?.length ?? 0;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return n;
  }

  async auditRecords(): Promise<number> {
    let n = 0;
    for await (const _ of readS3Audit(this.#clients.s3, this.#resources.auditBucket)) n++;
    return n;
  }

  #withSinks<T>(read: (db: DatabaseSync) => T): T | undefined {
    if (!existsSync(this.#sinkDb)) return undefined;
    const db = new DatabaseSync(this.#sinkDb, { readOnly: true });
    try {
      db.exec('PRAGMA busy_timeout = 5000');
      const table = db
        .prepare("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'recorded_sends'")
        .get();
      return table === undefined ? undefined : read(db);
    } finally {
      db.close();
    }
  }
}

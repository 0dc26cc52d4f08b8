import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { readAuditLog } from '../src/adapters/embedded/audit-log.ts';
import type { AuditEntry } from '../src/domain/audit-types.ts';
import { Outcome } from '../src/domain/types.ts';
import { AUDIT_DIR } from '../src/runtime/embedded.ts';

/** The CLI entry, run by the same Node (type stripping runs the .ts directly). */
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

/** Second :30 of a minute, minutes away from any quiet-hours boundary in any zone of the demo. */
export const CHAOS_AT = '2026-01-15T03:07:30Z';

/** Where in a run the process is killed. */
export const ChaosPhase = {
  /** Inbox rows are being written and fan-out has not checkpointed past every event. */
  Fanout: 'fanout',
  /** The first delivery decisions are in the audit log. */
  Delivery: 'delivery',
  /** Fan-out is done and the delivery queues are draining. */
  Drain: 'drain',
  /**
   * The like storm is being folded into its item: the owner's group holds some of its likers, and
   * at least a tenth of the storm more than at the previous storm kill.
   */
  Storm: 'storm',
} as const;
export type ChaosPhase = (typeof ChaosPhase)[keyof typeof ChaosPhase];

/** What one killed run had reached when SIGKILL hit it, read from the data dir afterwards. */
export interface KillRecord {
  readonly phase: ChaosPhase;
  /** The process died of SIGKILL (false: it finished before the phase was seen). */
  readonly killed: boolean;
  /** Events fan-out had checkpointed past, of `events`. */
  readonly fannedOut: number;
  readonly events: number;
  readonly inboxRows: number;
  /** Audit decisions recorded so far. */
  readonly auditRecords: number;
  /** Actors in aggregated items (the like storm's, mostly). */
  readonly groupActors: number;
}

/** What the killed-and-resumed run ended with, checked against an uninterrupted run. */
export interface ChaosOutcome {
  readonly users: number;
  readonly kills: readonly KillRecord[];
  /** Distinct users with at least one inbox row. */
  readonly recipients: number;
  readonly inboxRows: number;
  /** (user, event) pairs with more than one inbox row. */
  readonly duplicateInboxRows: number;
  /** (user, event) pairs of one run and not the other. */
  readonly inboxRowsDiffering: number;
  /** Distinct (channel, message id) sends: one per (notification, device) or (notification, address). */
  readonly sends: number;
  /** Sends repeated without being flagged an ambiguous re-send: must be 0. */
  readonly unflaggedRepeats: number;
  /** Re-sends after an unknown outcome, recorded as such. */
  readonly ambiguousResends: number;
  /** Sends of one run and not the other. */
  readonly sendsDiffering: number;
  /** Jobs (channel, notification, user) in the audit. */
  readonly jobs: number;
  /** Jobs of one run and not the other, or whose decisions differ. */
  readonly jobsDiffering: number;
  /** Jobs whose only decisions are non-final (unknown, duplicate). */
  readonly jobsUnsettled: number;
  /** (user, group, actor, event) entries of aggregated items. */
  readonly groupActors: number;
  /** Group actor entries of one run and not the other. */
  readonly groupActorsDiffering: number;
  /** Aggregated items whose stored actor count is not the number of their actors. */
  readonly groupCountsWrong: number;
  readonly auditChainValid: boolean;
  /** The final summary (`fanout demo --json`) of both runs. */
  readonly summary: Record<string, unknown>;
  readonly reference: Record<string, unknown>;
  readonly referenceMs: number;
  /** Wall time of the three killed runs and the final one together. */
  readonly chaosMs: number;
}

interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The chaos scenario: the small demo with `users` active users, and a like storm of `viral` likers. */
export interface ChaosScenario {
  readonly users: number;
  /** Distinct likers of the demo's like storm (`--viral`); none when 0 or absent. */
  readonly viral?: number;
}

/** `fanout demo` with the chaos scenario on `dataDir`. */
function demoArgs(dataDir: string, scenario: ChaosScenario): string[] {
  return [
    'demo',
    '--json',
    '--scale',
    'small',
    '--users',
    String(scenario.users),
    ...(scenario.viral ? ['--viral', String(scenario.viral)] : []),
    '--data-dir',
    dataDir,
    '--at',
    CHAOS_AT,
  ];
}

function runCli(
  args: readonly string[],
  watch?: (stderr: string, child: ChildProcess) => void,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      env: { ...process.env, FANOUT_LOG_LEVEL: 'silent', FANOUT_DEMO_TRACE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      watch?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Read-only counts of the data dir's SQLite file, taken while the process may still write it. */
function probe(dataDir: string): {
  events: number;
  fannedOut: number;
  inboxRows: number;
  queued: number;
  groupActors: number;
} {
  const db = new DatabaseSync(join(dataDir, 'fanout.db'), { readOnly: true });
  try {
    db.exec('PRAGMA busy_timeout = 5000');
    const one = (sql: string) => Number((db.prepare(sql).get() as { n: number }).n);
    const has = (table: string) =>
      one(`SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '${table}'`) > 0;
    if (!has('event_log') || !has('checkpoints') || !has('inbox_rows'))
      return { events: 0, fannedOut: 0, inboxRows: 0, queued: 0, groupActors: 0 };
    return {
      events: one('SELECT count(*) AS n FROM event_log'),
      // The fan-out consumer's checkpoint per shard (the layout fannedOutEvents reads too).
      fannedOut: one(
        `SELECT count(*) AS n FROM event_log e
         JOIN checkpoints c ON c.consumer = 'fanout' AND c.shard_id = 'shardId-' || printf('%012d', e.shard)
         WHERE e.seq <= CAST(c.sequence AS INTEGER)`,
      ),
      inboxRows: one('SELECT count(*) AS n FROM inbox_rows'),
      // Delivery jobs not yet settled (a job leaves the queue when its consumer deletes it).
      queued: has('delivery_queue') ? one('SELECT count(*) AS n FROM delivery_queue WHERE exhausted = 0') : 0,
      groupActors: has('inbox_group_actors') ? one('SELECT count(*) AS n FROM inbox_group_actors') : 0,
    };
  } finally {
    db.close();
  }
}

async function auditCount(dataDir: string): Promise<number> {
  let n = 0;
  for await (const _ of readAuditLog(join(dataDir, AUDIT_DIR))) n++;
  return n;
}

/**
 * Runs the demo until `phase` is seen, then SIGKILLs it. Fan-out and the drain are seen in the
 * durable state (inbox rows written while a shard's checkpoint lags; every event fanned out while
 * delivery jobs are queued), delivery in the progress line the demo prints at its first audit
 * decision.
 */
async function killDuring(
  dataDir: string,
  scenario: ChaosScenario,
  phase: ChaosPhase,
  previous: KillRecord | undefined,
): Promise<KillRecord> {
  let killed = false;
  const kill = (child: ChildProcess) => {
    if (killed) return;
    killed = true;
    child.kill('SIGKILL');
  };
  let polling: Promise<void> | undefined;
  const result = await runCli(demoArgs(dataDir, scenario), (stderr, child) => {
    if (killed) return;
    if (phase === ChaosPhase.Fanout) {
      if (polling === undefined && stderr.includes('demo: phase fanout')) {
        polling = (async () => {
          while (!killed && child.exitCode === null && child.signalCode === null) {
            const p = probe(dataDir);
            if (p.inboxRows > 0 && p.fannedOut < p.events) kill(child);
            else await delay(10);
          }
        })();
      }
    } else if (phase === ChaosPhase.Storm) {
      const storm = scenario.viral ?? 0;
      const floor = (previous?.groupActors ?? 0) + Math.max(1, Math.floor(storm / 10));
      if (polling === undefined && stderr.includes('demo: phase fanout')) {
        polling = (async () => {
          while (!killed && child.exitCode === null && child.signalCode === null) {
            const p = probe(dataDir);
            if (p.groupActors >= floor && p.groupActors < storm) kill(child);
            else await delay(10);
          }
        })();
      }
    } else if (phase === ChaosPhase.Delivery) {
      if (stderr.includes('demo: phase delivery')) kill(child);
    } else if (polling === undefined && stderr.includes('demo: phase fanout')) {
      // The drain: every event fanned out (the durable checkpoints say so) while delivery jobs are
      // still queued. Read from the data dir, not from progress lines, which a fast machine can
      // finish draining before it prints one with work left.
      // The kill waits for this run to settle some jobs first (the queue shrinks), so it lands in
      // the middle of the drain even when an earlier run had finished fan-out.
      polling = (async () => {
        let first: number | undefined;
        while (!killed && child.exitCode === null && child.signalCode === null) {
          const p = probe(dataDir);
          const fannedOut = p.events > 0 && p.fannedOut === p.events;
          if (fannedOut && first === undefined) first = p.queued;
          if (fannedOut && first !== undefined && p.queued > 0 && p.queued < first) kill(child);
          else await delay(10);
        }
      })();
    }
  });
  await polling;
  const after = probe(dataDir);
  return {
    phase,
    killed: result.signal === 'SIGKILL',
    fannedOut: after.fannedOut,
    events: after.events,
    inboxRows: after.inboxRows,
    auditRecords: existsSync(join(dataDir, AUDIT_DIR)) ? await auditCount(dataDir) : 0,
    groupActors: after.groupActors,
  };
}

async function finish(dataDir: string, scenario: ChaosScenario): Promise<Record<string, unknown>> {
  const result = await runCli(demoArgs(dataDir, scenario));
  if (result.code !== 0)
    throw new Error(`fanout demo exited with ${result.code}: ${result.stderr.slice(-2000)}`);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

/** What a demo run left, keyed for comparison with another run. */
export interface Durable {
  readonly inbox: Set<string>;
  readonly duplicateInboxRows: number;
  readonly recipients: number;
  readonly sends: Set<string>;
  readonly unflaggedRepeats: number;
  readonly ambiguousResends: number;
  /** job → its final decisions (sorted, joined), '' when it has none. */
  readonly jobs: Map<string, string>;
}

/** Decisions that settle a job; `unknown` is re-sent and `duplicate` repeats a settled one. */
const NON_FINAL: ReadonlySet<string> = new Set([Outcome.Unknown, Outcome.Duplicate]);

/** Inbox rows, sends and audited jobs of an embedded data dir (read-only). */
export async function readDurable(dataDir: string): Promise<Durable> {
  const db = new DatabaseSync(join(dataDir, 'fanout.db'), { readOnly: true });
  try {
    const pairs = db
      .prepare(
        "SELECT user_id || '|' || event_id AS k, count(*) AS n FROM inbox_rows GROUP BY user_id, event_id",
      )
      .all() as { k: string; n: number }[];
    const recipients = Number(
      (db.prepare('SELECT count(DISTINCT user_id) AS n FROM inbox_rows').get() as { n: number }).n,
    );
    const jobs = await auditJobs(readAuditLog(join(dataDir, AUDIT_DIR)));
    return {
      inbox: new Set(pairs.map((p) => p.k)),
      duplicateInboxRows: pairs.filter((p) => Number(p.n) > 1).length,
      recipients,
      ...recordedSends(db),
      jobs,
    };
  } finally {
    db.close();
  }
}

/**
 * The aggregated items of an embedded data dir (read-only): every (user, group, actor, event) that
 * joined one, and how many items' stored actor count disagrees with their actors.
 */
export function readGroups(dataDir: string): { actors: Set<string>; countsWrong: number } {
  const db = new DatabaseSync(join(dataDir, 'fanout.db'), { readOnly: true });
  try {
    const actors = db
      .prepare(
        "SELECT user_id || '|' || group_key || '|' || actor_id || '|' || event_id AS k FROM inbox_group_actors",
      )
      .all() as { k: string }[];
    const wrong = db
      .prepare(
        `SELECT count(*) AS n FROM inbox_groups g
         WHERE g.actor_count != (SELECT count(*) FROM inbox_group_actors a
           WHERE a.tenant_id = g.tenant_id AND a.user_id = g.user_id AND a.group_key = g.group_key)`,
      )
      .get() as { n: number };
    return { actors: new Set(actors.map((a) => a.k)), countsWrong: Number(wrong.n) };
  } finally {
    db.close();
  }
}

/** The recording sinks' sends in `db` (the embedded data file, or the local-aws sinks file). */
export function recordedSends(
  db: DatabaseSync,
): Pick<Durable, 'sends' | 'unflaggedRepeats' | 'ambiguousResends'> {
  const sends = db
    .prepare(
      "SELECT channel || '|' || message_id AS k, sends, ambiguous_resends AS a, duplicates AS d FROM recorded_sends",
    )
    .all() as { k: string; sends: number; a: number; d: number }[];
  return {
    sends: new Set(sends.map((s) => s.k)),
    unflaggedRepeats: sends.reduce((sum, s) => sum + Number(s.d), 0),
    ambiguousResends: sends.reduce((sum, s) => sum + Number(s.a), 0),
  };
}

/** job (channel, notification, user) → its final decisions (sorted, joined), '' when it has none. */
export async function auditJobs(entries: AsyncIterable<AuditEntry>): Promise<Map<string, string>> {
  const jobs = new Map<string, Set<string>>();
  for await (const r of entries) {
    const job = `${r.channel}|${r.notificationId}|${r.userId}`;
    const decisions = jobs.get(job) ?? new Set<string>();
    if (!NON_FINAL.has(r.outcome)) decisions.add(`${r.outcome}:${r.target ?? ''}`);
    jobs.set(job, decisions);
  }
  return new Map([...jobs].map(([job, d]) => [job, [...settled(d)].sort().join(',')]));
}

/**
 * A grouped push folded into its window's digest on one attempt and sent on a later one (a crash
 * between the audit and the ack, then its own slot claim stale after the lease) ended sent: the
 * fold is an earlier attempt's word, like `unknown`. Its push still took the window's one slot.
 */
function settled(decisions: ReadonlySet<string>): ReadonlySet<string> {
  const sent = [...decisions].some((d) => d.startsWith(`${Outcome.Sent}:`));
  return sent ? new Set([...decisions].filter((d) => !d.startsWith(`${Outcome.Digested}:`))) : decisions;
}

/** Jobs of one map and not the other, or whose decisions differ. */
export function jobsDiffering(want: ReadonlyMap<string, string>, got: ReadonlyMap<string, string>): number {
  let n = 0;
  for (const [job, decisions] of want) if (got.get(job) !== decisions) n++;
  for (const job of got.keys()) if (!want.has(job)) n++;
  return n;
}

/** Keys of one set and not the other. */
export function symmetricDifference(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  let n = 0;
  for (const k of a) if (!b.has(k)) n++;
  for (const k of b) if (!a.has(k)) n++;
  return n;
}

/**
 * The embedded chaos run: an uninterrupted demo on one data dir, and on another the same demo
 * SIGKILLed during fan-out, during delivery and during the drain, each time restarted on the same
 * data dir, then run to the end. Compares the two data dirs row by row: inbox rows, sends and audit
 * decisions per job.
 */
export async function chaosEmbedded(
  opts: ChaosScenario & {
    readonly referenceDir: string;
    readonly chaosDir: string;
    /** Where the three kills land, in order. @default fan-out, delivery, drain */
    readonly phases?: readonly ChaosPhase[];
  },
): Promise<ChaosOutcome> {
  const refStart = performance.now();
  const reference = await finish(opts.referenceDir, opts);
  const referenceMs = performance.now() - refStart;
  const chaosStart = performance.now();
  const kills: KillRecord[] = [];
  for (const phase of opts.phases ?? [ChaosPhase.Fanout, ChaosPhase.Delivery, ChaosPhase.Drain]) {
    kills.push(await killDuring(opts.chaosDir, opts, phase, kills.at(-1)));
  }
  const summary = await finish(opts.chaosDir, opts);
  const chaosMs = performance.now() - chaosStart;
  const [want, got] = await Promise.all([readDurable(opts.referenceDir), readDurable(opts.chaosDir)]);
  const [wantGroups, gotGroups] = [readGroups(opts.referenceDir), readGroups(opts.chaosDir)];
  return {
    users: opts.users,
    kills,
    recipients: got.recipients,
    inboxRows: [...got.inbox].length,
    duplicateInboxRows: got.duplicateInboxRows,
    inboxRowsDiffering: symmetricDifference(want.inbox, got.inbox),
    sends: got.sends.size,
    unflaggedRepeats: got.unflaggedRepeats,
    ambiguousResends: got.ambiguousResends,
    sendsDiffering: symmetricDifference(want.sends, got.sends),
    jobs: got.jobs.size,
    jobsDiffering: jobsDiffering(want.jobs, got.jobs),
    jobsUnsettled: [...got.jobs.values()].filter((d) => d === '').length,
    groupActors: gotGroups.actors.size,
    groupActorsDiffering: symmetricDifference(wantGroups.actors, gotGroups.actors),
    groupCountsWrong: gotGroups.countsWrong,
    auditChainValid: summary.auditChainValid === true,
    summary,
    reference,
    referenceMs,
    chaosMs,
  };
}

import { randomUUID } from 'node:crypto';
import { tinyScenario } from '../src/cli/demo/scenario.ts';
import { startEmulators } from '../src/runtime/local-aws/emulators.ts';
import { type ChaosOutcome, chaosEmbedded } from './chaos-embedded.ts';
import { chaosLocalAws, localAwsChaosAt } from './chaos-local-aws.ts';
import { type BenchReport, withTempDir } from './support.ts';

/**
 * Active users per wanted recipient: at 20,000 active users about half follow a regular author
 * whose posts reach them as inbox rows (the power-law audiences concentrate on a few authors).
 * The figures report the recipients reached, whatever this estimate.
 */
const USERS_PER_RECIPIENT = 2.1;

export interface ChaosBenchOptions {
  /** Recipients with inbox rows to reach at least. @default 20_000 (embedded), 900 (local-aws) */
  readonly recipients?: number;
  /** The profile killed: the embedded one, or the AWS adapters on emulators. @default 'embedded' */
  readonly target?: 'embedded' | 'local-aws';
}

/** The goal of every difference count: exactly once means no difference from the undisturbed run. */
const DIFFERENCES = [
  'duplicateInboxRows',
  'inboxRowsDiffering',
  'unflaggedRepeats',
  'sendsDiffering',
  'jobsDiffering',
  'jobsUnsettled',
] as const;

/**
 * `npm run bench -- chaos`: the embedded chaos run at full size. An uninterrupted demo and the
 * same demo SIGKILLed during fan-out, delivery and the drain (restarted each time, then run to the
 * end) are compared row by row. The figures are the sizes and what the comparison found (every
 * count of differences must be 0), and the wall time of both, from the same run.
 */
export async function chaosBench(opts: ChaosBenchOptions = {}): Promise<BenchReport> {
  if (opts.target === 'local-aws') return chaosLocalAwsBench(opts.recipients ?? 900);
  const wanted = opts.recipients ?? 20_000;
  const users = Math.ceil(wanted * USERS_PER_RECIPIENT);
  // A like storm as large as the audience: the kills land in it as well as in ordinary fan-out.
  const viral = wanted;
  const run = await withTempDir('chaos-ref', (referenceDir) =>
    withTempDir('chaos', (chaosDir) => chaosEmbedded({ users, viral, referenceDir, chaosDir })),
  );
  return {
    name: 'chaos',
    figures: {
      ...sharedFigures(run),
      viralLikes: viral,
      viralActorCount: viralActorCount(run.summary),
      groupActorsDiffering: run.groupActorsDiffering,
      groupCountsWrong: run.groupCountsWrong,
      auditChainValid: run.auditChainValid ? 1 : 0,
      chaosToReference: Number((run.chaosMs / run.referenceMs).toFixed(2)),
    },
    settings: { profile: 'embedded', activeUsers: users, wantedRecipients: wanted, viralLikes: viral },
    // What exactly-once means here: no difference from the uninterrupted run, nothing twice.
    goals: [...DIFFERENCES, 'groupActorsDiffering', 'groupCountsWrong'].map((figure) => ({
      figure,
      op: '<=' as const,
      value: 0,
    })),
    notes: run.kills.map(
      (k) =>
        `kill during ${k.phase}: ${k.killed ? 'SIGKILL' : 'finished first'}; fan-out ${k.fannedOut}/${k.events} events, ${k.inboxRows} inbox rows, ${k.auditRecords} audit records`,
    ),
  };
}

/**
 * The local-aws chaos run (`--target=local-aws`) on emulators it starts: the tiny demo scenario
 * with `recipients` active users (nearly every one gets inbox rows at that size), an undisturbed
 * embedded run as the reference. DynamoDB Local sets the pace, so sizes stay in the thousands.
 */
async function chaosLocalAwsBench(recipients: number): Promise<BenchReport> {
  const threshold = 1000;
  const scenario = { ...tinyScenario(threshold), activeUsers: recipients };
  const emulators = await startEmulators();
  try {
    const run = await withTempDir('chaos-aws-ref', (referenceDir) =>
      withTempDir('chaos-aws', (chaosDir) =>
        chaosLocalAws({
          endpoints: emulators.endpoints,
          prefix: `chaos-${randomUUID().slice(0, 8)}`,
          scenario,
          at: localAwsChaosAt(),
          env: { FANOUT_CELEBRITY_THRESHOLD: String(threshold), FANOUT_LOG_LEVEL: 'silent' },
          referenceDir,
          chaosDir,
        }),
      ),
    );
    return {
      name: 'chaos',
      figures: sharedFigures(run),
      settings: { profile: 'local-aws', activeUsers: recipients, reference: 'embedded' },
      goals: DIFFERENCES.map((figure) => ({ figure, op: '<=' as const, value: 0 })),
      notes: run.kills.map(
        (k) =>
          `kill during ${k.phase}: ${k.killed ? 'SIGKILL' : 'finished first'}; ${k.inboxRows}/${run.referenceInboxRows} inbox rows, ${k.sends}/${run.referenceSends} sends, ${k.queued} jobs queued, ${k.auditRecords} audit records`,
      ),
    };
  } finally {
    await emulators.stop();
  }
}

/** What both chaos runs report: sizes, what the comparison found, and the wall times. */
function sharedFigures(
  run: Pick<ChaosOutcome, 'recipients' | 'inboxRows' | 'sends' | 'jobs' | 'ambiguousResends'> &
    Record<(typeof DIFFERENCES)[number], number> & {
      readonly kills: readonly { readonly killed: boolean }[];
      readonly referenceMs: number;
      readonly chaosMs: number;
    },
): Record<string, number> {
  const ms = (v: number) => Math.max(1, Math.round(v));
  return {
    recipients: run.recipients,
    inboxRows: run.inboxRows,
    sends: run.sends,
    jobs: run.jobs,
    kills: run.kills.filter((k) => k.killed).length,
    ambiguousResends: run.ambiguousResends,
    ...Object.fromEntries(DIFFERENCES.map((figure) => [figure, run[figure]])),
    referenceMs: ms(run.referenceMs),
    chaosMs: ms(run.chaosMs),
  };
}

/** The like storm's item's actor count in a demo summary, or 0 when there is none. */
function viralActorCount(summary: Record<string, unknown>): number {
  const viral = summary.viral as { actorCount?: number } | undefined;
  return viral?.actorCount ?? 0;
}

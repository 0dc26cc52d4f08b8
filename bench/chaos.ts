import { chaosEmbedded } from './chaos-embedded.ts';
import { type BenchReport, withTempDir } from './support.ts';

/**
 * Active users per wanted recipient: at 20,000 active users about half follow a regular author
 * whose posts reach them as inbox rows (the power-law audiences concentrate on a few authors).
 * The figures report the recipients reached, whatever this estimate.
 */
const USERS_PER_RECIPIENT = 2.1;

export interface ChaosBenchOptions {
  /** Recipients with inbox rows to reach at least. @default 20_000 */
  readonly recipients?: number;
}

/**
 * `npm run bench -- chaos`: the embedded chaos run at full size. An uninterrupted demo and the
 * same demo SIGKILLed during fan-out, delivery and the drain (restarted each time, then run to the
 * end) are compared row by row. The figures are the sizes and what the comparison found (every
 * count of differences must be 0), and the wall time of both, from the same run.
 */
export async function chaosBench(opts: ChaosBenchOptions = {}): Promise<BenchReport> {
  const wanted = opts.recipients ?? 20_000;
  const users = Math.ceil(wanted * USERS_PER_RECIPIENT);
  const run = await withTempDir('chaos-ref', (referenceDir) =>
    withTempDir('chaos', (chaosDir) => chaosEmbedded({ users, referenceDir, chaosDir })),
  );
  const ms = (v: number) => Math.max(1, Math.round(v));
  return {
    name: 'chaos',
    figures: {
      recipients: run.recipients,
      inboxRows: run.inboxRows,
      sends: run.sends,
      jobs: run.jobs,
      kills: run.kills.filter((k) => k.killed).length,
      ambiguousResends: run.ambiguousResends,
      duplicateInboxRows: run.duplicateInboxRows,
      inboxRowsDiffering: run.inboxRowsDiffering,
      unflaggedRepeats: run.unflaggedRepeats,
      sendsDiffering: run.sendsDiffering,
      jobsDiffering: run.jobsDiffering,
      jobsUnsettled: run.jobsUnsettled,
      auditChainValid: run.auditChainValid ? 1 : 0,
      referenceMs: ms(run.referenceMs),
      chaosMs: ms(run.chaosMs),
      chaosToReference: Number((run.chaosMs / run.referenceMs).toFixed(2)),
    },
    settings: { profile: 'embedded', activeUsers: users, wantedRecipients: wanted },
    // What exactly-once means here: no difference from the uninterrupted run, nothing twice.
    goals: (
      [
        'duplicateInboxRows',
        'inboxRowsDiffering',
        'unflaggedRepeats',
        'sendsDiffering',
        'jobsDiffering',
        'jobsUnsettled',
      ] as const
    ).map((figure) => ({ figure, op: '<=' as const, value: 0 })),
    notes: run.kills.map(
      (k) =>
        `kill during ${k.phase}: ${k.killed ? 'SIGKILL' : 'finished first'}; fan-out ${k.fannedOut}/${k.events} events, ${k.inboxRows} inbox rows, ${k.auditRecords} audit records`,
    ),
  };
}

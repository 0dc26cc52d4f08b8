import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ChaosPhase, chaosEmbedded } from '../../bench/chaos-embedded.ts';
import { durableTotals, tempDir } from './run-fanout.ts';

/**
 * 5,000 active users (thousands of recipients with inbox rows and of sends): five `fanout demo`
 * runs of this size take well under a minute on two cores, where 20,000 recipients (about 42,000
 * active users) take minutes per run, beyond the suite's budget. `npm run bench -- chaos` runs
 * the same harness at 20,000 recipients.
 */
const USERS = 5000;
/** A like storm in the same run: the kills land in it too, and its one item must stay exact. */
const VIRAL = 3000;

// Five demo runs (one reference, three killed, one to the end): a minute or two on a loaded
// 2-core machine, hence the long limit (no assertion is about time).
describe('fanout demo (with a like storm) SIGKILLed during fan-out, delivery and the drain', {
  timeout: 600_000,
}, () => {
  const referenceDir = tempDir('chaos-ref');
  const chaosDir = tempDir('chaos');

  afterAll(() => {
    rmSync(referenceDir, { recursive: true, force: true });
    rmSync(chaosDir, { recursive: true, force: true });
  });

  it('ends with every inbox row, send and audited job of an uninterrupted run, each exactly once', async () => {
    // Prepare: the harness runs the uninterrupted reference itself, on its own data dir

    // Act: kill three runs on one data dir at three phases, then let a fourth finish
    const run = await chaosEmbedded({ users: USERS, viral: VIRAL, referenceDir, chaosDir });

    // Assess: each kill hit the phase it aimed at, read back from the data dir
    const [fanout, delivery, drain] = run.kills;
    expect(run.kills.map((k) => [k.phase, k.killed])).toEqual([
      [ChaosPhase.Fanout, true],
      [ChaosPhase.Delivery, true],
      [ChaosPhase.Drain, true],
    ]);
    expect(fanout!.inboxRows).toBeGreaterThan(0);
    expect(fanout!.fannedOut).toBeLessThan(fanout!.events);
    expect(delivery!.auditRecords).toBeGreaterThan(0);
    expect(drain!.fannedOut).toBe(drain!.events);
    expect(drain!.auditRecords).toBeGreaterThan(delivery!.auditRecords);
    // Every recipient's inbox row exactly once, the same rows as the uninterrupted run
    expect(run.recipients).toBeGreaterThan(USERS / 2);
    expect(run.duplicateInboxRows).toBe(0);
    expect(run.inboxRowsDiffering).toBe(0);
    // Every (notification, device or address) sent, and never twice outside a flagged ambiguous re-send
    expect(run.sends).toBeGreaterThan(0);
    expect(run.unflaggedRepeats).toBe(0);
    expect(run.sendsDiffering).toBe(0);
    // Every job in the audit with the same final decisions, none left with only unknown outcomes
    expect(run.jobs).toBeGreaterThan(0);
    expect(run.jobsDiffering).toBe(0);
    expect(run.jobsUnsettled).toBe(0);
    expect(run.auditChainValid).toBe(true);
    // The like storm: one item for its owner, every liker in it once, as in the calm run
    expect(run.summary.viral).toMatchObject({ ownerItems: 1, actorCount: VIRAL });
    expect(run.groupActors).toBeGreaterThanOrEqual(VIRAL);
    expect(run.groupActorsDiffering).toBe(0);
    expect(run.groupCountsWrong).toBe(0);
    expect(durableTotals(run.summary)).toEqual(durableTotals(run.reference));
    expect(run.summary.transportDuplicates).toBe(0);
  });
});

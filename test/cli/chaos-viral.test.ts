import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ChaosPhase, chaosEmbedded } from '../../bench/chaos-embedded.ts';
import { durableTotals, tempDir } from './run-fanout.ts';

/** Likers of the storm: enough that fan-out takes seconds to fold them, so three kills land in it. */
const VIRAL = 20_000;
/** A small graph around it: the storm is what this test is about. */
const USERS = 1000;

describe('fanout demo SIGKILLed three times during a like storm', { timeout: 600_000 }, () => {
  const referenceDir = tempDir('chaos-viral-ref');
  const chaosDir = tempDir('chaos-viral');

  afterAll(() => {
    rmSync(referenceDir, { recursive: true, force: true });
    rmSync(chaosDir, { recursive: true, force: true });
  });

  it('ends with one item of exactly every liker, and every push of a calm run, none twice', async () => {
    // Act: kill three runs on one data dir, each while the storm is being folded, then finish
    const run = await chaosEmbedded({
      users: USERS,
      viral: VIRAL,
      referenceDir,
      chaosDir,
      phases: [ChaosPhase.Storm, ChaosPhase.Storm, ChaosPhase.Storm],
    });

    // Assess: each kill landed inside the storm, each later than the one before
    expect(run.kills.map((k) => [k.phase, k.killed])).toEqual([
      [ChaosPhase.Storm, true],
      [ChaosPhase.Storm, true],
      [ChaosPhase.Storm, true],
    ]);
    const actorsAtKills = run.kills.map((k) => k.groupActors);
    for (const [i, actors] of actorsAtKills.entries()) {
      expect(actors).toBeGreaterThan(i === 0 ? 0 : actorsAtKills[i - 1]!);
      expect(actors).toBeLessThan(VIRAL);
    }
    // 0 lost, 0 counted twice: one item, every liker once, the count its actors
    expect(run.summary.viral).toMatchObject({ ownerItems: 1, actorCount: VIRAL });
    expect(run.groupActorsDiffering).toBe(0);
    expect(run.groupCountsWrong).toBe(0);
    expect(run.duplicateInboxRows).toBe(0);
    expect(run.inboxRowsDiffering).toBe(0);
    // 0 duplicate pushes outside recorded ambiguous re-sends, and the same pushes as the calm run
    expect(run.unflaggedRepeats).toBe(0);
    expect(run.sendsDiffering).toBe(0);
    expect(run.jobsDiffering).toBe(0);
    expect(run.jobsUnsettled).toBe(0);
    expect(run.auditChainValid).toBe(true);
    expect(durableTotals(run.summary)).toEqual(durableTotals(run.reference));
  });
});

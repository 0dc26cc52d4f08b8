import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ChaosPhase } from '../../bench/chaos-embedded.ts';
import { chaosLocalAws, localAwsChaosAt } from '../../bench/chaos-local-aws.ts';
import { emulatorEndpoints, uniqueName } from '../support/aws.ts';
import { TINY } from '../support/scenarios.ts';
import { durableTotals, tempDir } from './run-fanout.ts';

// One embedded reference (a second) and four local-aws runs on the emulators, each restart waiting
// for the jobs the killed run held to come back (10 s visibility): a minute or two on a loaded
// 2-core machine, hence the long limit (no assertion is about time).
describe('fanout demo on local-aws SIGKILLed during fan-out, delivery and the drain', {
  timeout: 600_000,
}, () => {
  const referenceDir = tempDir('chaos-aws-ref');
  const chaosDir = tempDir('chaos-aws-kill');

  afterAll(() => {
    rmSync(referenceDir, { recursive: true, force: true });
    rmSync(chaosDir, { recursive: true, force: true });
  });

  it('ends with every inbox row, send and audited job of an uninterrupted run, each exactly once', async () => {
    // Prepare: the harness runs the uninterrupted reference itself (embedded: the same ids)

    // Act: kill three runs on one prefix and dir at three phases, then let a fourth finish
    const run = await chaosLocalAws({
      endpoints: emulatorEndpoints(),
      prefix: uniqueName('chaos'),
      scenario: TINY,
      at: localAwsChaosAt(),
      // Sends paced at 400/s in both runs: the drain (every inbox row written, sends still
      // missing) then lasts seconds rather than the half second an unpaced run leaves for kill 3.
      env: { FANOUT_CELEBRITY_THRESHOLD: '1000', FANOUT_LOG_LEVEL: 'silent', FANOUT_PUSH_RATE: '400' },
      referenceDir,
      chaosDir,
    });

    // Assess: each kill hit the phase it aimed at, read back from the stores
    const [fanout, delivery, drain] = run.kills;
    expect(run.kills.map((k) => [k.phase, k.killed])).toEqual([
      [ChaosPhase.Fanout, true],
      [ChaosPhase.Delivery, true],
      [ChaosPhase.Drain, true],
    ]);
    expect(fanout!.inboxRows).toBeGreaterThan(0);
    expect(fanout!.inboxRows).toBeLessThan(run.referenceInboxRows);
    expect(delivery!.sends).toBeGreaterThan(fanout!.sends);
    expect(delivery!.sends).toBeLessThan(run.referenceSends);
    expect(drain!.inboxRows).toBe(run.referenceInboxRows);
    expect(drain!.auditRecords).toBeGreaterThan(delivery!.auditRecords);
    expect(drain!.sends < run.referenceSends || drain!.queued > 0).toBe(true);
    // Every recipient's inbox row exactly once, the same rows as the uninterrupted run
    expect(run.inboxRows).toBe(run.referenceInboxRows);
    expect(run.duplicateInboxRows).toBe(0);
    expect(run.inboxRowsDiffering).toBe(0);
    // Every (notification, device or address) sent, and never twice outside a flagged ambiguous re-send
    expect(run.sends).toBe(run.referenceSends);
    expect(run.unflaggedRepeats).toBe(0);
    expect(run.sendsDiffering).toBe(0);
    // Every job in the audit with the same final decisions, none left with only unknown outcomes
    expect(run.jobs).toBeGreaterThan(0);
    expect(run.jobsDiffering).toBe(0);
    expect(run.jobsUnsettled).toBe(0);
    expect(durableTotals(run.summary)).toEqual(durableTotals(run.reference));
    expect(run.summary.transportDuplicates).toBe(0);
  });
});

import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { durableTotals, runFanout, smallDemoArgs, tempDir } from './run-fanout.ts';

/** Printed (with FANOUT_DEMO_TRACE=1) once the first delivery decisions are in the audit log. */
const DELIVERY_MARKER = 'demo: phase delivery';

describe('a demo killed with SIGKILL during delivery', () => {
  const crashed = tempDir('crashed');
  const clean = tempDir('clean');

  afterAll(() => {
    rmSync(crashed, { recursive: true, force: true });
    rmSync(clean, { recursive: true, force: true });
  });

  it('resumes on restart and ends with the totals of an uninterrupted run, with no duplicate send', async () => {
    // Prepare: an uninterrupted run on its own data dir
    const reference = await runFanout(smallDemoArgs(clean));
    expect(reference.code).toBe(0);
    const expected = JSON.parse(reference.stdout) as Record<string, unknown>;

    // Act: kill a run the moment delivery has started, then restart it on the same data dir
    let killed = false;
    const interrupted = await runFanout(smallDemoArgs(crashed), {
      env: { FANOUT_DEMO_TRACE: '1' },
      onStderr: (soFar, child) => {
        if (!killed && soFar.includes(DELIVERY_MARKER)) {
          killed = true;
          child.kill('SIGKILL');
        }
      },
    });
    const restarted = await runFanout(smallDemoArgs(crashed));

    // Assess
    expect(interrupted.signal).toBe('SIGKILL');
    expect(interrupted.stdout).toBe('');
    expect(restarted.code).toBe(0);
    const totals = JSON.parse(restarted.stdout) as Record<string, unknown>;
    expect(durableTotals(totals)).toEqual(durableTotals(expected));
    expect(totals.transportDuplicates).toBe(0);
    expect(totals.auditChainValid).toBe(true);
    // The restart appended nothing: the killed run had posted every event before delivery began.
    expect(totals.eventsAppended).toBe(0);
  });
});

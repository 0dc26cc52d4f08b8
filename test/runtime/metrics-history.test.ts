import { describe, expect, it } from 'vitest';
import type { MetricsSnapshot } from '../../src/runtime/metrics.ts';
import { MetricsHistory } from '../../src/runtime/metrics-history.ts';

/** A metrics source whose snapshots are numbered by `at`, and that fails when told to. */
function source() {
  let at = 0;
  let failing = false;
  return {
    fail(on: boolean) {
      failing = on;
    },
    async snapshot(): Promise<MetricsSnapshot> {
      at++;
      if (failing) throw new Error('queue unreachable');
      return { at } as MetricsSnapshot;
    },
  };
}

describe('MetricsHistory', () => {
  it('keeps the newest samples, oldest first, once the ring has wrapped', async () => {
    // Prepare
    const metrics = source();
    const history = new MetricsHistory({ metrics, capacity: 3 });
    // Act
    for (let i = 0; i < 5; i++) await history.sample();
    // Assess
    expect(history.samples().map((s) => s.at)).toEqual([3, 4, 5]);
  });

  it('leaves a gap for a failed sample instead of throwing', async () => {
    // Prepare
    const metrics = source();
    const history = new MetricsHistory({ metrics, capacity: 5 });
    // Act
    await history.sample();
    metrics.fail(true);
    await history.sample();
    metrics.fail(false);
    await history.sample();
    // Assess
    expect(history.samples().map((s) => s.at)).toEqual([1, 3]);
  });

  it('samples on its own once started, and stops', async () => {
    // Prepare
    const metrics = source();
    const history = new MetricsHistory({ metrics, capacity: 100, intervalMs: 5 });
    // Act
    history.start();
    await expect.poll(() => history.samples().length).toBeGreaterThanOrEqual(3);
    history.stop();
    const stopped = history.samples().length;
    await new Promise((r) => setTimeout(r, 30));
    // Assess
    expect(history.samples().length).toBeLessThanOrEqual(stopped + 1);
  });
});

import { describe, expect, it } from 'vitest';
import { configFrom } from '../../src/cli/args.ts';
import { describeFailure } from '../../src/cli/failure.ts';
import { PipelineThreadError, startPipelineThread } from '../../src/cli/pipeline-thread.ts';
import { InboxNotifier } from '../../src/runtime/inbox-notifier.ts';
import type { MetricsSink } from '../../src/runtime/metrics.ts';

const config = configFrom({}, { FANOUT_DATA_DIR: ':memory:' });
const fixture = (name: string) => new URL(`../fixtures/threads/${name}.ts`, import.meta.url);

function recordingMetrics() {
  const counted: unknown[][] = [];
  const metrics: MetricsSink = {
    eventsAccepted: (n) => counted.push(['events', n]),
    inboxRowsWritten: (n) => counted.push(['inboxRows', n]),
    deliveries: (channel, outcome, n) => counted.push([channel, outcome, n]),
  };
  return { metrics, counted };
}

describe('startPipelineThread', () => {
  it('plays the thread’s live batches into this thread and stops it when asked', async () => {
    // Prepare
    const notifier = new InboxNotifier();
    const woken: string[] = [];
    notifier.watch({ tenantId: 'acme', userId: 'bob' }, () => woken.push('bob'));
    const { metrics, counted } = recordingMetrics();
    // Act
    const thread = await startPipelineThread({
      config,
      live: { changes: notifier, metrics },
      entry: fixture('stop-politely'),
    });
    await thread.stop();
    // Assess
    expect(woken).toEqual(['bob']);
    expect(counted).toContainEqual(['inboxRows', 1]);
    expect(counted).toContainEqual(['push', 'sent', 2]);
  });

  it('rejects the start with the step and error the thread met, printed as on one thread', async () => {
    // Act
    const started = startPipelineThread({
      config,
      live: { changes: new InboxNotifier(), metrics: recordingMetrics().metrics },
      entry: fixture('refuse-setup'),
    });
    const err = await started.then(
      () => undefined,
      (e: unknown) => e,
    );
    // Assess
    expect(describeFailure('serve', err, false)).toBe(
      'fanout: serve failed while opening the data dir /x: the disk is full\n  what to do: free some space\n',
    );
  });

  it('rejects the start when the thread ends before it runs', async () => {
    // Act
    const started = startPipelineThread({
      config,
      live: { changes: new InboxNotifier(), metrics: recordingMetrics().metrics },
      entry: fixture('exit-before-ready'),
    });
    // Assess
    await expect(started).rejects.toThrow(/pipeline thread ended unexpectedly \(exit code 3\)/);
  });

  it('fails `failed` when the running thread dies, and stop() after it returns', async () => {
    // Prepare
    const thread = await startPipelineThread({
      config,
      live: { changes: new InboxNotifier(), metrics: recordingMetrics().metrics },
      entry: fixture('crash-after-ready'),
    });
    // Act
    const err = await thread.failed.catch((e: unknown) => e);
    // Assess
    expect(err).toBeInstanceOf(PipelineThreadError);
    expect((err as Error).message).toBe('the pipeline thread failed: the store went away');
    await expect(thread.stop()).resolves.toBeUndefined();
  });
});

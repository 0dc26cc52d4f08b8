import { describe, expect, it } from 'vitest';
import { applyLiveBatch, type LiveBatch, LiveForwarder } from '../../src/runtime/live-forwarding.ts';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('LiveForwarder', () => {
  it('sends the changes and counts of one turn as one batch, each user once', async () => {
    // Prepare
    const sent: LiveBatch[] = [];
    const forwarder = new LiveForwarder((b) => sent.push(b));
    // Act
    forwarder.rowsWritten('acme', ['bob', 'carol']);
    forwarder.rowsWritten('acme', ['bob']);
    forwarder.pointerWritten('acme', 'star');
    forwarder.readStateChanged({ tenantId: 'acme', userId: 'dan' });
    forwarder.inboxRowsWritten(3);
    forwarder.deliveries('push', 'sent', 2);
    forwarder.deliveries('push', 'sent');
    await nextTurn();
    await nextTurn();
    // Assess
    expect(sent).toEqual([
      {
        rows: [['acme', ['bob', 'carol']]],
        pointers: [['acme', ['star']]],
        reads: [{ tenantId: 'acme', userId: 'dan' }],
        eventsAccepted: 0,
        inboxRows: 3,
        deliveries: [['push', 'sent', 3]],
      },
    ]);
  });

  it('sends nothing for a quiet turn, and swallows a port that cannot post', async () => {
    // Prepare
    const quiet: LiveBatch[] = [];
    new LiveForwarder((b) => quiet.push(b)).flush();
    const broken = new LiveForwarder(() => {
      throw new Error('port closed');
    });
    // Act
    broken.rowsWritten('acme', ['bob']);
    await nextTurn();
    // Assess
    expect(quiet).toEqual([]);
    broken.rowsWritten('acme', ['carol']);
    expect(() => broken.flush()).not.toThrow();
  });

  it('plays a batch into the notifier and the metrics it names', () => {
    // Prepare
    const calls: unknown[][] = [];
    const live = {
      changes: {
        rowsWritten: (t: string, u: readonly string[]) => calls.push(['rows', t, u]),
        pointerWritten: (t: string, a: string) => calls.push(['pointer', t, a]),
        readStateChanged: (u: unknown) => calls.push(['read', u]),
      },
      metrics: {
        eventsAccepted: (n: number) => calls.push(['events', n]),
        inboxRowsWritten: (n: number) => calls.push(['inboxRows', n]),
        deliveries: (c: string, o: string, n?: number) => calls.push(['deliveries', c, o, n]),
      },
    };
    // Act
    applyLiveBatch(
      {
        rows: [['acme', ['bob']]],
        pointers: [['acme', ['star', 'moon']]],
        reads: [{ tenantId: 'acme', userId: 'dan' }],
        eventsAccepted: 1,
        inboxRows: 1,
        deliveries: [['email', 'sent', 4]],
      },
      live,
    );
    // Assess
    expect(calls).toEqual([
      ['rows', 'acme', ['bob']],
      ['pointer', 'acme', 'star'],
      ['pointer', 'acme', 'moon'],
      ['read', { tenantId: 'acme', userId: 'dan' }],
      ['events', 1],
      ['inboxRows', 1],
      ['deliveries', 'email', 'sent', 4],
    ]);
  });
});

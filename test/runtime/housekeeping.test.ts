import { describe, expect, it } from 'vitest';
import { notificationId } from '../../src/domain/ids.ts';
import { INBOX_TTL_MS, liveLowerBound } from '../../src/domain/ttl.ts';
import type { InboxRow } from '../../src/domain/types.ts';
import type { Logger } from '../../src/ports/logger.ts';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
import { openEmbeddedPorts } from '../../src/runtime/embedded.ts';
import { Housekeeper } from '../../src/runtime/housekeeping.ts';
import { inboxRow } from '../support/rows.ts';

const T0 = Date.UTC(2026, 0, 15, 12);
const ALICE = { tenantId: 'acme', userId: 'alice' };

function row(eventId: string, createdAt: number): InboxRow {
  return inboxRow(ALICE, eventId, createdAt);
}

async function embedded(clock: { now(): number }) {
  return openEmbeddedPorts({ config: readRuntimeConfig({ FANOUT_DATA_DIR: ':memory:' }), clock });
}

describe('Housekeeping of the embedded profile', () => {
  it('deletes expired inbox rows, pointers and dedup keys, and keeps live ones', async () => {
    // Prepare
    let now = T0;
    const ports = await embedded({ now: () => now });
    await ports.inbox.putMany([row('old', T0), row('new', T0 + INBOX_TTL_MS / 2)]);
    await ports.feed.put([
      {
        tenantId: 'acme',
        authorId: 'star',
        id: notificationId('star-post', '*', T0),
        eventId: 'star-post',
        type: 'post',
        category: 'content',
        createdAt: T0,
      },
    ]);
    await ports.dedup.claim([{ key: 'acme#k', leaseMs: 1000 }]);
    await ports.dedup.confirm(['acme#k']);
    const window = { name: 'push', limit: 5, windowMs: 60_000 };
    await ports.frequencyCaps.take([
      { tenantId: 'acme', userId: 'alice', slotId: 'acme#n1#push', buckets: [window] },
    ]);
    const housekeeper = new Housekeeper({
      tasks: ports.housekeeping,
      clock: ports.clock,
      logger: ports.logger,
    });
    // Act: one round before anything expired, one after the rows' TTL, the keys' 30 days and the cap window
    const before = await housekeeper.runOnce();
    now = T0 + INBOX_TTL_MS + 1;
    const after = await housekeeper.runOnce();
    // Assess
    expect(before).toEqual({
      inbox: 0,
      'celebrity-feed': 0,
      'preference-changes': 0,
      'frequency-caps': 0,
      dedup: 0,
    });
    expect(after).toEqual({
      inbox: 1,
      'celebrity-feed': 1,
      'preference-changes': 0,
      'frequency-caps': 1,
      dedup: 1,
    });
    const left = await ports.inbox.page(ALICE, { limit: 10, afterId: liveLowerBound(T0) });
    expect(left.map((r) => r.eventId)).toEqual(['new']);
    await ports.close();
  });

  it('logs a failing task by name and still runs the others', async () => {
    // Prepare
    const warnings: unknown[] = [];
    const logger: Logger = { debug() {}, info() {}, warn: (m, a) => warnings.push([m, a]), error() {} };
    const ran: string[] = [];
    const housekeeper = new Housekeeper({
      clock: { now: () => T0 },
      logger,
      tasks: [
        {
          name: 'broken',
          run: async () => {
            throw new Error('disk full at /secret/path');
          },
        },
        {
          name: 'fine',
          run: async () => {
            ran.push('fine');
            return 3;
          },
        },
      ],
    });
    // Act
    const removed = await housekeeper.runOnce();
    // Assess
    expect(removed).toEqual({ fine: 3 });
    expect(ran).toEqual(['fine']);
    expect(warnings).toEqual([['housekeeping task failed', { task: 'broken', error: 'Error' }]]);
  });

  it('stops between rounds when asked', async () => {
    // Prepare
    let rounds = 0;
    const housekeeper = new Housekeeper({
      clock: { now: () => T0 },
      logger: { debug() {}, info() {}, warn() {}, error() {} },
      intervalMs: 60_000,
      tasks: [{ name: 'count', run: async () => ++rounds }],
    });
    // Act
    housekeeper.start();
    await housekeeper.stop();
    // Assess: the first round ran, the minute-long pause was cut short
    expect(rounds).toBe(1);
  });
});

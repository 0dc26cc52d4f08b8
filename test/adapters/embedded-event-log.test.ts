import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedEventLog } from '../../src/adapters/embedded/event-log.ts';
import { eventLogContract, type SettableClock } from '../contracts/event-log.contract.ts';

function settableClock(start: number): SettableClock {
  let now = start;
  return {
    now: () => now,
    set(ms) {
      now = ms;
    },
  };
}

eventLogContract('embedded', async () => {
  const db = new EmbeddedDb({ path: ':memory:' });
  const clock = settableClock(1_700_000_000_000);
  return {
    log: new EmbeddedEventLog({ db, clock }),
    clock,
    async close() {
      db.close();
    },
  };
});

// One shard puts every author on the same shard: order must still hold per author.
eventLogContract('embedded, one shard', async () => {
  const db = new EmbeddedDb({ path: ':memory:' });
  return {
    log: new EmbeddedEventLog({ db, shards: 1 }),
    async close() {
      db.close();
    },
  };
});

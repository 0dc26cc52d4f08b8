import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedDigestSchedule } from '../../src/adapters/embedded/digest-schedule.ts';
import { digestScheduleContract } from '../contracts/digest-schedule.contract.ts';

digestScheduleContract('embedded (SQLite)', async () => {
  const db = new EmbeddedDb({ path: ':memory:' });
  return {
    schedule: new EmbeddedDigestSchedule({ db }),
    breakStore: async () => db.close(),
    close: async () => db.close(),
  };
});

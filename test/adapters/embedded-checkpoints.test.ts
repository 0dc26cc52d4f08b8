import { EmbeddedCheckpoints } from '../../src/adapters/embedded/checkpoints.ts';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { checkpointsContract } from '../contracts/checkpoints.contract.ts';

checkpointsContract('embedded', async () => {
  const db = new EmbeddedDb({ path: ':memory:' });
  return {
    checkpoints: new EmbeddedCheckpoints({ db }),
    async close() {
      db.close();
    },
  };
});

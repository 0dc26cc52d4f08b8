import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedFollowerGraph } from '../../src/adapters/embedded/follower-graph.ts';
import { followerGraphContract } from '../contracts/follower-graph.contract.ts';

followerGraphContract('embedded', async () => {
  const db = new EmbeddedDb({ path: ':memory:' });
  return {
    graph: new EmbeddedFollowerGraph({ db }),
    async close() {
      db.close();
    },
  };
});

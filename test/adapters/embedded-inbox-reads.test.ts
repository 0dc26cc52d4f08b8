import { EmbeddedCelebrityFeed } from '../../src/adapters/embedded/celebrity-feed.ts';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { EmbeddedFollowerGraph } from '../../src/adapters/embedded/follower-graph.ts';
import { EmbeddedInbox } from '../../src/adapters/embedded/inbox.ts';
import { inboxReadsContract } from '../contracts/inbox-reads.contract.ts';

inboxReadsContract('embedded', async () => {
  const db = new EmbeddedDb({ path: ':memory:' });
  return {
    inbox: new EmbeddedInbox({ db }),
    feed: new EmbeddedCelebrityFeed({ db }),
    graph: new EmbeddedFollowerGraph({ db }),
    async close() {
      db.close();
    },
  };
});

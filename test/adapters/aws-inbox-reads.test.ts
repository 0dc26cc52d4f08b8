import { afterAll } from 'vitest';
import { DynamoCelebrityFeed } from '../../src/adapters/aws/celebrity-feed.ts';
import { DynamoFollowerGraph } from '../../src/adapters/aws/follower-graph.ts';
import { DynamoInbox, type UnreadMode } from '../../src/adapters/aws/inbox.ts';
import type { Clock } from '../../src/ports/clock.ts';
import { inboxReadsContract } from '../contracts/inbox-reads.contract.ts';
import { emulatorClients, freshTables } from '../support/aws.ts';

const clients = emulatorClients();
afterAll(() => clients.destroy());

/**
 * The suite writes items of 2026-05-01 on and moves its clock 90 days on; DynamoDB Local deletes
 * expired items in the background like DynamoDB does: keep them for ten years instead (the 90-day
 * bound of every read is the domain's, not the table's).
 */
const TEST_TTL_MS = 10 * 365 * 24 * 60 * 60 * 1000;

function harness(unread: UnreadMode) {
  return async (clock: Clock) => {
    const names = await freshTables(clients, ['inbox', 'celebrityFeed', 'followers']);
    const { documents } = clients;
    return {
      inbox: new DynamoInbox({ documents, tableName: names.inbox, unread, clock, ttlMs: TEST_TTL_MS }),
      feed: new DynamoCelebrityFeed({ documents, tableName: names.celebrityFeed, clock, ttlMs: TEST_TTL_MS }),
      graph: new DynamoFollowerGraph({ documents, tableName: names.followers }),
      async close() {},
    };
  };
}

inboxReadsContract('aws (DynamoDB, unread GSI)', harness('gsi'));
inboxReadsContract('aws (DynamoDB, unread counter)', harness('counter'));

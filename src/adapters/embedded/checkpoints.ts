import type { StatementSync } from 'node:sqlite';
import type { Checkpoints } from '../../ports/event-log.ts';
import { requireText } from '../checks/input.ts';
import type { EmbeddedDb } from './db.ts';
import { storeStep } from './store-step.ts';

export interface EmbeddedCheckpointsOptions {
  readonly db: EmbeddedDb;
}

/**
 * Consumer positions per (consumer, shard), like the lease table of a Kinesis consumer. Not tenant
 * data: a log consumer reads every tenant's records of a shard. Never moves backwards, compared
 * the way `compareSequence` does (longer is later, then lexicographic), inside the upsert itself.
 */
export class EmbeddedCheckpoints implements Checkpoints {
  readonly #get: StatementSync;
  readonly #set: StatementSync;

  constructor(opts: EmbeddedCheckpointsOptions) {
    const sqlite = opts.db.sqlite;
    [this.#get, this.#set] = storeStep('checkpoints set-up', () => {
      sqlite.exec(`
        CREATE TABLE IF NOT EXISTS checkpoints (
          consumer TEXT NOT NULL,
          shard_id TEXT NOT NULL,
          sequence TEXT NOT NULL,
          PRIMARY KEY (consumer, shard_id)
        ) WITHOUT ROWID;
      `);
      return [
        sqlite.prepare('SELECT sequence FROM checkpoints WHERE consumer = ? AND shard_id = ?'),
        sqlite.prepare(
          `INSERT INTO checkpoints (consumer, shard_id, sequence) VALUES (?, ?, ?)
           ON CONFLICT (consumer, shard_id) DO UPDATE SET sequence = excluded.sequence
           WHERE length(excluded.sequence) > length(sequence)
              OR (length(excluded.sequence) = length(sequence) AND excluded.sequence > sequence)`,
        ),
      ];
    });
  }

  async get(consumer: string, shardId: string): Promise<string | undefined> {
    requireText(consumer, 'consumer');
    requireText(shardId, 'shardId');
    const row = storeStep('checkpoint read', () => this.#get.get(consumer, shardId)) as
      | { sequence: string }
      | undefined;
    return row?.sequence;
  }

  async set(consumer: string, shardId: string, sequenceNumber: string): Promise<void> {
    requireText(consumer, 'consumer');
    requireText(shardId, 'shardId');
    requireText(sequenceNumber, 'sequenceNumber');
    storeStep('checkpoint write', () => this.#set.run(consumer, shardId, sequenceNumber));
  }
}

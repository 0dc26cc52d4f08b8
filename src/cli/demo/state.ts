import type { StatementSync } from 'node:sqlite';
import type { EmbeddedDb } from '../../adapters/embedded/db.ts';
import { storeStep } from '../../adapters/embedded/sql-support.ts';

/**
 * What a demo run leaves in its data dir besides the stores' own state: the scenario it seeded,
 * the steps it finished, its clock anchor. Lets a restarted run skip finished seeding steps and
 * refuse a data dir seeded with another scenario.
 */
export class DemoState {
  readonly #get: StatementSync;
  readonly #set: StatementSync;

  constructor(db: EmbeddedDb) {
    const sqlite = db.sqlite;
    [this.#get, this.#set] = storeStep('demo state set-up', () => {
      sqlite.exec(`
        CREATE TABLE IF NOT EXISTS demo_state (
          name TEXT PRIMARY KEY,
          value TEXT NOT NULL
        ) WITHOUT ROWID;
      `);
      return [
        sqlite.prepare('SELECT value FROM demo_state WHERE name = ?'),
        sqlite.prepare(
          'INSERT INTO demo_state (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
        ),
      ];
    });
  }

  get(name: string): string | undefined {
    const row = storeStep('demo state read', () => this.#get.get(name)) as { value: string } | undefined;
    return row?.value;
  }

  set(name: string, value: string): void {
    storeStep('demo state write', () => this.#set.run(name, value));
  }

  /** Runs `step` unless a previous run finished it; marks it done afterwards. */
  async once(name: string, step: () => Promise<void>): Promise<boolean> {
    if (this.get(`done:${name}`) !== undefined) return false;
    await step();
    this.set(`done:${name}`, '1');
    return true;
  }
}

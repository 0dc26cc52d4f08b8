import type { EmbeddedDb } from '../../adapters/embedded/db.ts';
import { storeStep } from '../../adapters/embedded/store-step.ts';

/** Where demo progress is kept: name → value. */
export interface StateStore {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
}

/** Demo state in the embedded SQLite file, so a restarted run resumes. */
export function sqliteStateStore(db: EmbeddedDb): StateStore {
  const sqlite = db.sqlite;
  const [get, set] = storeStep('demo state set-up', () => {
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
  return {
    get: (name) =>
      (storeStep('demo state read', () => get.get(name)) as { value: string } | undefined)?.value,
    set: (name, value) => {
      storeStep('demo state write', () => set.run(name, value));
    },
  };
}

/** Demo state in memory: for profiles whose stores do not outlive the process either. */
export function memoryStateStore(): StateStore {
  const values = new Map<string, string>();
  return { get: (name) => values.get(name), set: (name, value) => void values.set(name, value) };
}

/**
 * What a demo run leaves besides the stores' own state: the scenario it seeded, the steps it
 * finished, its clock anchor. Lets a restarted run skip finished seeding steps and refuse a data
 * dir seeded with another scenario.
 */
export class DemoState {
  readonly #store: StateStore;

  constructor(store: StateStore) {
    this.#store = store;
  }

  get(name: string): string | undefined {
    return this.#store.get(name);
  }

  set(name: string, value: string): void {
    this.#store.set(name, value);
  }

  /** Runs `step` unless a previous run finished it; marks it done afterwards. */
  async once(name: string, step: () => Promise<void>): Promise<boolean> {
    if (this.get(`done:${name}`) !== undefined) return false;
    await step();
    this.set(`done:${name}`, '1');
    return true;
  }
}

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SetupError } from '../lib/setup-error.ts';
import { DB_FILE } from '../runtime/embedded.ts';

/** How a data dir gets its first content, for messages that find none. */
export const FILL_DATA_DIR =
  'run `npm start` (the service) or `npm run fanout -- demo` on it first, or point --data-dir / FANOUT_DATA_DIR at the one they use';

/**
 * The data file of `dataDir`, which a command that only reads or repairs it (dlq) must find:
 * opening a path that is not there would create an empty store, or fail with SQLite's words.
 */
export function existingDataFile(dataDir: string): string {
  if (!existsSync(dataDir)) {
    throw new SetupError(`no data dir at ${dataDir}: nothing has run on it yet`, FILL_DATA_DIR);
  }
  const file = join(dataDir, DB_FILE);
  if (!existsSync(file)) {
    throw new SetupError(`${dataDir} holds no Fanout data file (${DB_FILE})`, FILL_DATA_DIR);
  }
  return file;
}

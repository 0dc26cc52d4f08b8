import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

/**
 * The secret kept in `file`: read, or generated once (32 random bytes as hex) into an owner-only
 * file. `wx` makes two processes opening a fresh directory at once agree on the first secret
 * written: the loser of the race reads the winner's.
 */
export function readOrCreateSecret(file: string): string {
  return readOrCreateSecretFile(file, () => randomBytes(32).toString('hex'));
}

/**
 * The text kept in `file`: read, or `make()` written once into an owner-only file (0600), with the
 * same first-writer-wins rule as {@link readOrCreateSecret}. `make` is called only to try a write.
 */
export function readOrCreateSecretFile(file: string, make: () => string): string {
  try {
    writeFileSync(file, make(), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readFileSync(file, 'utf8').trim();
}

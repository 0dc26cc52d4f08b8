import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

/**
 * The secret kept in `file`: read, or generated once (32 random bytes as hex) into an owner-only
 * file. Two processes opening a fresh directory at once agree on the first secret written: the
 * loser of the race reads the winner's.
 */
export function readOrCreateSecret(file: string): string {
  return readOrCreateSecretFile(file, () => randomBytes(32).toString('hex'));
}

/**
 * The text kept in `file`: read, or `make()` written once into an owner-only file (0600), with the
 * same first-writer-wins rule as {@link readOrCreateSecret}. `make` is called only to try a write.
 */
export function readOrCreateSecretFile(file: string, make: () => string): string {
  // Written whole to a file of this process's own, then linked in: a link either appears complete
  // or fails with EEXIST, so a process racing this one never reads a half-written file, and a
  // crash mid-write leaves no empty secret behind.
  const draft = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    writeFileSync(draft, make(), { mode: 0o600, flag: 'wx' });
    linkSync(draft, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    rmSync(draft, { force: true });
  }
  return readFileSync(file, 'utf8').trim();
}

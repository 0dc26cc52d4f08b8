import { chmodSync, closeSync, existsSync, fchmodSync, mkdirSync, openSync } from 'node:fs';

/**
 * Files of the data dir hold device tokens, email addresses and API-key hashes: only the owner
 * may read them, whatever the process's umask (which can only take permissions away from a mode,
 * never make a too-open one safe, and which a service manager may set to 000).
 */

/** Owner-only directory permissions. */
export const PRIVATE_DIR_MODE = 0o700;
/** Owner-only file permissions. */
export const PRIVATE_FILE_MODE = 0o600;

/** Creates `dir` (and its parents) when missing, and makes it owner-only (0700) either way. */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  chmodSync(dir, PRIVATE_DIR_MODE);
}

/**
 * Opens `path` with `flags` (creating it when missing) as an owner-only file (0600), also when it
 * existed with wider permissions. Returns the descriptor.
 */
export function openPrivateFile(path: string, flags: string): number {
  const fd = openSync(path, flags, PRIVATE_FILE_MODE);
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/** Makes each of `paths` that exists owner-only (0600). */
export function makePrivateFiles(paths: readonly string[]): void {
  for (const path of paths) if (existsSync(path)) chmodSync(path, PRIVATE_FILE_MODE);
}

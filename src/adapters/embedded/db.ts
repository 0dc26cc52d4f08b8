import { closeSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { makePrivateFiles, openPrivateFile } from '../../lib/private-files.ts';
import { sleep } from '../../lib/sleep.ts';

/** How long a statement waits for another connection's write lock before it fails, ms. */
const BUSY_TIMEOUT_MS = 5000;

/** Options for the one SQLite database every embedded adapter shares. */
export interface EmbeddedDbOptions {
  /** File path, or ':memory:' for tests. */
  readonly path: string;
  /**
   * SQLite `synchronous`. NORMAL with WAL keeps every commit across a process crash (SIGKILL);
   * only an OS crash or power loss can drop the last commits. @default 'NORMAL'
   */
  readonly synchronous?: 'OFF' | 'NORMAL' | 'FULL';
  /** Page cache, MiB. @default 256 */
  readonly cacheMiB?: number;
  /** Memory-mapped I/O window for reads, MiB (files only). @default 1024 */
  readonly mmapMiB?: number;
}

/**
 * One `node:sqlite` connection in WAL mode. Adapters take this and create their own tables
 * (`CREATE TABLE IF NOT EXISTS`), so each adapter owns its schema.
 * node:sqlite is synchronous: every statement runs to completion before the next event-loop
 * turn, so there is no interleaving inside a statement or inside `transaction`.
 */
export class EmbeddedDb {
  readonly sqlite: DatabaseSync;
  readonly path: string;
  #depth = 0;
  #lockWaits = 0;

  constructor(opts: EmbeddedDbOptions) {
    this.path = opts.path;
    // The file holds device tokens, addresses and key hashes: created owner-only (0600) whatever
    // the umask. SQLite gives its WAL and shared-memory files the database file's permissions;
    // they are set again after they exist, for a file made by an older version.
    if (opts.path !== ':memory:') closeSync(openPrivateFile(opts.path, 'a'));
    this.sqlite = new DatabaseSync(opts.path);
    this.sqlite.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (opts.path !== ':memory:') {
      switchToWal(this.sqlite);
      makePrivateFiles([`${opts.path}-wal`, `${opts.path}-shm`]);
    }
    this.sqlite.exec(`PRAGMA synchronous = ${opts.synchronous ?? 'NORMAL'}`);
    this.sqlite.exec('PRAGMA foreign_keys = ON');
    // SQLite's default page cache is 2 MiB. Fan-out and delivery write rows keyed by user and
    // notification id all over large B-trees, so most inserts would miss it and wait on the OS;
    // a larger cache (and memory-mapped reads) keeps the hot pages of every index resident.
    this.sqlite.exec(`PRAGMA cache_size = -${(opts.cacheMiB ?? 256) * 1024}`);
    if (opts.path !== ':memory:')
      this.sqlite.exec(`PRAGMA mmap_size = ${(opts.mmapMiB ?? 1024) * 1024 * 1024}`);
    this.sqlite.exec('PRAGMA temp_store = MEMORY');
  }

  /**
   * Runs `fn` in one transaction (nested calls join the outer one). `fn` must be synchronous:
   * an await inside would let other work join the transaction.
   */
  transaction<T>(fn: () => T): T {
    if (this.#depth > 0) return fn();
    this.sqlite.exec('BEGIN IMMEDIATE');
    return this.#runBegun(fn);
  }

  /**
   * `transaction`, for a thread that must not stop while another connection holds the write lock.
   * SQLite's own wait (the busy timeout) sleeps the calling thread, and with it every request of
   * an HTTP API's event loop; here the lock is tried, and while another connection (the pipeline
   * thread of `fanout serve`, a `fanout work` process) holds it the event loop goes on serving and
   * the lock is tried again a millisecond or two later. Past the busy timeout it waits as
   * `transaction` does, and fails as it would.
   */
  async transactionWhenFree<T>(fn: () => T): Promise<T> {
    const deadline = performance.now() + BUSY_TIMEOUT_MS;
    for (let pause = 1; ; pause = Math.min(pause * 2, 4)) {
      // Nested in a running transaction (only a synchronous caller can be): it joins it.
      if (this.#depth > 0) return fn();
      if (performance.now() >= deadline) return this.transaction(fn);
      if (this.#tryBegin()) return this.#runBegun(fn);
      this.#lockWaits++;
      await sleep(pause);
    }
  }

  /** Times `transactionWhenFree` found the write lock taken and waited without blocking. */
  get lockWaits(): number {
    return this.#lockWaits;
  }

  /** BEGIN IMMEDIATE without the busy wait: false if another connection holds the write lock. */
  #tryBegin(): boolean {
    this.sqlite.exec('PRAGMA busy_timeout = 0');
    try {
      this.sqlite.exec('BEGIN IMMEDIATE');
      return true;
    } catch (err) {
      // Extended codes (SQLITE_BUSY_RECOVERY, SQLITE_BUSY_SNAPSHOT) are busy too: their low byte.
      const code = (err as { errcode?: unknown }).errcode;
      if (typeof code === 'number' && (code & 0xff) === SQLITE_BUSY) return false;
      throw err;
    } finally {
      this.sqlite.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
  }

  #runBegun<T>(fn: () => T): T {
    this.#depth++;
    try {
      const result = fn();
      this.#depth--;
      this.sqlite.exec('COMMIT');
      return result;
    } catch (err) {
      this.#depth--;
      // SQLite may have rolled back by itself (disk full, I/O error): a second ROLLBACK would throw
      // and hide the error that matters.
      if (this.sqlite.isTransaction) this.sqlite.exec('ROLLBACK');
      throw err;
    }
  }

  close(): void {
    if (this.sqlite.isOpen) this.sqlite.close();
  }
}

/** SQLite's primary result code for a lock held by another connection. */
const SQLITE_BUSY = 5;

/** Attempts at the switch to WAL, 20 ms apart: a second apart at the most. */
const WAL_ATTEMPTS = 50;

/**
 * Puts the file in WAL mode. Two processes opening the same fresh file at once (`serve` beside
 * `work`) race for the switch, and SQLite answers the loser "database is locked" without waiting
 * on the busy timeout, so the switch is tried again until the winner is done.
 */
function switchToWal(sqlite: DatabaseSync): void {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 1; ; attempt++) {
    try {
      sqlite.exec('PRAGMA journal_mode = WAL');
      return;
    } catch (err) {
      if (attempt >= WAL_ATTEMPTS || !/database is locked/i.test(String((err as Error).message))) throw err;
      // The constructor is synchronous; a short blocking wait happens once, at start-up.
      Atomics.wait(pause, 0, 0, 20);
    }
  }
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';

describe('EmbeddedDb.transactionWhenFree', () => {
  let dir: string | undefined;
  const open: EmbeddedDb[] = [];

  afterEach(() => {
    for (const db of open.splice(0)) db.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  function twoConnections(): [EmbeddedDb, EmbeddedDb] {
    dir = mkdtempSync(join(tmpdir(), 'fanout-lock-'));
    const path = join(dir, 'fanout.db');
    const a = new EmbeddedDb({ path });
    const b = new EmbeddedDb({ path });
    open.push(a, b);
    a.sqlite.exec('CREATE TABLE t (x INTEGER)');
    return [a, b];
  }

  it('waits for another connection’s write lock without blocking its thread, then commits', async () => {
    // Prepare: the other connection holds the write lock
    const [holder, waiter] = twoConnections();
    holder.sqlite.exec('BEGIN IMMEDIATE');
    // Act
    const written = waiter.transactionWhenFree(() => waiter.sqlite.prepare('INSERT INTO t VALUES (1)').run());
    // This thread's event loop still turns while the lock is held.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const waitsWhileHeld = waiter.lockWaits;
    holder.sqlite.exec('COMMIT');
    await written;
    // Assess
    expect(waitsWhileHeld).toBeGreaterThan(0);
    expect(holder.sqlite.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 1 });
  });

  it('rolls back and rethrows what the transaction threw, leaving the lock free', async () => {
    // Prepare
    const [other, db] = twoConnections();
    // Act
    const failed = db.transactionWhenFree(() => {
      db.sqlite.prepare('INSERT INTO t VALUES (1)').run();
      throw new Error('no');
    });
    // Assess
    await expect(failed).rejects.toThrow('no');
    expect(db.sqlite.isTransaction).toBe(false);
    expect(() =>
      other.transaction(() => other.sqlite.prepare('INSERT INTO t VALUES (2)').run()),
    ).not.toThrow();
    expect(other.sqlite.prepare('SELECT x FROM t').all()).toEqual([{ x: 2 }]);
  });
});

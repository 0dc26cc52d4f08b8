import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
import {
  AUDIT_DIR,
  DataDirSecret,
  DB_FILE,
  dataDirSecret,
  openEmbeddedPorts,
} from '../../src/runtime/embedded.ts';
import { MAIN, tempDir } from '../cli/run-fanout.ts';

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe('data dir permissions', () => {
  let umask: number;
  beforeEach(() => {
    // The most permissive umask: every mode the code asks for is what the file gets.
    umask = process.umask(0o000);
  });
  afterEach(() => {
    process.umask(umask);
  });

  it('makes the dir 0700 and the database, its WAL and shm, the audit log and secrets 0600', async () => {
    // Prepare
    const dataDir = join(tempDir('perm'), 'data');
    // Act
    const ports = await openEmbeddedPorts({ config: readRuntimeConfig({ FANOUT_DATA_DIR: dataDir }) });
    try {
      dataDirSecret(dataDir, DataDirSecret.Token);
      const auditDir = join(dataDir, AUDIT_DIR);
      const files = [
        join(dataDir, DB_FILE),
        join(dataDir, `${DB_FILE}-wal`),
        join(dataDir, `${DB_FILE}-shm`),
        join(dataDir, DataDirSecret.Cursor),
        join(dataDir, DataDirSecret.Token),
        ...readdirSync(auditDir).map((f) => join(auditDir, f)),
      ];
      // Assess
      expect(modeOf(dataDir)).toBe(0o700);
      expect(modeOf(auditDir)).toBe(0o700);
      expect(readdirSync(auditDir).length).toBeGreaterThan(0);
      for (const file of files) expect([file, modeOf(file)]).toEqual([file, 0o600]);
    } finally {
      await ports.close();
    }
  });

  it('tightens a data dir and database an older version left world-readable', () => {
    // Prepare
    const dataDir = tempDir('perm-old');
    chmodSync(dataDir, 0o755);
    const dbFile = join(dataDir, DB_FILE);
    new EmbeddedDb({ path: dbFile }).close();
    chmodSync(dbFile, 0o644);
    // Act
    const result = spawnSync(process.execPath, [MAIN, 'tenant', 'list', '--data-dir', dataDir], {
      encoding: 'utf8',
    });
    // Assess
    expect(result.status).toBe(0);
    expect(modeOf(dataDir)).toBe(0o700);
    expect(modeOf(dbFile)).toBe(0o600);
  });

  it('holds under umask 000 for a CLI command that makes the data dir', () => {
    // Prepare
    const dataDir = join(tempDir('perm-cli'), 'fresh');
    // Act: the user's shell with the most permissive umask
    const result = spawnSync(
      'sh',
      [
        '-c',
        `umask 000 && exec "$0" "$1" tenant create acme --data-dir "$2"`,
        process.execPath,
        MAIN,
        dataDir,
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, FANOUT_LOG_LEVEL: 'silent' },
      },
    );
    // Assess
    expect(result.status).toBe(0);
    expect(modeOf(dataDir)).toBe(0o700);
    expect(modeOf(join(dataDir, DB_FILE))).toBe(0o600);
  });
});

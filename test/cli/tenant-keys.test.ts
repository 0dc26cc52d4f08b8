import { describe, expect, it } from 'vitest';
import { client, startServer } from '../http/server.ts';
import { runFanout, tempDir } from './run-fanout.ts';

describe('fanout tenant key create|list|revoke', () => {
  it('rotates a key of a running service: both work during the rotation, the revoked one fails at once', async () => {
    // Prepare: a running service and a tenant made by the CLI on its data dir
    const dataDir = tempDir('keys');
    const env = { FANOUT_DATA_DIR: dataDir };
    const created = await runFanout(['tenant', 'create', 'acme', '--json'], { env });
    const oldKey = JSON.parse(created.stdout).apiKey as string;
    const server = await startServer({ FANOUT_RATE_LIMIT: '0' }, dataDir);
    try {
      const asKey = (key: string) => client(server.url, key)('GET', '/v1/users/u1/preferences');
      // Act
      const added = await runFanout(['tenant', 'key', 'create', 'acme', '--json'], { env });
      const newKey = JSON.parse(added.stdout).apiKey as string;
      const during = [(await asKey(oldKey)).status, (await asKey(newKey)).status];
      const listed = await runFanout(['tenant', 'key', 'list', 'acme'], { env });
      const oldId = listed.stdout
        .trim()
        .split('\n')
        .map((line) => line.split('\t')[0]!)
        .find((id) => id !== JSON.parse(added.stdout).keyId)!;
      const revoked = await runFanout(['tenant', 'key', 'revoke', 'acme', oldId], { env });
      const after = [(await asKey(oldKey)).status, (await asKey(newKey)).status];
      const last = await runFanout(['tenant', 'key', 'revoke', 'acme', JSON.parse(added.stdout).keyId], {
        env,
      });
      // Assess
      expect([created.code, added.code, listed.code, revoked.code]).toEqual([0, 0, 0, 0]);
      expect(listed.stdout.trim().split('\n')).toHaveLength(2);
      expect(listed.stdout).not.toContain(newKey);
      expect(during).toEqual([404, 404]);
      expect(revoked.stdout).toBe(`key ${oldId} revoked\n`);
      expect(after).toEqual([401, 404]);
      expect(last.code).toBe(1);
      expect(last.stderr).toContain('last key');
    } finally {
      await server.stop();
    }
  });

  it('refuses bad arguments with usage errors and unknown tenants with a failure', async () => {
    // Prepare
    const env = { FANOUT_DATA_DIR: tempDir('keys-bad') };
    // Act
    const results = await Promise.all([
      runFanout(['tenant', 'key', 'rotate', 'acme'], { env }),
      runFanout(['tenant', 'key', 'revoke', 'acme', 'nothex'], { env }),
      runFanout(['tenant', 'key', 'list'], { env }),
      runFanout(['tenant', 'key', 'list', 'nobody'], { env }),
    ]);
    // Assess
    expect(results.map((r) => r.code)).toEqual([2, 2, 2, 1]);
    expect(results[3]!.stderr).toContain('NOT_FOUND');
  });
});

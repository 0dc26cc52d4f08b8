import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SetupError } from '../../src/lib/setup-error.ts';
import type { PushMessage } from '../../src/ports/transports.ts';
import { ensureRedis, freePort } from '../../src/runtime/local-aws/emulators.ts';
import { clearRedisKeys, openLocalAws } from '../../src/runtime/local-aws/profile.ts';
import { tempDir } from '../cli/run-fanout.ts';
import { closeRedis, emulatorEndpoints, readyRedis, uniqueName } from '../support/aws.ts';

const OPTIONS = { shards: 1, celebrityThreshold: 1000, tierHysteresis: 0.1, cursorSecret: 'x'.repeat(32) };

describe('openLocalAws', () => {
  it('starts its own emulators and writes through Redis at once (the first command waits for the connection)', async () => {
    // Prepare: no endpoints, so the profile starts every emulator itself, as `start:local-aws`
    // does; its first Redis command runs right after the client is made.
    // Act
    const profile = await openLocalAws({ ...OPTIONS });
    try {
      const first = await profile.ports.dedup.claim([{ key: 'k1', leaseMs: 60_000 }]);
      // Assess
      expect(first).toEqual(['acquired']);
    } finally {
      await profile.close();
    }
  });

  it('opened again on a given prefix and sinks file, keeps its dedup claims and recorded sends', async () => {
    // Prepare: a run on the test's emulators under a fixed prefix, its sinks in a file, that
    // claims a delivery and records its send, then closes as a killed run would have left them
    const dir = tempDir('local-aws-reopen');
    const prefix = uniqueName('reopen');
    const opts = { ...OPTIONS, endpoints: emulatorEndpoints(), prefix, sinkDbPath: join(dir, 'sinks.db') };
    const first = await openLocalAws(opts);
    const message: PushMessage = {
      tenantId: 't',
      userId: 'u',
      token: 'tok',
      platform: 'apns',
      title: 'T',
      body: 'B',
      category: 'social',
      collapseId: 'c1',
      messageId: 'm1',
    };
    try {
      await first.ports.dedup.claim([{ key: 'k1', leaseMs: 60_000 }]);
      await first.pushSink.send(message);
    } finally {
      await first.close();
    }
    // Act: open the same prefix and file again (provisioning meets what exists)
    const again = await openLocalAws(opts);
    try {
      const claimed = await again.ports.dedup.claim([{ key: 'k1', leaseMs: 60_000 }]);
      const stats = await again.pushSink.stats();
      // Assess: the claim is still held, and the send is still on record
      expect(claimed).toEqual(['busy']);
      expect(stats).toMatchObject({ sends: 1, unique: 1, duplicates: 0 });
    } finally {
      await again.close();
      const redis = await readyRedis();
      await clearRedisKeys(redis, prefix);
      await closeRedis(redis);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says Redis is not reachable, and where, when nothing answers there', async () => {
    // Prepare
    const port = await freePort();
    const endpoints = { ...emulatorEndpoints(), redis: `redis://127.0.0.1:${port}` };
    // Act
    const opening = openLocalAws({ ...OPTIONS, endpoints });
    // Assess
    await expect(opening).rejects.toThrow(SetupError);
    await expect(opening).rejects.toThrow(`Redis is not reachable at 127.0.0.1:${port}`);
    await opening.catch((err: SetupError) => expect(err.todo).toMatch(/start Redis there/));
  });
});

describe('ensureRedis', () => {
  it('says what to do when no Redis answers and redis-server is not on the PATH', async () => {
    // Prepare
    const port = await freePort();
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      // Act
      const starting = ensureRedis(port);
      // Assess
      await expect(starting).rejects.toThrow(
        `Redis is not reachable at 127.0.0.1:${port} and redis-server is not on the PATH to start one`,
      );
      await starting.catch((err: SetupError) => expect(err.todo).toMatch(/install redis-server/));
    } finally {
      process.env.PATH = path;
    }
  });
});

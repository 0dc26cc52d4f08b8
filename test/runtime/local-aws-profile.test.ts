import { describe, expect, it } from 'vitest';
import { SetupError } from '../../src/lib/setup-error.ts';
import { ensureRedis, freePort } from '../../src/runtime/local-aws/emulators.ts';
import { openLocalAws } from '../../src/runtime/local-aws/profile.ts';
import { emulatorEndpoints } from '../support/aws.ts';

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

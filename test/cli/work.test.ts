import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { client, eventually, type RunningServer, startServer } from '../http/server.ts';
import { MAIN, runFanout, tempDir } from './run-fanout.ts';

/** `fanout work` on `dataDir`; resolves once it is running. */
async function startWorker(dataDir: string): Promise<{ stop(): Promise<number | null> }> {
  const child: ChildProcess = spawn(process.execPath, [MAIN, 'work'], {
    env: { ...process.env, FANOUT_LOG_LEVEL: 'silent', FANOUT_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (out.includes('working on')) resolve();
    });
    void exited.then((code) => reject(new Error(`work exited with ${code}`)));
  });
  return {
    stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('the service split over two processes (serve with FANOUT_PIPELINE=off, and work)', () => {
  let server: RunningServer | undefined;
  let worker: { stop(): Promise<number | null> } | undefined;
  afterEach(async () => {
    await server?.stop();
    await worker?.stop();
    server = undefined;
    worker = undefined;
  });

  it('accepts events in one process and fans them out and delivers them in the other', async () => {
    // Prepare
    const dataDir = tempDir('split');
    server = await startServer({ FANOUT_PIPELINE: 'off' }, dataDir);
    const api = client(server.url, server.devKey);
    expect((await api('PUT', '/v1/users/author/followers/reader')).status).toBe(204);
    await api('PUT', '/v1/users/reader/preferences', { consent: { push: true } });
    await api('PUT', '/v1/users/reader/devices/token-reader-1', { platform: 'apns' });
    const { body } = await api('POST', '/v1/users/reader/tokens');
    const reader = client(server.url, body.token as string);
    // Act: the event waits in the log until a worker runs
    expect((await api('POST', '/v1/events', { id: 'split-1', type: 'post', actorId: 'author' })).status).toBe(
      202,
    );
    const before = await reader('GET', '/v1/me/inbox');
    worker = await startWorker(dataDir);
    const after = await eventually(async () => {
      const res = await reader('GET', '/v1/me/inbox');
      return res.body.items.length > 0 ? res.body : undefined;
    });
    // Assess
    expect(before.body.items).toEqual([]);
    expect(after.items.map((i: { eventId: string }) => i.eventId)).toEqual(['split-1']);
    expect(await server.stop()).toBe(143);
    expect(await worker.stop()).toBe(143);
    server = undefined;
    worker = undefined;
    const verify = await runFanout(['audit', 'verify', '--json'], { env: { FANOUT_DATA_DIR: dataDir } });
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ valid: true });
    expect(JSON.parse(verify.stdout).records).toBeGreaterThan(0);
  });
});

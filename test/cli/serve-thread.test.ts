import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { client, eventually, startServer } from '../http/server.ts';
import { listen } from '../http/sse-client.ts';
import { runFanout, tempDir } from './run-fanout.ts';

/**
 * `fanout serve` with its pipeline on a worker thread (the embedded profile on a data file): the
 * API's thread still hears every write at once, stops the thread gracefully, and reports the
 * thread's failures as its own.
 */
describe('fanout serve with the pipeline on its own thread', () => {
  const dirs: string[] = [];
  const dir = (name: string) => {
    const d = tempDir(name);
    dirs.push(d);
    return d;
  };

  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('wakes a live stream at once with what the pipeline thread wrote, with no poll to fall back on', async () => {
    // Prepare: streams poll once an hour, so only a wake-up from the pipeline thread can deliver
    const server = await startServer({ FANOUT_STREAM_POLL_MS: '3600000' }, dir('wake'));
    try {
      const api = client(server.url, server.devKey);
      await api('PUT', '/v1/users/alice/followers/bob');
      const { token } = (await api('POST', '/v1/users/bob/tokens')).body as { token: string };
      const stream = await listen(`${server.url}/v1/me/inbox/stream?access_token=${token}`);
      await stream.next('unread-count');
      // Act
      const posted = await api('POST', '/v1/events', { id: 'evt-live', type: 'post', actorId: 'alice' });
      const arrived = await stream.next('notification');
      const count = await stream.next('unread-count');
      stream.close();
      // Assess
      expect(posted.status).toBe(202);
      expect(JSON.parse(arrived.data)).toMatchObject({ eventId: 'evt-live', actorId: 'alice' });
      expect(JSON.parse(count.data)).toMatchObject({ count: 1 });
      // The operator's counts include the thread's inbox rows.
      const metrics = await eventually(async () => {
        const m = (await api('GET', '/v1/ops/metrics')).body;
        return m.inboxRows.total >= 1 ? m : undefined;
      });
      expect(metrics.events.total).toBe(1);
    } finally {
      expect(await server.stop()).toBe(143);
    }
  });

  it('on SIGTERM stops the API, lets the thread drain, exits 143, and a restart loses nothing', async () => {
    // Prepare: one author with followers, and events posted right before the signal
    const dataDir = dir('drain');
    const first = await startServer({}, dataDir);
    const api = client(first.url, first.devKey);
    const followers = Array.from({ length: 40 }, (_, i) => `f${i}`);
    for (const f of followers) await api('PUT', `/v1/users/carol/followers/${f}`);
    for (const f of followers)
      await api('PUT', `/v1/users/${f}/devices/tok-${f}`, { platform: 'fcm' }).then((r) =>
        expect(r.status).toBeLessThan(300),
      );
    for (const f of followers)
      await api('PUT', `/v1/users/${f}/preferences`, { consent: { push: true } }).then((r) =>
        expect(r.status).toBeLessThan(300),
      );
    const posts = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        api('POST', '/v1/events', { id: `evt-${i}`, type: 'post', actorId: 'carol' }),
      ),
    );
    // Act
    const code = await first.stop();
    const second = await startServer({}, dataDir, first.devKey);
    const token = (
      (await client(second.url, second.devKey)('POST', '/v1/users/f39/tokens')).body as {
        token: string;
      }
    ).token;
    const reader = client(second.url, token);
    const inbox = await eventually(async () => {
      const page = (await reader('GET', '/v1/me/inbox?limit=50')).body as { items: unknown[] };
      return page.items.length === 20 ? page : undefined;
    });
    // Every push of the 20 posts to the 40 devices, over both runs: none lost, none sent twice.
    const pushes = await eventually(async () => {
      const sends = recordedPushes(join(dataDir, 'fanout.db'));
      return sends.messages === 800 ? sends : undefined;
    }, 2_000);
    expect(await second.stop()).toBe(143);
    const audit = await runFanout(['audit', 'verify', '--data-dir', dataDir]);
    // Assess
    expect(posts.every((p) => p.status === 202)).toBe(true);
    expect(code).toBe(143);
    expect(inbox.items).toHaveLength(20);
    expect(pushes).toEqual({ messages: 800, sends: 800, duplicates: 0 });
    expect(audit.code).toBe(0);
  });

  it('killed with SIGKILL right after its 202s loses no accepted event: a restart fans them all out', async () => {
    // Prepare: every post accepted (202), then the kill, with no time given to fan-out
    const dataDir = dir('kill');
    const first = await startServer({}, dataDir);
    const api = client(first.url, first.devKey);
    const followers = Array.from({ length: 40 }, (_, i) => `k${i}`);
    for (const f of followers) await api('PUT', `/v1/users/dave/followers/${f}`);
    const posts = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        api('POST', '/v1/events', { id: `kill-${i}`, type: 'post', actorId: 'dave' }),
      ),
    );
    // Act
    const signal = await first.kill();
    const second = await startServer({}, dataDir, first.devKey);
    const reader = async (user: string) => {
      const { token } = (await client(second.url, second.devKey)('POST', `/v1/users/${user}/tokens`))
        .body as { token: string };
      return client(second.url, token);
    };
    const last = await reader('k39');
    const inbox = await eventually(async () => {
      const page = (await last('GET', '/v1/me/inbox?limit=50')).body as { items: unknown[] };
      return page.items.length === 20 ? page : undefined;
    });
    const firstFollower = (await (await reader('k0'))('GET', '/v1/me/inbox?limit=50')).body as {
      items: unknown[];
    };
    expect(await second.stop()).toBe(143);
    // Assess
    expect(posts.every((p) => p.status === 202)).toBe(true);
    expect(signal).toBe('SIGKILL');
    expect(inbox.items).toHaveLength(20);
    expect(firstFollower.items).toHaveLength(20);
  });

  it('a thread that cannot open the data dir fails serve with the message fanout work gives', async () => {
    // Prepare: the audit log's directory is a file, which only the delivering side opens
    const dataDir = dir('refused');
    writeFileSync(join(dataDir, 'audit'), '');
    // Act
    const work = await runFanout(['work', '--data-dir', dataDir]);
    const serve = await runFanout(['serve', '--port', '0', '--data-dir', dataDir]);
    // Assess
    expect(work.code).toBe(1);
    expect(serve.code).toBe(1);
    expect(serve.stderr).toContain('fanout: serve failed while opening the data dir');
    expect(serve.stderr).toBe(work.stderr.replace('fanout: work failed', 'fanout: serve failed'));
    expect(serve.stdout).toBe('');
  });
});

/** What the recording push sink holds: distinct messages, sends in all, duplicates it caught. */
function recordedPushes(dbPath: string): { messages: number; sends: number; duplicates: number } {
  const db = new DatabaseSync(dbPath, { readOnly: true, timeout: 5_000 });
  try {
    const row = db
      .prepare(
        `SELECT count(*) AS messages, coalesce(sum(sends), 0) AS sends, coalesce(sum(duplicates), 0) AS duplicates
         FROM recorded_sends WHERE channel = 'push'`,
      )
      .get() as { messages: number; sends: number; duplicates: number };
    return { messages: row.messages, sends: row.sends, duplicates: row.duplicates };
  } catch {
    // The sink's table is made with its first send.
    return { messages: 0, sends: 0, duplicates: 0 };
  } finally {
    db.close();
  }
}

import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { notificationId, POINTER_RECIPIENT } from '../../src/domain/ids.ts';
import type { InboxRow, UserKey } from '../../src/domain/types.ts';
import { markRead } from '../../src/handlers/inbox.ts';
import { createAuth, hashApiKey } from '../../src/http/auth.ts';
import { type ErrorBody, installErrorHandling } from '../../src/http/errors.ts';
import { STREAM_BACKLOG } from '../../src/http/live-inbox.ts';
import { streamRoutes } from '../../src/http/routes/stream.ts';
import { errorSchema } from '../../src/http/schemas.ts';
import { createUserTokens } from '../../src/http/user-tokens.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
import { type EmbeddedPorts, openEmbeddedPorts } from '../../src/runtime/embedded.ts';
import { InboxNotifier } from '../../src/runtime/inbox-notifier.ts';
import { inboxRow as row } from '../support/rows.ts';

const ALICE: UserKey = { tenantId: 'acme', userId: 'alice' };
const API_KEY = 'fo_acme_stream-test-key';

interface Server {
  readonly app: FastifyInstance;
  readonly ports: EmbeddedPorts;
  readonly notifier: InboxNotifier;
  readonly url: string;
  token(user: UserKey): string;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The stream route alone on a real socket, over in-memory embedded ports and the real auth. */
async function server(
  opts: {
    pollMs?: number;
    heartbeatMs?: number;
    tokenTtlMs?: number;
    maxStreamsPerUser?: number;
    maxStreamsPerTenant?: number;
  } = {},
): Promise<Server> {
  const ports = await openEmbeddedPorts({ config: readRuntimeConfig({ FANOUT_DATA_DIR: ':memory:' }) });
  await ports.tenants.create('acme', hashApiKey(API_KEY), Date.now());
  const tokens = createUserTokens('stream-test-token-secret', opts.tokenTtlMs ?? 60_000);
  const auth = createAuth({ tenants: ports.tenants, tokens, clock: ports.clock });
  const notifier = new InboxNotifier();
  const app = Fastify();
  app.decorateRequest('tenantId', '');
  app.decorateRequest('userId', '');
  installErrorHandling(app, silentLogger);
  app.addSchema(errorSchema);
  const inbox = {
    inbox: ports.inbox,
    feed: ports.feed,
    graph: ports.graph,
    cursors: ports.cursors,
    clock: ports.clock,
  };
  // Without a wake-up, only a poll a minute away would find anything: tests that pass prove the notifier.
  await app.register(streamRoutes, {
    inbox,
    notifier,
    auth,
    pollMs: opts.pollMs ?? 60_000,
    heartbeatMs: opts.heartbeatMs ?? 60_000,
    ...(opts.maxStreamsPerUser === undefined ? {} : { maxStreamsPerUser: opts.maxStreamsPerUser }),
    ...(opts.maxStreamsPerTenant === undefined ? {} : { maxStreamsPerTenant: opts.maxStreamsPerTenant }),
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  cleanups.push(async () => {
    await app.close();
    await ports.close();
  });
  return {
    app,
    ports,
    notifier,
    url: `${address}/v1/me/inbox/stream`,
    token: (user) => tokens.issue(user, Date.now()).token,
  };
}

interface SseEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: string;
}

/** A minimal EventSource over fetch: events in order, comments kept apart. */
async function connect(url: string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let ended = false;
  let notify: () => void = () => {};
  const pump = (async () => {
    if (res.body === null) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk, { stream: true });
        let cut = buffer.indexOf('\n\n');
        while (cut >= 0) {
          parseFrame(buffer.slice(0, cut), events, comments);
          buffer = buffer.slice(cut + 2);
          cut = buffer.indexOf('\n\n');
        }
        notify();
      }
    } catch {
      // Aborted by the test.
    }
    ended = true;
    notify();
  })();
  cleanups.push(async () => {
    abort.abort();
    await pump;
  });
  /** Resolves once `n` events of this type arrived (or rejects when the stream ended first). */
  const waitFor = async (type: string, n = 1): Promise<SseEvent[]> => {
    for (;;) {
      const got = events.filter((e) => e.event === type);
      if (got.length >= n) return got;
      if (ended) throw new Error(`stream ended with ${got.length} ${type} events`);
      await new Promise<void>((resolve) => {
        notify = resolve;
      });
    }
  };
  const closed = async () => {
    await pump;
    return ended;
  };
  return { res, events, comments, waitFor, closed, close: () => abort.abort() };
}

function parseFrame(frame: string, events: SseEvent[], comments: string[]): void {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of frame.split('\n')) {
    if (line.startsWith(':')) comments.push(line.slice(1).trim());
    else if (line.startsWith('id: ')) id = line.slice(4);
    else if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('data: ')) data.push(line.slice(6));
  }
  if (data.length > 0) events.push({ id, event, data: data.join('\n') });
}

async function write(s: Server, rows: InboxRow[]): Promise<void> {
  await s.ports.inbox.putMany(rows);
  const first = rows[0]!;
  s.notifier.rowsWritten(
    first.tenantId,
    rows.map((r) => r.userId),
  );
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setImmediate(r));
}

describe('GET /v1/me/inbox/stream', () => {
  it('sends the unread count at once, then each new item as a notification event with its id', async () => {
    // Prepare
    const s = await server();
    const t = Date.now() - 60_000;
    await s.ports.inbox.putMany([row(ALICE, 'before', t)]);
    const stream = await connect(`${s.url}?access_token=${s.token(ALICE)}`);
    const [initial] = await stream.waitFor('unread-count');
    // Act
    const fresh = row(ALICE, 'after', t + 1000);
    await write(s, [fresh]);
    const [notification] = await stream.waitFor('notification');
    // Assess
    expect(stream.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(JSON.parse(initial!.data)).toEqual({ count: 1, unseen: 1 });
    expect(notification!.id).toBe(fresh.id);
    expect(JSON.parse(notification!.data)).toEqual({
      id: fresh.id,
      type: 'comment',
      actorId: 'bob',
      objectId: null,
      eventId: 'after',
      createdAt: new Date(fresh.createdAt).toISOString(),
      read: false,
      data: null,
      group: null,
      seen: false,
      archived: false,
      title: expect.any(String),
      text: 'bob commented on your post',
      url: null,
      avatarUrl: null,
    });
    const counts = await stream.waitFor('unread-count', 2);
    expect(JSON.parse(counts[1]!.data)).toEqual({ count: 2, unseen: 2 });
    expect(stream.events.filter((e) => e.event === 'notification')).toHaveLength(1);
  });

  it('sends an aggregated item again under its id when it grows where it stands', async () => {
    // Prepare: a like item whose newest actor is newer than the like that joins it later
    const s = await server();
    const t = Date.now() - 60_000;
    const like = (eventId: string, actorId: string, at: number): InboxRow => ({
      ...row(ALICE, eventId, at),
      type: 'like',
      actorId,
      objectId: 'photo-9',
      groupKey: 'like:photo-9',
    });
    await write(s, [like('l-ana', 'ana', t + 2000)]);
    const stream = await connect(`${s.url}?access_token=${s.token(ALICE)}`);
    await stream.waitFor('unread-count');
    // Act: an older like arrives late (another shard), so the item grows without moving
    await write(s, [like('l-ed', 'ed', t + 1000)]);
    const [grown] = await stream.waitFor('notification');
    // Assess
    const item = JSON.parse(grown!.data) as { id: string; group: { actorCount: number; actors: string[] } };
    expect(grown!.id).toBe(like('l-ana', 'ana', t + 2000).id);
    expect(item.group.actorCount).toBe(2);
    expect(stream.events.filter((e) => e.event === 'notification')).toHaveLength(1);
  });

  it('takes the token from the Authorization header too', async () => {
    // Prepare
    const s = await server();
    // Act
    const stream = await connect(s.url, { authorization: `Bearer ${s.token(ALICE)}` });
    const [count] = await stream.waitFor('unread-count');
    // Assess
    expect(stream.res.status).toBe(200);
    expect(JSON.parse(count!.data)).toEqual({ count: 0, unseen: 0 });
  });

  it('finds new items by polling when no one wakes it', async () => {
    // Prepare
    const s = await server({ pollMs: 20 });
    const stream = await connect(`${s.url}?access_token=${s.token(ALICE)}`);
    await stream.waitFor('unread-count');
    // Act
    const quiet = row(ALICE, 'unannounced', Date.now() - 1000);
    await s.ports.inbox.putMany([quiet]);
    const [notification] = await stream.waitFor('notification');
    // Assess
    expect(notification!.id).toBe(quiet.id);
  });

  it('resumes after Last-Event-ID with every newer item, oldest first, and nothing older', async () => {
    // Prepare
    const s = await server();
    const t = Date.now() - 600_000;
    const rows = [0, 1, 2, 3].map((i) => row(ALICE, `e${i}`, t + i * 1000));
    await s.ports.inbox.putMany(rows);
    // Act
    const stream = await connect(s.url, {
      authorization: `Bearer ${s.token(ALICE)}`,
      'last-event-id': rows[1]!.id,
    });
    const sent = await stream.waitFor('notification', 2);
    await stream.waitFor('unread-count');
    // Assess
    expect(sent.map((e) => e.id)).toEqual([rows[2]!.id, rows[3]!.id]);
    expect(stream.events.filter((e) => e.event === 'notification')).toHaveLength(2);
  });

  it(`sends at most ${STREAM_BACKLOG} items on resume: the newest ones`, async () => {
    // Prepare
    const s = await server();
    const t = Date.now() - 3_600_000;
    const rows = Array.from({ length: STREAM_BACKLOG + 30 }, (_, i) => row(ALICE, `b${i}`, t + i * 1000));
    await s.ports.inbox.putMany(rows);
    const older = notificationId('older', ALICE.userId, t - 1000);
    // Act
    const stream = await connect(`${s.url}?access_token=${s.token(ALICE)}&lastEventId=${older}`);
    await stream.waitFor('unread-count');
    // Assess
    const sent = stream.events.filter((e) => e.event === 'notification').map((e) => e.id);
    expect(sent).toHaveLength(STREAM_BACKLOG);
    expect(sent).toEqual(rows.slice(-STREAM_BACKLOG).map((r) => r.id));
  });

  it('sends the new unread count after a read, once woken', async () => {
    // Prepare
    const s = await server();
    const rows = [row(ALICE, 'r1', Date.now() - 5000), row(ALICE, 'r2', Date.now() - 4000)];
    await s.ports.inbox.putMany(rows);
    const stream = await connect(`${s.url}?access_token=${s.token(ALICE)}`);
    await stream.waitFor('unread-count');
    // Act
    await markRead(ALICE, [rows[0]!.id], {
      inbox: s.ports.inbox,
      feed: s.ports.feed,
      graph: s.ports.graph,
      cursors: s.ports.cursors,
      clock: s.ports.clock,
    });
    s.notifier.readStateChanged(ALICE);
    const counts = await stream.waitFor('unread-count', 2);
    // Assess
    expect(counts.map((c) => JSON.parse(c.data).count)).toEqual([2, 1]);
  });

  it("wakes a celebrity's followers when the celebrity's pointer is written", async () => {
    // Prepare
    const s = await server();
    const star = { tenantId: 'acme', userId: 'star' };
    await s.ports.graph.follow([{ tenantId: 'acme', authorId: 'star', followerId: 'alice' }]);
    await s.ports.graph.setTier(star, { tier: 'celebrity', changedAt: Date.now() });
    const stream = await connect(`${s.url}?access_token=${s.token(ALICE)}`);
    await stream.waitFor('unread-count');
    await until(() => s.notifier.watches === 1);
    // Act
    const createdAt = Date.now() - 1000;
    const id = notificationId('star-post', POINTER_RECIPIENT, createdAt);
    await s.ports.feed.put([
      {
        tenantId: 'acme',
        authorId: 'star',
        id,
        eventId: 'star-post',
        type: 'post',
        category: 'content',
        createdAt,
      },
    ]);
    s.notifier.pointerWritten('acme', 'star');
    const [notification] = await stream.waitFor('notification');
    // Assess
    expect(notification!.id).toBe(id);
    expect(JSON.parse(notification!.data).actorId).toBe('star');
  });

  it("never shows another tenant's user of the same id", async () => {
    // Prepare
    const s = await server();
    const stream = await connect(`${s.url}?access_token=${s.token(ALICE)}`);
    await stream.waitFor('unread-count');
    const otherAlice = { tenantId: 'globex', userId: 'alice' };
    // Act
    await write(s, [row(otherAlice, 'globex-event', Date.now() - 2000)]);
    const own = row(ALICE, 'acme-event', Date.now() - 1000);
    await write(s, [own]);
    await stream.waitFor('notification');
    // Assess
    const sent = stream.events.filter((e) => e.event === 'notification');
    expect(sent.map((e) => JSON.parse(e.data).eventId)).toEqual(['acme-event']);
  });

  it('sends heartbeat comments while idle', async () => {
    // Prepare
    const s = await server({ heartbeatMs: 10 });
    // Act
    const stream = await connect(`${s.url}?access_token=${s.token(ALICE)}`);
    await stream.waitFor('unread-count');
    await until(() => stream.comments.length >= 2);
    // Assess
    expect(stream.comments.slice(0, 2)).toEqual(['heartbeat', 'heartbeat']);
  });

  it('refuses a missing or forged token with 401, an API key with 403, a bad Last-Event-ID with 400', async () => {
    // Prepare
    const s = await server();
    // Act
    const none = await fetch(s.url);
    const forged = await fetch(`${s.url}?access_token=${s.token(ALICE).slice(0, -2)}xx`);
    const apiKey = await fetch(s.url, { headers: { authorization: `Bearer ${API_KEY}` } });
    const badId = await fetch(s.url, {
      headers: { authorization: `Bearer ${s.token(ALICE)}`, 'last-event-id': 'not-a-ulid' },
    });
    // Assess
    expect([none.status, forged.status, apiKey.status, badId.status]).toEqual([401, 401, 403, 400]);
    expect(((await none.json()) as ErrorBody).error.code).toBe('UNAUTHORIZED');
    expect(((await forged.json()) as ErrorBody).error.code).toBe('UNAUTHORIZED');
    expect(((await apiKey.json()) as ErrorBody).error.code).toBe('FORBIDDEN');
    expect(((await badId.json()) as ErrorBody).error.code).toBe('VALIDATION');
    expect(s.notifier.watches).toBe(0);
  });

  it('lets go of its watch when the client disconnects', async () => {
    // Prepare
    const s = await server();
    const stream = await connect(`${s.url}?access_token=${s.token(ALICE)}`);
    await stream.waitFor('unread-count');
    await until(() => s.notifier.watches === 1);
    // Act
    stream.close();
    await until(() => s.notifier.watches === 0);
    // Assess
    expect(s.notifier.watches).toBe(0);
  });

  it('ends open streams when the server closes', async () => {
    // Prepare
    const s = await server();
    const stream = await connect(`${s.url}?access_token=${s.token(ALICE)}`);
    await stream.waitFor('unread-count');
    // Act
    await s.app.close();
    // Assess
    expect(await stream.closed()).toBe(true);
    expect(s.notifier.watches).toBe(0);
  });

  it('ends the stream when its token expires, so a leaked token does not read on for ever', async () => {
    // Prepare: tokens that live a quarter of a second
    const s = await server({ tokenTtlMs: 250 });
    const stream = await connect(`${s.url}?access_token=${s.token(ALICE)}`);
    await stream.waitFor('unread-count');
    // Act: nothing but waiting; the server ends the stream by itself
    const ended = await stream.closed();
    // Assess
    expect(ended).toBe(true);
    expect(s.notifier.watches).toBe(0);
  });

  it('refuses more open streams of one user than the cap with 429, and serves other users', async () => {
    // Prepare
    const s = await server({ maxStreamsPerUser: 2 });
    const first = await connect(`${s.url}?access_token=${s.token(ALICE)}`);
    const second = await connect(`${s.url}?access_token=${s.token(ALICE)}`);
    await Promise.all([first.waitFor('unread-count'), second.waitFor('unread-count')]);
    // Act
    const third = await fetch(`${s.url}?access_token=${s.token(ALICE)}`);
    const other = await connect(`${s.url}?access_token=${s.token({ tenantId: 'acme', userId: 'bob' })}`);
    // Assess
    expect(third.status).toBe(429);
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
    expect(other.res.status).toBe(200);
  });

  it('refuses more open streams of one tenant than its cap with 429, serves other tenants, and frees slots on close', async () => {
    // Prepare: a tenant may hold 2 streams, whatever its users
    const s = await server({ maxStreamsPerTenant: 2 });
    const first = await connect(`${s.url}?access_token=${s.token({ tenantId: 'acme', userId: 'u1' })}`);
    const second = await connect(`${s.url}?access_token=${s.token({ tenantId: 'acme', userId: 'u2' })}`);
    await Promise.all([first.waitFor('unread-count'), second.waitFor('unread-count')]);
    // Act
    const third = await fetch(`${s.url}?access_token=${s.token({ tenantId: 'acme', userId: 'u3' })}`);
    const otherTenant = await connect(
      `${s.url}?access_token=${s.token({ tenantId: 'globex', userId: 'u1' })}`,
    );
    await first.close();
    let again: Response | undefined;
    for (let i = 0; i < 50 && again?.status !== 200; i++) {
      await again?.body?.cancel();
      again = await fetch(`${s.url}?access_token=${s.token({ tenantId: 'acme', userId: 'u3' })}`);
      if (again.status !== 200) await new Promise((r) => setTimeout(r, 20));
    }
    // Assess
    expect(third.status).toBe(429);
    expect(await third.json()).toEqual({
      error: { code: 'RATE_LIMITED', message: 'too many open streams for this tenant' },
    });
    expect(otherTenant.res.status).toBe(200);
    expect(again?.status).toBe(200);
    await again?.body?.cancel();
  });

  it('answers HEAD with 404 instead of opening a stream that never ends', async () => {
    // Prepare
    const s = await server();
    // Act
    const head = await fetch(`${s.url}?access_token=${s.token(ALICE)}`, { method: 'HEAD' });
    // Assess
    expect(head.status).toBe(404);
    expect(s.notifier.watches).toBe(0);
  });
});

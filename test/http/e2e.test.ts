import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFanout } from '../cli/run-fanout.ts';
import { client, createTenantKey, eventually, type RunningServer, startServer } from './server.ts';
import { listen } from './sse-client.ts';

/**
 * Black-box: a real `fanout serve` process, spoken to only over HTTP (and the CLI for tenants).
 * The celebrity threshold is low so that a four-follower author is a celebrity.
 */
describe('the service over HTTP', () => {
  let server: RunningServer;
  let acme: ReturnType<typeof client>;
  let globex: ReturnType<typeof client>;
  let globexKey: string;
  let seq = 0;
  const uid = (name: string) => `${name}-${++seq}`;

  beforeAll(async () => {
    server = await startServer({ FANOUT_CELEBRITY_THRESHOLD: '3', FANOUT_TIER_HYSTERESIS: '0' });
    globexKey = await createTenantKey(server.dataDir, 'globex');
    acme = client(server.url, server.devKey);
    globex = client(server.url, globexKey);
  });

  afterAll(async () => {
    await server?.stop();
  });

  async function tokenClient(api: ReturnType<typeof client>, userId: string) {
    const res = await api('POST', `/v1/users/${userId}/tokens`);
    expect(res.status).toBe(201);
    expect(Date.parse(res.body.expiresAt)).toBeGreaterThan(Date.now());
    return { token: res.body.token as string, call: client(server.url, res.body.token) };
  }

  async function inboxOf(call: ReturnType<typeof client>, size: number) {
    return eventually(async () => {
      const res = await call('GET', '/v1/me/inbox');
      return res.status === 200 && res.body.items.length >= size ? res.body : undefined;
    });
  }

  it('shows likes of one post as one item with its newest actors and exact actor count', async () => {
    // Prepare
    const owner = uid('owner');
    const likers = [uid('ana'), uid('bo'), uid('cy'), uid('di')];
    const ownerReader = await tokenClient(acme, owner);
    const like = (actorId: string, id = uid('like')) =>
      acme('POST', '/v1/events', { id, type: 'like', actorId, objectId: 'post-v', recipients: [owner] });
    // Act: four likers, one of them twice
    for (const liker of likers) expect((await like(liker)).status).toBe(202);
    expect((await like(likers[0]!)).status).toBe(202);
    const page = await eventually(async () => {
      const res = await ownerReader.call('GET', '/v1/me/inbox');
      return res.body.items?.[0]?.group?.actorCount === 4 ? res.body : undefined;
    });
    // Assess
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({
      type: 'like',
      objectId: 'post-v',
      actorId: likers[3],
      read: false,
      group: { actors: [likers[3], likers[2], likers[1]], actorCount: 4 },
    });
    expect(typeof page.items[0].group.key).toBe('string');
    const count = await ownerReader.call('GET', '/v1/me/inbox/unread-count');
    expect(count.body).toMatchObject({ count: 1 });
  });

  it('takes an unliked like out of the item, and the item away with the last one', async () => {
    // Prepare
    const owner = uid('owner');
    const [ana, bo] = [uid('ana'), uid('bo')];
    const ownerReader = await tokenClient(acme, owner);
    const send = (body: Record<string, unknown>) =>
      acme('POST', '/v1/events', { objectId: 'post-u', recipients: [owner], ...body });
    const [likeAna, likeBo] = [uid('like'), uid('like')];
    expect((await send({ id: likeAna, type: 'like', actorId: ana })).status).toBe(202);
    expect((await send({ id: likeBo, type: 'like', actorId: bo })).status).toBe(202);
    await eventually(async () => {
      const res = await ownerReader.call('GET', '/v1/me/inbox');
      return res.body.items?.[0]?.group?.actorCount === 2 ? true : undefined;
    });
    // Act
    const unlike = await send({ id: uid('unlike'), type: 'unlike', actorId: bo, retracts: likeBo });
    const bad = await send({ id: uid('unlike'), type: 'unlike', actorId: bo, retracts: 'no such id!' });
    const one = await eventually(async () => {
      const res = await ownerReader.call('GET', '/v1/me/inbox');
      return res.body.items?.[0]?.group?.actorCount === 1 ? res.body : undefined;
    });
    await send({ id: uid('unlike'), type: 'unlike', actorId: ana, retracts: likeAna });
    const none = await eventually(async () => {
      const res = await ownerReader.call('GET', '/v1/me/inbox');
      return res.body.items?.length === 0 ? res.body : undefined;
    });
    // Assess
    expect(unlike.status).toBe(202);
    expect(bad.status).toBe(400);
    expect(one.items[0].group.actors).toEqual([ana]);
    expect(none).toEqual({ items: [], nextCursor: null });
  });

  it('fans an event out to every follower and an explicit recipient, newest first', async () => {
    // Prepare
    const [author, f1, f2, owner] = [uid('author'), uid('f'), uid('f'), uid('owner')];
    expect((await acme('PUT', `/v1/users/${author}/followers/${f1}`)).status).toBe(204);
    const batch = await acme('POST', '/v1/follows:batch', { follows: [{ userId: author, followerId: f2 }] });
    expect(batch).toMatchObject({ status: 200, body: { count: 1 } });
    const reader = await tokenClient(acme, f1);
    const ownerReader = await tokenClient(acme, owner);
    // Act
    const first = await acme('POST', '/v1/events', { id: uid('e'), type: 'post', actorId: author });
    const second = await acme('POST', '/v1/events', {
      id: uid('e'),
      type: 'like',
      actorId: author,
      objectId: 'post-9',
      recipients: [owner],
      data: { title: 'hello', tags: ['a', 'b'] },
    });
    // Assess
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    const page = await inboxOf(reader.call, 2);
    expect(page.items.map((i: { eventId: string }) => i.eventId)).toEqual([
      second.body.eventId,
      first.body.eventId,
    ]);
    expect(page.items[0]).toMatchObject({
      type: 'like',
      actorId: author,
      objectId: 'post-9',
      read: false,
      data: { title: 'hello', tags: ['a', 'b'] },
    });
    expect(new Date(page.items[0].createdAt).toISOString()).toBe(page.items[0].createdAt);
    expect(page.nextCursor).toBeNull();
    const ownerPage = await inboxOf(ownerReader.call, 1);
    expect(ownerPage.items.map((i: { eventId: string }) => i.eventId)).toEqual([second.body.eventId]);
  });

  it('answers the same eventId for the same id and fans out nothing new', async () => {
    // Prepare
    const [author, follower] = [uid('author'), uid('f')];
    await acme('PUT', `/v1/users/${author}/followers/${follower}`, { alerts: true });
    const reader = await tokenClient(acme, follower);
    const body = { id: uid('e'), type: 'post', actorId: author };
    // Act
    const first = await acme('POST', '/v1/events', body);
    const again = await acme('POST', '/v1/events', body);
    const marker = await acme('POST', '/v1/events', { id: uid('e'), type: 'post', actorId: author });
    // Assess
    expect(again).toMatchObject({ status: 202, body: first.body });
    const page = await inboxOf(reader.call, 2);
    // The marker event was accepted after both, so once it is in, the duplicate would be too.
    expect(page.items.map((i: { eventId: string }) => i.eventId)).toEqual([marker.body.eventId, body.id]);
  });

  it('pages by cursor without repeats, and refuses a tampered or foreign cursor', async () => {
    // Prepare
    const [author, follower, other] = [uid('author'), uid('f'), uid('f')];
    await acme('PUT', `/v1/users/${author}/followers/${follower}`);
    await acme('PUT', `/v1/users/${author}/followers/${other}`);
    for (let i = 0; i < 5; i++)
      await acme('POST', '/v1/events', { id: uid('e'), type: 'post', actorId: author });
    const reader = await tokenClient(acme, follower);
    const otherReader = await tokenClient(acme, other);
    await inboxOf(reader.call, 5);
    // Act
    const pages = [];
    let cursor: string | null = null;
    do {
      const res = await reader.call('GET', `/v1/me/inbox?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      pages.push(res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor !== null && pages.length < 10);
    const firstCursor = (await reader.call('GET', '/v1/me/inbox?limit=2')).body.nextCursor as string;
    const tampered = `${firstCursor.slice(0, -1)}${firstCursor.endsWith('A') ? 'B' : 'A'}`;
    const tamperedRes = await reader.call('GET', `/v1/me/inbox?cursor=${tampered}`);
    const foreignRes = await otherReader.call('GET', `/v1/me/inbox?cursor=${firstCursor}`);
    // Assess
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    const ids = pages.flat().map((i: { id: string }) => i.id);
    expect(new Set(ids).size).toBe(5);
    expect([...ids].sort().reverse()).toEqual(ids);
    expect(tamperedRes).toMatchObject({ status: 400, body: { error: { code: 'INVALID_CURSOR' } } });
    expect(foreignRes).toMatchObject({ status: 400, body: { error: { code: 'INVALID_CURSOR' } } });
  });

  it('changes the unread count at once on read and read-all', async () => {
    // Prepare
    const [author, follower] = [uid('author'), uid('f')];
    await acme('PUT', `/v1/users/${author}/followers/${follower}`);
    for (let i = 0; i < 3; i++)
      await acme('POST', '/v1/events', { id: uid('e'), type: 'post', actorId: author });
    const reader = await tokenClient(acme, follower);
    const page = await inboxOf(reader.call, 3);
    const count = async () => (await reader.call('GET', '/v1/me/inbox/unread-count')).body.count;
    const before = await count();
    // Act
    const one = await reader.call('POST', `/v1/me/inbox/${page.items[1].id}/read`);
    const afterOne = await count();
    const readItem = (await reader.call('GET', '/v1/me/inbox')).body.items[1];
    const all = await reader.call('POST', '/v1/me/inbox/read-all');
    // Assess
    expect(before).toBe(3);
    expect(one.status).toBe(204);
    expect(afterOne).toBe(2);
    expect(readItem.read).toBe(true);
    expect(all.status).toBe(204);
    expect(await count()).toBe(0);
  });

  it("merges a celebrity's events into every follower's inbox and unread count", async () => {
    // Prepare: four followers put the author over the threshold of 3.
    const celebrity = uid('celeb');
    const fans = [uid('fan'), uid('fan'), uid('fan'), uid('fan')];
    await acme('POST', '/v1/follows:batch', {
      follows: fans.map((followerId) => ({ userId: celebrity, followerId })),
    });
    const readers = await Promise.all(fans.map((f) => tokenClient(acme, f)));
    // Act
    const posted = await acme('POST', '/v1/events', { id: uid('e'), type: 'post', actorId: celebrity });
    // Assess
    for (const reader of readers) {
      const page = await inboxOf(reader.call, 1);
      expect(page.items[0]).toMatchObject({ eventId: posted.body.eventId, actorId: celebrity, read: false });
      expect((await reader.call('GET', '/v1/me/inbox/unread-count')).body).toMatchObject({ count: 1 });
    }
    const first = readers[0]!;
    const itemId = (await first.call('GET', '/v1/me/inbox')).body.items[0].id;
    expect((await first.call('POST', `/v1/me/inbox/${itemId}/read`)).status).toBe(204);
    expect((await first.call('GET', '/v1/me/inbox/unread-count')).body).toMatchObject({ count: 0 });
    expect((await readers[1]!.call('GET', '/v1/me/inbox/unread-count')).body).toMatchObject({ count: 1 });
  });

  it("reaches a celebrity's new follower from the follow on, and keeps what came while following", async () => {
    // Prepare: a celebrity with four fans who posted once before the newcomer followed
    const celebrity = uid('celeb');
    const fans = [uid('fan'), uid('fan'), uid('fan'), uid('fan')];
    await acme('POST', '/v1/follows:batch', {
      follows: fans.map((followerId) => ({ userId: celebrity, followerId })),
    });
    const fan = await tokenClient(acme, fans[0]!);
    const newcomer = uid('newcomer');
    const reader = await tokenClient(acme, newcomer);
    const before = await acme('POST', '/v1/events', { id: uid('e'), type: 'post', actorId: celebrity });
    await inboxOf(fan.call, 1);
    // Act
    expect((await acme('PUT', `/v1/users/${celebrity}/followers/${newcomer}`)).status).toBe(204);
    const during = await acme('POST', '/v1/events', { id: uid('e'), type: 'post', actorId: celebrity });
    await inboxOf(fan.call, 2);
    expect((await acme('DELETE', `/v1/users/${celebrity}/followers/${newcomer}`)).status).toBe(204);
    const after = await acme('POST', '/v1/events', { id: uid('e'), type: 'post', actorId: celebrity });
    await inboxOf(fan.call, 3);
    // Assess
    const page = (await reader.call('GET', '/v1/me/inbox')).body;
    expect(page.items.map((i: { eventId: string }) => i.eventId)).toEqual([during.body.eventId]);
    expect((await reader.call('GET', '/v1/me/inbox/unread-count')).body).toMatchObject({ count: 1 });
    expect([before.status, after.status]).toEqual([202, 202]);
  });

  it('keeps tenants apart: keys, tokens, cursors and notifications of one never reach the other', async () => {
    // Prepare: the same user ids in both tenants.
    const [author, follower] = [uid('author'), uid('f')];
    await acme('PUT', `/v1/users/${author}/followers/${follower}`);
    await acme('PUT', `/v1/users/${follower}/preferences`, { timezone: 'Europe/Paris' });
    await acme('POST', '/v1/events', { id: uid('e'), type: 'post', actorId: author });
    await acme('POST', '/v1/events', { id: uid('e'), type: 'post', actorId: author });
    const acmeReader = await tokenClient(acme, follower);
    const globexReader = await tokenClient(globex, follower);
    await inboxOf(acmeReader.call, 2);
    const acmePage = (await acmeReader.call('GET', '/v1/me/inbox?limit=1')).body;
    // Act
    const globexInbox = await globexReader.call('GET', '/v1/me/inbox');
    const globexCount = await globexReader.call('GET', '/v1/me/inbox/unread-count');
    const foreignCursor = await globexReader.call('GET', `/v1/me/inbox?cursor=${acmePage.nextCursor}`);
    const foreignRead = await globexReader.call('POST', `/v1/me/inbox/${acmePage.items[0].id}/read`);
    const foreignPrefs = await globex('GET', `/v1/users/${follower}/preferences`);
    // Assess
    expect(globexInbox.body).toEqual({ items: [], nextCursor: null });
    expect(globexCount.body).toMatchObject({ count: 0 });
    expect(foreignCursor).toMatchObject({ status: 400, body: { error: { code: 'INVALID_CURSOR' } } });
    expect(foreignRead).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect(foreignPrefs).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect((await acmeReader.call('GET', '/v1/me/inbox/unread-count')).body).toMatchObject({ count: 2 });
    expect(JSON.stringify([globexInbox.body, foreignRead.body, foreignPrefs.body])).not.toContain('dev');
  });

  it('streams new notifications live over SSE, to their own tenant only', async () => {
    // Prepare: the same user id in both tenants, each listening
    const [author, follower] = [uid('author'), uid('f')];
    await acme('PUT', `/v1/users/${author}/followers/${follower}`);
    const acmeReader = await tokenClient(acme, follower);
    const globexReader = await tokenClient(globex, follower);
    const acmeStream = await listen(`${server.url}/v1/me/inbox/stream?access_token=${acmeReader.token}`);
    const globexStream = await listen(`${server.url}/v1/me/inbox/stream?access_token=${globexReader.token}`);
    await Promise.all([acmeStream.next('unread-count'), globexStream.next('unread-count')]);
    // Act
    const eventId = uid('e');
    await acme('POST', '/v1/events', { id: eventId, type: 'post', actorId: author });
    const arrived = await acmeStream.next('notification');
    const count = await acmeStream.next('unread-count');
    // The next globex event proves its stream is alive; acme's never reached it.
    const globexAuthor = uid('author');
    await globex('PUT', `/v1/users/${globexAuthor}/followers/${follower}`);
    await globex('POST', '/v1/events', { id: uid('e'), type: 'post', actorId: globexAuthor });
    const globexArrived = await globexStream.next('notification');
    // Assess
    expect(JSON.parse(arrived.data)).toMatchObject({ eventId, actorId: author, read: false });
    expect(arrived.id).toBe(JSON.parse(arrived.data).id);
    expect(JSON.parse(count.data)).toMatchObject({ count: 1 });
    expect(JSON.parse(globexArrived.data).actorId).toBe(globexAuthor);
    expect(globexStream.seen.map((e) => e.data).join()).not.toContain(eventId);
    acmeStream.close();
    globexStream.close();
  });

  it('answers every error with its status and a stable code in the envelope', async () => {
    // Prepare
    const anonymous = client(server.url);
    const wrongKey = client(server.url, 'fo_dev_not-a-real-key');
    const reader = await tokenClient(acme, uid('f'));
    const huge = { id: uid('e'), type: 'post', actorId: 'a', data: { text: 'x'.repeat(300 * 1024) } };
    // Act
    const cases = [
      [await anonymous('POST', '/v1/events', { id: 'x', type: 'post', actorId: 'a' }), 401, 'UNAUTHORIZED'],
      [await wrongKey('GET', '/v1/users/a/preferences'), 401, 'UNAUTHORIZED'],
      [await anonymous('GET', '/v1/me/inbox'), 401, 'UNAUTHORIZED'],
      [await reader.call('POST', '/v1/events', { id: 'x', type: 'post', actorId: 'a' }), 403, 'FORBIDDEN'],
      [await acme('GET', '/v1/me/inbox'), 403, 'FORBIDDEN'],
      [await acme('GET', '/v1/nowhere'), 404, 'NOT_FOUND'],
      [await acme('POST', '/v1/events', { id: 'x', type: 'Bad Type', actorId: 'a' }), 400, 'VALIDATION'],
      [
        await acme('POST', '/v1/events', { id: 'x', type: 'post', actorId: 'a', extra: 1 }),
        400,
        'VALIDATION',
      ],
      [await acme('POST', '/v1/events', '{"id": "x", '), 400, 'VALIDATION'],
      [await acme('PUT', '/v1/users/a/followers/a'), 400, 'VALIDATION'],
      [await acme('PUT', '/v1/users/a/preferences', { timezone: 'Mars/Olympus' }), 400, 'VALIDATION'],
      [await reader.call('GET', '/v1/me/inbox?limit=101'), 400, 'VALIDATION'],
      [await reader.call('POST', '/v1/me/inbox/01ARZ3NDEKTSV4RRFFQ69G5FAV/read'), 404, 'NOT_FOUND'],
      [
        await acme('POST', '/v1/events', '<id>x</id>', { 'content-type': 'application/xml' }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [await acme('POST', '/v1/events', huge), 413, 'PAYLOAD_TOO_LARGE'],
    ] as const;
    // Assess
    for (const [res, status, code] of cases) {
      expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
      expect(typeof res.body.error.message).toBe('string');
    }
  });

  it('serves its OpenAPI document and the browsable reference', async () => {
    // Act
    const doc = (await fetch(`${server.url}/openapi.json`).then((r) => r.json())) as { paths: object };
    const docs = await fetch(`${server.url}/docs`);
    // Assess
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/events',
        '/v1/follows:batch',
        '/v1/me/inbox',
        '/v1/users/{userId}/tokens',
      ]),
    );
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });

  it('lists tenants and refuses to create one twice', async () => {
    // Act
    const list = await runFanout(['tenant', 'list', '--json'], { env: { FANOUT_DATA_DIR: server.dataDir } });
    const again = await runFanout(['tenant', 'create', 'globex'], {
      env: { FANOUT_DATA_DIR: server.dataDir },
    });
    const bad = await runFanout(['tenant', 'create', 'bad id!'], {
      env: { FANOUT_DATA_DIR: server.dataDir },
    });
    // Assess
    expect(JSON.parse(list.stdout).tenants.map((t: { tenantId: string }) => t.tenantId)).toEqual([
      'dev',
      'globex',
    ]);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe('');
    expect(bad.code).toBe(2);
  });
});

describe('the service over HTTP, rate limited', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ FANOUT_RATE_LIMIT: '1', FANOUT_RATE_BURST: '2' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('answers 429 RATE_LIMITED with Retry-After past the tenant rate', async () => {
    // Prepare
    const acme = client(server.url, server.devKey);
    // Act: one more than the burst, at once
    const replies = [];
    for (let i = 0; i < 3; i++) replies.push(await acme('GET', '/v1/users/nobody/preferences'));
    // Assess
    const limited = replies.find((r) => r.status === 429);
    expect(limited?.body.error.code).toBe('RATE_LIMITED');
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});

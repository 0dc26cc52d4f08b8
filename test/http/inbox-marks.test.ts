import { afterEach, describe, expect, it } from 'vitest';
import type { InboxRow } from '../../src/domain/types.ts';
import { inboxRow } from '../support/rows.ts';
import { bearer, type TestApp, testApp, userToken } from './support.ts';

const ALICE = { tenantId: 'acme', userId: 'alice' };

describe('HTTP API: inbox tabs, marks and counts', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  /** An app with `n` unread rows of alice, a second apart, and her token. */
  async function seeded(n: number, extra: Partial<InboxRow> = {}) {
    const app = await testApp();
    const now = app.clock.now();
    const rows = Array.from({ length: n }, (_, i) => inboxRow(ALICE, `e${i}`, now - (n - i) * 1000, extra));
    await app.ports.inbox.putMany(rows);
    const headers = bearer(await userToken(app.app, app.keys.acme, 'alice'));
    const call = (method: 'GET' | 'POST', url: string) => app.app.inject({ method, url, headers });
    return { t: app, rows, headers, call };
  }

  it('archives, marks unread and unarchives an item, and lists each tab', async () => {
    // Prepare
    const s = await seeded(3);
    t = s.t;
    const [oldest, middle] = s.rows;
    // Act
    const archived = await s.call('POST', `/v1/me/inbox/${oldest!.id}/archive`);
    const again = await s.call('POST', `/v1/me/inbox/${oldest!.id}/archive`);
    await s.call('POST', `/v1/me/inbox/${middle!.id}/read`);
    const unreadTab = await s.call('GET', '/v1/me/inbox?status=unread');
    const archivedTab = await s.call('GET', '/v1/me/inbox?status=archived');
    const counts = await s.call('GET', '/v1/me/inbox/unread-count');
    const unread = await s.call('POST', `/v1/me/inbox/${middle!.id}/unread`);
    const unarchived = await s.call('POST', `/v1/me/inbox/${oldest!.id}/unarchive`);
    const all = await s.call('GET', '/v1/me/inbox');
    // Assess
    expect([archived, again, unread, unarchived].map((r) => r.statusCode)).toEqual([204, 204, 204, 204]);
    expect(unreadTab.json().items.map((i: { eventId: string }) => i.eventId)).toEqual(['e2']);
    expect(archivedTab.json().items).toMatchObject([{ eventId: 'e0', archived: true, read: true }]);
    expect(counts.json()).toEqual({ count: 1, unseen: 2 });
    expect(all.json().items.map((i: { eventId: string; read: boolean }) => [i.eventId, i.read])).toEqual([
      ['e2', false],
      ['e1', false],
      ['e0', true],
    ]);
    expect((await s.call('GET', '/v1/me/inbox/unread-count')).json()).toEqual({ count: 2, unseen: 3 });
  });

  it('marks everything seen: unseen drops to zero, items say seen, the count stays', async () => {
    // Prepare
    const s = await seeded(2);
    t = s.t;
    // Act
    const seen = await s.call('POST', '/v1/me/inbox/seen');
    const counts = await s.call('GET', '/v1/me/inbox/unread-count');
    const page = await s.call('GET', '/v1/me/inbox');
    // Assess
    expect(seen.statusCode).toBe(204);
    expect(counts.json()).toEqual({ count: 2, unseen: 0 });
    expect(page.json().items.map((i: { seen: boolean }) => i.seen)).toEqual([true, true]);
  });

  it('shows each item with its sentence in the user’s locale, headline and web links only', async () => {
    // Prepare
    const s = await seeded(1, { data: { url: 'https://app.example/p/1', avatarUrl: 'javascript:alert(1)' } });
    t = s.t;
    await t.app.inject({
      method: 'PUT',
      url: '/v1/users/bob/preferences',
      headers: bearer(t.keys.acme),
      payload: { locale: 'de' },
    });
    await t.ports.inbox.putMany([inboxRow({ tenantId: 'acme', userId: 'bob' }, 'b0', t.clock.now() - 500)]);
    const bob = bearer(await userToken(t.app, t.keys.acme, 'bob'));
    // Act
    const english = (await s.call('GET', '/v1/me/inbox')).json().items[0];
    const german = (await t.app.inject({ method: 'GET', url: '/v1/me/inbox', headers: bob })).json().items[0];
    // Assess
    expect(english).toMatchObject({
      text: 'bob commented on your post',
      title: expect.any(String),
      url: 'https://app.example/p/1',
      avatarUrl: null,
      seen: false,
      archived: false,
    });
    expect(german.text).not.toBe(english.text);
    expect(german.text).toContain('bob');
  });

  it('refuses a bad status, a cursor of another tab, unknown and foreign ids, and no token', async () => {
    // Prepare
    const s = await seeded(3);
    t = s.t;
    const bobsRow = inboxRow({ tenantId: 'acme', userId: 'bob' }, 'b0', t.clock.now() - 500);
    await t.ports.inbox.putMany([bobsRow]);
    const firstUnread = (await s.call('GET', '/v1/me/inbox?status=unread&limit=1')).json();
    const unknown = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
    // Act
    const responses = [
      await s.call('GET', '/v1/me/inbox?status=starred'),
      await s.call('GET', `/v1/me/inbox?status=all&cursor=${firstUnread.nextCursor}`),
      await s.call('GET', `/v1/me/inbox?cursor=${firstUnread.nextCursor}`),
      await s.call('POST', `/v1/me/inbox/${unknown}/archive`),
      await s.call('POST', `/v1/me/inbox/${unknown}/unread`),
      await s.call('POST', `/v1/me/inbox/${bobsRow.id}/unarchive`),
      await s.call('POST', `/v1/me/inbox/${bobsRow.id}/archive`),
      await s.call('POST', '/v1/me/inbox/not-an-id/archive'),
      await t.app.inject({ method: 'POST', url: `/v1/me/inbox/${s.rows[0]!.id}/archive` }),
      await t.app.inject({ method: 'POST', url: '/v1/me/inbox/seen' }),
      await t.app.inject({ method: 'GET', url: '/v1/me/inbox?status=archived' }),
    ];
    // Assess
    expect(responses.map((r) => [r.statusCode, r.json().error?.code])).toEqual([
      [400, 'VALIDATION'],
      [400, 'INVALID_CURSOR'],
      [400, 'INVALID_CURSOR'],
      [404, 'NOT_FOUND'],
      [404, 'NOT_FOUND'],
      [404, 'NOT_FOUND'],
      [404, 'NOT_FOUND'],
      [400, 'VALIDATION'],
      [401, 'UNAUTHORIZED'],
      [401, 'UNAUTHORIZED'],
      [401, 'UNAUTHORIZED'],
    ]);
    // Nothing changed: bob's row is his and unread, alice's three are unread and in All.
    const bob = bearer(await userToken(t.app, t.keys.acme, 'bob'));
    const bobs = await t.app.inject({ method: 'GET', url: '/v1/me/inbox', headers: bob });
    expect(bobs.json().items).toMatchObject([{ eventId: 'b0', read: false, archived: false }]);
    expect((await s.call('GET', '/v1/me/inbox/unread-count')).json()).toEqual({ count: 3, unseen: 3 });
  });

  it('describes the new routes in the OpenAPI document', async () => {
    // Prepare
    t = await testApp();
    // Act
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    // Assess
    for (const path of [
      '/v1/me/inbox/{notificationId}/unread',
      '/v1/me/inbox/{notificationId}/archive',
      '/v1/me/inbox/{notificationId}/unarchive',
      '/v1/me/inbox/seen',
    ]) {
      expect(Object.keys(doc.paths[path].post.responses)).toEqual(expect.arrayContaining(['204', '4XX']));
    }
    const page = doc.paths['/v1/me/inbox'].get;
    expect(page.parameters.find((p: { name: string }) => p.name === 'status').schema.enum).toEqual([
      'all',
      'unread',
      'archived',
    ]);
    expect(
      doc.paths['/v1/me/inbox/unread-count'].get.responses['200'].content['application/json'].schema.required,
    ).toEqual(['count', 'unseen']);
  });
});

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { notificationId } from '../../src/domain/ids.ts';
import type { InboxRow } from '../../src/domain/types.ts';
import { FunctionKind } from '../../src/lambda/env.ts';
import { createInboxApiHandler } from '../../src/lambda/inbox-api.ts';
import { captureOutput, fixture, harnessesClosedAfterEach, lambdaContext } from './support.ts';

const harness = harnessesClosedAfterEach();

// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies field by field.
function json(result: APIGatewayProxyStructuredResultV2): any {
  return JSON.parse(result.body ?? '');
}

/** The fixture's request (bob's user token) as `method path?query`. */
function request(method: 'GET' | 'POST', path: string, query = ''): APIGatewayProxyEventV2 {
  const get = fixture<APIGatewayProxyEventV2>('apigw-v2-get-inbox.json');
  const { queryStringParameters: _query, ...event } = get;
  return {
    ...event,
    rawPath: path,
    rawQueryString: query,
    ...(query === '' ? {} : { queryStringParameters: Object.fromEntries(new URLSearchParams(query)) }),
    requestContext: { ...get.requestContext, http: { ...get.requestContext.http, method, path } },
  };
}

describe('inbox API Lambda: tabs, marks and counts', () => {
  it('archives, marks unread and seen, and lists tabs with sentences in the user’s locale', async () => {
    // Prepare: two rows of bob (the fixture's user), his locale German
    const h = harness(FunctionKind.InboxApi);
    const ports = await h.ports();
    const rows: InboxRow[] = [1, 2].map((i) => {
      const at = h.clock.now() - 60_000 + i;
      return {
        tenantId: 'acme',
        userId: 'bob',
        id: notificationId(`evt-${i}`, 'bob', at),
        eventId: `evt-${i}`,
        type: 'comment',
        category: 'social',
        actorId: 'alice',
        createdAt: at,
        read: false,
      };
    });
    await ports.inbox.putMany(rows);
    await ports.preferences.put({
      tenantId: 'acme',
      userId: 'bob',
      timezone: 'UTC',
      locale: 'de',
      consent: {},
      channels: {},
      categories: {},
      updatedAt: h.clock.now() - 60_000,
    });
    const handler = createInboxApiHandler(h.deps);
    const call = async (event: APIGatewayProxyEventV2) =>
      (await captureOutput(() => handler(event, lambdaContext('fanout-inbox-api')))).result;
    // Act
    const archived = await call(request('POST', `/v1/me/inbox/${rows[0]!.id}/archive`));
    const seen = await call(request('POST', '/v1/me/inbox/seen'));
    const unread = await call(request('POST', `/v1/me/inbox/${rows[1]!.id}/unread`));
    const unknown = await call(request('POST', '/v1/me/inbox/01ARZ3NDEKTSV4RRFFQ69G5FAV/unarchive'));
    const badStatus = await call(request('GET', '/v1/me/inbox', 'status=starred'));
    const archivedTab = await call(request('GET', '/v1/me/inbox', 'status=archived'));
    const counts = await call(request('GET', '/v1/me/inbox/unread-count'));
    // Assess
    expect([archived, seen, unread].map((r) => r.statusCode)).toEqual([204, 204, 204]);
    expect([unknown.statusCode, json(unknown).error.code]).toEqual([404, 'NOT_FOUND']);
    expect([badStatus.statusCode, json(badStatus).error.code]).toEqual([400, 'VALIDATION']);
    const [item] = json(archivedTab).items;
    expect(item).toMatchObject({ eventId: 'evt-1', archived: true, read: true, seen: true });
    expect(item.text).toContain('alice');
    expect(item.text).not.toBe('alice commented on your post');
    expect(json(counts)).toEqual({ count: 1, unseen: 0 });
  });
});

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { decodeEvent } from '../../src/domain/event.ts';
import { notificationId } from '../../src/domain/ids.ts';
import { FunctionKind } from '../../src/lambda/env.ts';
import { createEventApiHandler } from '../../src/lambda/event-api.ts';
import { fromInjectResponse, toInjectOptions } from '../../src/lambda/http-adapter.ts';
import { createInboxApiHandler } from '../../src/lambda/inbox-api.ts';
import { captureOutput, fixture, harnessesClosedAfterEach, lambdaContext, metricValues } from './support.ts';

const harness = harnessesClosedAfterEach();

// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies field by field.
function json(result: APIGatewayProxyStructuredResultV2): any {
  expect(result.isBase64Encoded).toBe(false);
  return JSON.parse(result.body ?? '');
}

describe('event API Lambda (API Gateway HTTP API, payload 2.0)', () => {
  it('accepts POST /v1/events with the tenant API key and appends the event to the log', async () => {
    // Prepare
    const h = harness(FunctionKind.EventApi);
    const handler = createEventApiHandler(h.deps);
    // Act
    const { result, lines } = await captureOutput(() =>
      handler(fixture('apigw-v2-post-event.json'), lambdaContext('fanout-event-api')),
    );
    // Assess
    expect(result.statusCode).toBe(202);
    expect(result.headers?.['content-type']).toMatch(/^application\/json/);
    expect(json(result)).toEqual({ eventId: 'evt-http-1' });
    const ports = await h.ports();
    const shards = await ports.log.listShards();
    const logged = (await Promise.all(shards.map((s) => ports.log.read(s, undefined, 10)))).flat();
    expect(logged.map((r) => decodeEvent(r.data).id)).toEqual(['evt-http-1']);
    expect(metricValues(lines)).toMatchObject({ HttpRequests: 1, EventsAccepted: 1 });
  });

  it('decodes a base64 body (UTF-8 included)', async () => {
    // Prepare
    const h = harness(FunctionKind.EventApi);
    const handler = createEventApiHandler(h.deps);
    const event = fixture<APIGatewayProxyEventV2>('apigw-v2-post-event-base64.json');
    // Act
    const { result } = await captureOutput(() => handler(event, lambdaContext('fanout-event-api')));
    // Assess
    expect(event.isBase64Encoded).toBe(true);
    expect(result.statusCode).toBe(202);
    const ports = await h.ports();
    const shards = await ports.log.listShards();
    const logged = (await Promise.all(shards.map((s) => ports.log.read(s, undefined, 10)))).flat();
    expect(logged.map((r) => decodeEvent(r.data).data)).toEqual([{ emoji: 'é👍' }]);
  });

  it('answers a body that is not JSON with the 400 error envelope, and counts a client error', async () => {
    // Prepare
    const h = harness(FunctionKind.EventApi);
    const handler = createEventApiHandler(h.deps);
    // Act
    const { result, lines } = await captureOutput(() =>
      handler(fixture('apigw-v2-post-event-bad-json.json'), lambdaContext('fanout-event-api')),
    );
    // Assess
    expect(result.statusCode).toBe(400);
    expect(json(result)).toEqual({ error: { code: 'VALIDATION', message: 'body: is not valid JSON' } });
    expect(metricValues(lines)).toMatchObject({ HttpRequests: 1, HttpClientErrors: 1 });
  });

  it('builds the app and the ports once per container', async () => {
    // Prepare
    const h = harness(FunctionKind.EventApi);
    const handler = createEventApiHandler(h.deps);
    // Act
    const { result } = await captureOutput(async () => {
      await handler(fixture('apigw-v2-post-event.json'), lambdaContext('fanout-event-api', 'req-1'));
      return handler(fixture('apigw-v2-post-event.json'), lambdaContext('fanout-event-api', 'req-2'));
    });
    // Assess: the repeat is idempotent, as the API promises.
    expect(result.statusCode).toBe(202);
    expect(json(result)).toEqual({ eventId: 'evt-http-1' });
    expect(h.builds()).toBe(1);
  });

  it('sends binary responses base64-encoded', async () => {
    // Prepare
    const h = harness(FunctionKind.EventApi);
    const handler = createEventApiHandler(h.deps);
    // Act
    const { result } = await captureOutput(() =>
      handler(fixture('apigw-v2-get-favicon.json'), lambdaContext('fanout-event-api')),
    );
    // Assess
    expect(result.statusCode).toBe(200);
    expect(result.headers?.['content-type']).toBe('image/png');
    expect(result.isBase64Encoded).toBe(true);
    expect(Buffer.from(result.body ?? '', 'base64').subarray(0, 8)).toEqual(
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    );
  });
});

describe('inbox API Lambda', () => {
  it('reads GET /v1/me/inbox with the user token', async () => {
    // Prepare
    const h = harness(FunctionKind.InboxApi);
    const ports = await h.ports();
    const at = h.clock.now() - 60_000;
    await ports.inbox.putMany([
      {
        tenantId: 'acme',
        userId: 'bob',
        id: notificationId('evt-post-1', 'bob', at),
        eventId: 'evt-post-1',
        type: 'post',
        category: 'content',
        actorId: 'alice',
        createdAt: at,
        read: false,
      },
    ]);
    const handler = createInboxApiHandler(h.deps);
    // Act
    const { result } = await captureOutput(() =>
      handler(fixture('apigw-v2-get-inbox.json'), lambdaContext('fanout-inbox-api')),
    );
    // Assess
    expect(result.statusCode).toBe(200);
    const body = json(result);
    expect(body.items.map((i: { eventId: string }) => i.eventId)).toEqual(['evt-post-1']);
    expect(body.nextCursor).toBeNull();
  });

  it("merges PATCH /v1/me/preferences into what the tenant stored, for the token's own user only", async () => {
    // Prepare
    const h = harness(FunctionKind.InboxApi);
    const ports = await h.ports();
    const stored = {
      tenantId: 'acme',
      userId: 'bob',
      timezone: 'Europe/Paris',
      email: 'bob@example.com',
      consent: { push: true, email: true },
      channels: {},
      categories: {},
      updatedAt: h.clock.now() - 60_000,
    };
    await ports.preferences.put(stored);
    await ports.preferences.put({ ...stored, tenantId: 'globex' });
    const get = fixture<APIGatewayProxyEventV2>('apigw-v2-get-inbox.json');
    const patch: APIGatewayProxyEventV2 = {
      ...get,
      rawPath: '/v1/me/preferences',
      rawQueryString: '',
      headers: { ...get.headers, 'content-type': 'application/json' },
      requestContext: {
        ...get.requestContext,
        http: { ...get.requestContext.http, method: 'PATCH', path: '/v1/me/preferences' },
      },
      body: JSON.stringify({ categories: { social: { push: false } } }),
    };
    const { queryStringParameters: _query, ...withoutQuery } = patch;
    const bad = { ...withoutQuery, body: JSON.stringify({ timezone: 'Nowhere/Else' }) };
    const handler = createInboxApiHandler(h.deps);
    // Act
    const { result } = await captureOutput(() => handler(withoutQuery, lambdaContext('fanout-inbox-api')));
    const { result: refused } = await captureOutput(() => handler(bad, lambdaContext('fanout-inbox-api')));
    // Assess
    expect(result.statusCode).toBe(200);
    expect(refused.statusCode).toBe(400);
    expect(json(refused).error.code).toBe('VALIDATION');
    expect(await ports.preferences.get({ tenantId: 'acme', userId: 'bob' })).toMatchObject({
      timezone: 'Europe/Paris',
      email: 'bob@example.com',
      consent: { push: true, email: true },
      categories: { social: { push: false } },
    });
    expect(await ports.preferences.get({ tenantId: 'globex', userId: 'bob' })).toMatchObject({
      categories: {},
    });
  });

  it('answers the CORS preflight of /v1/me/* that API Gateway sends it unauthorized', async () => {
    // Prepare
    const h = harness(FunctionKind.InboxApi);
    const handler = createInboxApiHandler(h.deps);
    const get = fixture<APIGatewayProxyEventV2>('apigw-v2-get-inbox.json');
    const { authorization: _credential, ...headers } = get.headers;
    const preflight: APIGatewayProxyEventV2 = {
      ...get,
      rawQueryString: '',
      headers: {
        ...headers,
        origin: 'https://app.example.com',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization',
      },
      requestContext: { ...get.requestContext, http: { ...get.requestContext.http, method: 'OPTIONS' } },
    };
    // Act
    const { result } = await captureOutput(() => handler(preflight, lambdaContext('fanout-inbox-api')));
    // Assess
    expect(result.statusCode).toBe(204);
    expect(result.headers?.['access-control-allow-origin']).toBe('*');
    expect(result.headers?.['access-control-allow-headers']).toBe(
      'authorization, content-type, last-event-id',
    );
  });

  it('answers the live stream route 501 with the error envelope instead of hanging', async () => {
    // Prepare
    const h = harness(FunctionKind.InboxApi);
    const handler = createInboxApiHandler(h.deps);
    // Act
    const { result } = await captureOutput(() =>
      handler(fixture('apigw-v2-get-inbox-stream.json'), lambdaContext('fanout-inbox-api')),
    );
    // Assess
    expect(result.statusCode).toBe(501);
    expect(json(result).error.code).toBe('UNAVAILABLE');
  });
});

describe('API Gateway v2 ↔ Fastify conversion', () => {
  it('keeps the raw query, joins cookies, drops a named stage from the path and decodes base64', () => {
    // Prepare
    const event = fixture<APIGatewayProxyEventV2>('apigw-v2-get-inbox.json');
    const staged: APIGatewayProxyEventV2 = {
      ...event,
      rawPath: '/prod/v1/me/inbox',
      rawQueryString: 'limit=5&cursor=a%2Bb',
      requestContext: { ...event.requestContext, stage: 'prod' },
      body: Buffer.from('{"a":1}').toString('base64'),
      isBase64Encoded: true,
    };
    // Act
    const options = toInjectOptions(staged);
    // Assess
    expect(options.url).toBe('/v1/me/inbox?limit=5&cursor=a%2Bb');
    expect(options.method).toBe('GET');
    expect((options.headers as Record<string, string>).cookie).toBe('fanout_theme=dark; fanout_seen=1');
    expect(options.remoteAddress).toBe('203.0.113.7');
    expect(options.payload).toEqual(Buffer.from('{"a":1}'));
  });

  it('turns set-cookie into cookies and joins other repeated headers', async () => {
    // Prepare
    const app = Fastify();
    app.get('/', async (_request, reply) =>
      reply
        .header('set-cookie', ['a=1; Path=/', 'b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT'])
        .header('vary', ['origin', 'accept'])
        .send({ ok: true }),
    );
    // Act
    const result = fromInjectResponse(await app.inject({ method: 'GET', url: '/' }));
    await app.close();
    // Assess
    expect(result.cookies).toEqual(['a=1; Path=/', 'b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT']);
    expect(result.headers?.vary).toBe('origin, accept');
    expect(result.headers?.['set-cookie']).toBeUndefined();
    expect(json(result)).toEqual({ ok: true });
  });
});

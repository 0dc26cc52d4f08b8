import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisRequestBuckets } from '../../src/adapters/aws/request-buckets-redis.ts';
import { FunctionKind } from '../../src/lambda/env.ts';
import { createEventApiHandler } from '../../src/lambda/event-api.ts';
import { createInboxApiHandler } from '../../src/lambda/inbox-api.ts';
import { closeRedis, readyRedis, uniqueName } from '../support/aws.ts';
import {
  captureOutput,
  FIXTURE_ENV,
  FIXTURE_NOW,
  fixture,
  harnessesClosedAfterEach,
  lambdaContext,
  userRequest,
} from './support.ts';

const harness = harnessesClosedAfterEach();
const clients: Redis[] = [];
afterEach(async () => {
  for (const redis of clients.splice(0)) await closeRedis(redis);
});

/** Two containers of one function, each with its own connection to one Redis, as in AWS. */
async function containers(kind: FunctionKind, env: Record<string, string>) {
  const keyPrefix = uniqueName('rl');
  const make = async () => {
    const redis = await readyRedis();
    clients.push(redis);
    return harness(kind, {
      env: { ...FIXTURE_ENV, ...env },
      adjust: (ports) => ({
        ...ports,
        requestBuckets: new RedisRequestBuckets({ redis, keyPrefix, clock: { now: () => FIXTURE_NOW } }),
      }),
    });
  };
  return [await make(), await make()] as const;
}

describe('request limits across Lambda containers', () => {
  it('gives a tenant one bucket whichever container and user token a request reaches', async () => {
    // Prepare: 5 requests at once for the tenant; each user may send 10.
    const [a, b] = await containers(FunctionKind.InboxApi, {
      FANOUT_RATE_LIMIT: '1',
      FANOUT_RATE_BURST: '5',
      FANOUT_USER_RATE_LIMIT: '10',
    });
    const handlers = [createInboxApiHandler(a.deps), createInboxApiHandler(b.deps)];
    // Act: eight users, alternating between the two containers.
    const statuses: number[] = [];
    let refused: Awaited<ReturnType<(typeof handlers)[0]>> | undefined;
    for (let i = 0; i < 8; i++) {
      const { result } = await captureOutput(() =>
        (handlers[i % 2] as (typeof handlers)[0])(
          userRequest(`user-${i}`),
          lambdaContext('fanout-inbox-api'),
        ),
      );
      statuses.push(result.statusCode ?? 0);
      if (result.statusCode === 429) refused ??= result;
    }
    // Assess
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    expect(refused?.headers?.['retry-after']).toBe('1');
    expect(JSON.parse(refused?.body ?? '')).toEqual({
      error: { code: 'RATE_LIMITED', message: 'too many requests for this tenant' },
    });
  });

  it('limits one end user to their share, in every container', async () => {
    // Prepare
    const [a, b] = await containers(FunctionKind.InboxApi, {
      FANOUT_USER_RATE_LIMIT: '1',
      FANOUT_USER_RATE_BURST: '2',
    });
    const handlers = [createInboxApiHandler(a.deps), createInboxApiHandler(b.deps)];
    // Act
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const { result } = await captureOutput(() =>
        (handlers[i % 2] as (typeof handlers)[0])(userRequest('ana'), lambdaContext('fanout-inbox-api')),
      );
      statuses.push(result.statusCode ?? 0);
    }
    const { result: other } = await captureOutput(() =>
      (handlers[0] as (typeof handlers)[0])(userRequest('bo'), lambdaContext('fanout-inbox-api')),
    );
    // Assess
    expect(statuses).toEqual([200, 200, 429, 429]);
    expect(other.statusCode).toBe(200);
  });

  it("limits a tenant's API key on the event API the same way", async () => {
    // Prepare
    const [a, b] = await containers(FunctionKind.EventApi, {
      FANOUT_RATE_LIMIT: '1',
      FANOUT_RATE_BURST: '3',
    });
    const handlers = [createEventApiHandler(a.deps), createEventApiHandler(b.deps)];
    // Act
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const event = fixture<APIGatewayProxyEventV2>('apigw-v2-post-event.json');
      const body = JSON.parse(event.body ?? '{}') as Record<string, unknown>;
      const { result } = await captureOutput(() =>
        (handlers[i % 2] as (typeof handlers)[0])(
          { ...event, body: JSON.stringify({ ...body, id: `evt-limit-${i}` }) },
          lambdaContext('fanout-event-api'),
        ),
      );
      statuses.push(result.statusCode ?? 0);
    }
    // Assess
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
  });

  it('lets requests through, and says so once, when the bucket store is down', async () => {
    // Prepare
    const redis = await readyRedis();
    clients.push(redis);
    const h = harness(FunctionKind.InboxApi, {
      env: { ...FIXTURE_ENV, FANOUT_RATE_LIMIT: '1', FANOUT_RATE_BURST: '1' },
      adjust: (ports) => ({
        ...ports,
        requestBuckets: new RedisRequestBuckets({
          redis,
          keyPrefix: uniqueName('rl'),
          connectTimeoutMs: 100,
        }),
      }),
    });
    const handler = createInboxApiHandler(h.deps);
    redis.disconnect();
    // Act
    const { result: first, lines } = await captureOutput(() =>
      handler(userRequest('ana'), lambdaContext('fanout-inbox-api')),
    );
    const { result: second, lines: more } = await captureOutput(() =>
      handler(userRequest('ana'), lambdaContext('fanout-inbox-api')),
    );
    // Assess
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    const warnings = [...lines, ...more].filter((l) =>
      JSON.stringify(l).includes('request limits not checked'),
    );
    expect(warnings).toHaveLength(1);
  });
});

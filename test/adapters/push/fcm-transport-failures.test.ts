import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeFcm, generateServiceAccount, startFakeFcm } from '../../../fakes/fake-fcm.ts';
import { FcmTransport, type FcmTransportOptions } from '../../../src/adapters/push/fcm/fcm-transport.ts';
import { parseServiceAccount } from '../../../src/adapters/push/fcm/service-account.ts';
import { TransportRetryableError } from '../../../src/domain/errors.ts';
import type { PushMessage } from '../../../src/ports/transports.ts';
import { recordingLogger } from '../../support/world.ts';

/** FcmTransport when FCM throttles, fails, drops the connection or does not answer. */

const START = Date.UTC(2030, 0, 1);
const DEVICE = 'fcm-device-token-secret';

const clock = { now: () => START };
let fake: FakeFcm;
let sleeps: number[];
const transports: FcmTransport[] = [];

beforeAll(async () => {
  fake = await startFakeFcm({ now: clock.now });
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  sleeps = [];
  fake.requests.length = 0;
  fake.tokenGrants.length = 0;
});

afterEach(async () => {
  await Promise.all(transports.splice(0).map((t) => t.close()));
});

function transport(extra: Partial<FcmTransportOptions> = {}, tokenOrigin = fake.origin): FcmTransport {
  const t = new FcmTransport({
    serviceAccount: parseServiceAccount(generateServiceAccount(tokenOrigin).json),
    origin: fake.origin,
    ca: fake.ca,
    clock,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...extra,
  });
  transports.push(t);
  return t;
}

function push(): PushMessage {
  return {
    tenantId: 'acme',
    userId: 'alice',
    token: DEVICE,
    platform: 'fcm',
    title: 'Bob commented',
    body: 'Nice post',
    category: 'social',
    collapseId: '0123456789abcdef0123456789abcdef',
    messageId: '01234567-89ab-8def-8123-456789abcdef',
  };
}

async function failure(promise: Promise<unknown>): Promise<TransportRetryableError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TransportRetryableError);
  const retryable = err as TransportRetryableError;
  // Neither the device token nor the access token ever reaches a message.
  expect(retryable.message).not.toContain(DEVICE);
  for (const grant of fake.tokenGrants) expect(retryable.message).not.toContain(grant.accessToken);
  return retryable;
}

/** A 127.0.0.1 origin nothing listens on. */
async function closedOrigin(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `https://127.0.0.1:${port}`;
}

describe('FCM transport: throttling and server errors', () => {
  it('retries a 429 and a 503 after their Retry-After, then sends', async () => {
    // Prepare
    fake.script(
      DEVICE,
      { status: 429, errorCode: 'QUOTA_EXCEEDED', retryAfter: '2' },
      { status: 503, retryAfter: '1' },
    );
    // Act
    const result = await transport().send(push());
    // Assess
    expect(result.status).toBe('sent');
    expect(sleeps).toEqual([2000, 1000]);
    expect(fake.requests).toHaveLength(3);
  });

  it('backs off with full jitter within the policy when no Retry-After is given', async () => {
    // Prepare
    fake.script(DEVICE, { status: 500, errorCode: 'INTERNAL' }, { status: 500, errorCode: 'INTERNAL' });
    // Act
    const result = await transport({ backoff: { attempts: 3, baseMs: 100, maxMs: 150 } }).send(push());
    // Assess
    expect(result.status).toBe('sent');
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeLessThanOrEqual(100);
    expect(sleeps[1]).toBeLessThanOrEqual(150);
  });

  it('hands a Retry-After beyond the budget to the queue at once, with retryAfterMs', async () => {
    // Prepare
    fake.script(DEVICE, { status: 429, errorCode: 'QUOTA_EXCEEDED', retryAfter: '60' });
    // Act
    const err = await failure(transport({ retryBudgetMs: 10_000 }).send(push()));
    // Assess
    expect([err.retryAfterMs, err.ambiguous]).toEqual([60_000, false]);
    expect(sleeps).toEqual([]);
    expect(fake.requests).toHaveLength(1);
  });

  it('hands a quota refusal without Retry-After to the queue at once, to wait a minute', async () => {
    // Prepare
    fake.script(DEVICE, { status: 429, errorCode: 'QUOTA_EXCEEDED' });
    // Act
    const err = await failure(transport().send(push()));
    // Assess
    expect([err.retryAfterMs, err.ambiguous]).toEqual([60_000, false]);
    expect(sleeps).toEqual([]);
    expect(fake.requests).toHaveLength(1);
  });

  it('stops when the waits so far and the next one would exceed the budget', async () => {
    // Prepare
    fake.script(DEVICE, { status: 503, retryAfter: '3' }, { status: 503, retryAfter: '3' });
    // Act
    const err = await failure(transport({ retryBudgetMs: 5_000 }).send(push()));
    // Assess
    expect(err.retryAfterMs).toBe(3000);
    expect(sleeps).toEqual([3000]);
    expect(fake.requests).toHaveLength(2);
  });

  it('gives up after the last try, with the provider retryAfterMs and nothing ambiguous', async () => {
    // Prepare
    fake.script(DEVICE, ...Array.from({ length: 3 }, () => ({ status: 503, retryAfter: '1' })));
    const logger = recordingLogger();
    // Act
    const err = await failure(transport({ logger }).send(push()));
    // Assess
    expect([err.retryAfterMs, err.ambiguous]).toEqual([1000, false]);
    expect(fake.requests).toHaveLength(3);
    expect(JSON.stringify(logger.lines)).not.toContain(DEVICE);
  });
});

describe('FCM transport: no answer', () => {
  it('is ambiguous when the stream is reset after the request left', async () => {
    // Prepare
    fake.script(DEVICE, { drop: 'stream' });
    // Act
    const err = await failure(transport().send(push()));
    // Assess
    expect(err.ambiguous).toBe(true);
    expect(fake.requests).toHaveLength(1);
  });

  it('is ambiguous when the connection drops after the request left, and the next send reconnects', async () => {
    // Prepare
    fake.script(DEVICE, { drop: 'session' });
    const fcm = transport();
    // Act
    const err = await failure(fcm.send(push()));
    const next = await fcm.send(push());
    // Assess
    expect(err.ambiguous).toBe(true);
    expect(next.status).toBe('sent');
  });

  it('is ambiguous, and not retried here, when the answer is slower than the timeout', async () => {
    // Prepare
    fake.script(DEVICE, { status: 200, delayMs: 2_000 });
    // Act
    const err = await failure(transport({ requestTimeoutMs: 300 }).send(push()));
    // Assess
    expect(err.ambiguous).toBe(true);
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('is not ambiguous when FCM cannot be reached at all', async () => {
    // Prepare
    const fcm = transport({ origin: await closedOrigin() });
    // Act
    const err = await failure(fcm.send(push()));
    // Assess
    expect(err.ambiguous).toBe(false);
    expect(fake.tokenGrants).toHaveLength(1);
  });

  it('is not ambiguous, and sends nothing, when the token endpoint is down', async () => {
    // Prepare
    const fcm = transport({}, await closedOrigin());
    // Act
    const err = await failure(fcm.send(push()));
    // Assess
    expect(err.ambiguous).toBe(false);
    expect(fake.requests).toEqual([]);
  });

  it('is not ambiguous after close: nothing leaves', async () => {
    // Prepare
    const fcm = transport();
    await fcm.send(push());
    await fcm.close();
    // Act
    const err = await failure(fcm.send(push()));
    // Assess
    expect(err.ambiguous).toBe(false);
    expect(fake.requests).toHaveLength(1);
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TransportRetryableError } from '../../../src/domain/errors.ts';
import { freePort } from '../../../src/runtime/local-aws/emulators.ts';
import { type ApnsBench, apnsBench, pushMessage } from './apns-fixture.ts';

let bench: ApnsBench;

beforeAll(async () => {
  bench = await apnsBench();
});
afterEach(async () => {
  await bench.closeTransports();
});
afterAll(async () => {
  await bench.close();
});

async function failure(promise: Promise<unknown>): Promise<TransportRetryableError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TransportRetryableError);
  return err as TransportRetryableError;
}

describe('ApnsTransport: failures without an answer', () => {
  it.each(['stream', 'session'] as const)(
    'a %s dropped after the request left is ambiguous, not retried here, and the next send works',
    async (drop) => {
      // Prepare
      const apns = bench.transport();
      const m = pushMessage();
      bench.fake.script(m.token, { drop });
      // Act
      const err = await failure(apns.send(m));
      const next = await apns.send(m);
      // Assess
      expect(err.ambiguous).toBe(true);
      expect(next).toMatchObject({ status: 'sent' });
      expect(bench.requestsFor(m.token)).toHaveLength(2);
      expect(bench.sleeps).toEqual([]);
    },
  );

  it('a refused connection is retryable and certainly not sent', async () => {
    const apns = bench.transport({ origin: `https://127.0.0.1:${await freePort()}` });
    const err = await failure(apns.send(pushMessage()));
    expect(err.ambiguous).toBe(false);
  });

  it('an answer slower than requestTimeoutMs is ambiguous', async () => {
    const apns = bench.transport({ requestTimeoutMs: 300, connections: 1 });
    await apns.send(pushMessage()); // connected: the timeout below can only hit the answer
    const m = pushMessage();
    bench.fake.script(m.token, { hang: true });
    const err = await failure(apns.send(m));
    expect(err.ambiguous).toBe(true);
    expect(bench.requestsFor(m.token)).toHaveLength(1);
  });

  it('recovers from a GOAWAY: the next send opens a new connection', async () => {
    const apns = bench.transport({ connections: 1 });
    expect(await apns.send(pushMessage())).toMatchObject({ status: 'sent' });
    bench.fake.goaway();
    expect(await apns.send(pushMessage())).toMatchObject({ status: 'sent' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await apns.send(pushMessage())).toMatchObject({ status: 'sent' });
  });
});

describe('ApnsTransport: connection pool', () => {
  it("answers more concurrent sends than the server's stream limit allows at once", async () => {
    // Prepare: a server that takes 3 streams per connection, each answered after a while
    const small = await apnsBench({ maxConcurrentStreams: 3 });
    try {
      const apns = small.transport({ connections: 2 });
      const messages = Array.from({ length: 30 }, () => pushMessage());
      for (const m of messages) small.fake.script(m.token, { status: 200, delayMs: 10 });
      // Act
      const results = await Promise.all(messages.map((m) => apns.send(m)));
      // Assess
      expect(results.map((r) => r.status)).toEqual(Array(30).fill('sent'));
      expect(small.fake.requests).toHaveLength(30);
    } finally {
      await small.close();
    }
  });
});

import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_SERVER_LIMITS, type ServerLimits } from '../../src/lib/server-limits.ts';
import { SettingsError } from '../../src/lib/settings.ts';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
import { bearer, type TestApp, testApp, userToken } from './support.ts';

/** A raw TCP client: what it received, and whether the server closed the socket. */
interface RawClient {
  readonly socket: Socket;
  received(): string;
  closed: Promise<void>;
}

function rawClient(port: number): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    let data = '';
    const socket = connect(port, '127.0.0.1');
    const closed = new Promise<void>((done) => socket.on('close', () => done()));
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      data += chunk;
    });
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

const SHORT: ServerLimits = {
  requestTimeoutMs: 400,
  headersTimeoutMs: 200,
  keepAliveTimeoutMs: 200,
  idleTimeoutMs: 300,
  maxConnections: 3,
};

async function listening(limits: ServerLimits): Promise<{ t: TestApp; port: number }> {
  const t = await testApp({ server: limits });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const address = t.app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { t, port: address.port };
}

describe('HTTP server socket limits', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('closes a client that never finishes its headers, with 408 in the error envelope', async () => {
    // Prepare
    const s = await listening(SHORT);
    t = s.t;
    const client = await rawClient(s.port);
    // Act: a slow-header client sends half a request and stops
    client.socket.write('GET /v1/me/inbox HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    await client.closed;
    // Assess
    expect(client.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(client.received()).toContain('"code":"REQUEST_TIMEOUT"');
  });

  it('closes a client that never finishes its body', async () => {
    // Prepare
    const s = await listening(SHORT);
    t = s.t;
    const client = await rawClient(s.port);
    // Act: headers promise 100 bytes, 10 come
    client.socket.write(
      `POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${s.t.keys.acme}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":1,   `,
    );
    await client.closed;
    // Assess: Node cuts the socket (with a 408 when no answer has started); the event is not taken
    expect(client.received()).not.toMatch(/^HTTP\/1\.1 2/);
  });

  it('closes an idle keep-alive connection after its timeout', async () => {
    // Prepare
    const s = await listening(SHORT);
    t = s.t;
    const client = await rawClient(s.port);
    // Act: one request, then silence
    client.socket.write('GET /v1/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await client.closed;
    // Assess
    expect(client.received()).toMatch(/^HTTP\/1\.1 404 /);
  });

  it('refuses connections past the cap', async () => {
    // Prepare
    const s = await listening({
      ...SHORT,
      headersTimeoutMs: 5_000,
      requestTimeoutMs: 5_000,
      idleTimeoutMs: 5_000,
    });
    t = s.t;
    const held = await Promise.all([rawClient(s.port), rawClient(s.port), rawClient(s.port)]);
    // Act
    const extra = await rawClient(s.port);
    extra.socket.write('GET /v1/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await extra.closed;
    // Assess: the extra one was closed without an answer; the held ones still get answers
    expect(extra.received()).toBe('');
    const first = held[0]!;
    first.socket.write('GET /v1/nothing HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    await first.closed;
    expect(first.received()).toMatch(/^HTTP\/1\.1 404 /);
    for (const c of held) c.socket.destroy();
  });

  it('keeps an event stream open past the idle timeout', async () => {
    // Prepare
    const s = await listening({ ...SHORT, idleTimeoutMs: 100 });
    t = s.t;
    const token = await userToken(s.t.app, s.t.keys.acme, 'alice');
    const client = await rawClient(s.port);
    let closed = false;
    void client.closed.then(() => {
      closed = true;
    });
    // Act: a stream, then a request on another socket after several idle timeouts have passed
    client.socket.write(
      `GET /v1/me/inbox/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${bearer(token).authorization}\r\n\r\n`,
    );
    for (let i = 0; i < 8 && !client.received().includes('event: unread-count'); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 500));
    // Assess
    expect(client.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(closed).toBe(false);
    client.socket.destroy();
  });
});

describe('socket limit settings', () => {
  it('have defaults that bound every wait', () => {
    // Act
    const config = readRuntimeConfig({});
    // Assess
    expect(config.server).toEqual(DEFAULT_SERVER_LIMITS);
    expect(config.server.requestTimeoutMs).toBeGreaterThan(0);
    expect(config.server.headersTimeoutMs).toBeGreaterThan(0);
  });

  it('are read from the environment and checked', () => {
    // Act
    const config = readRuntimeConfig({
      FANOUT_REQUEST_TIMEOUT_MS: '20000',
      FANOUT_HEADERS_TIMEOUT_MS: '5000',
      FANOUT_KEEP_ALIVE_TIMEOUT_MS: '65000',
      FANOUT_IDLE_TIMEOUT_MS: '90000',
      FANOUT_MAX_CONNECTIONS: '500',
    });
    const bad = () =>
      readRuntimeConfig({
        FANOUT_REQUEST_TIMEOUT_MS: '1000',
        FANOUT_HEADERS_TIMEOUT_MS: '2000',
        FANOUT_MAX_CONNECTIONS: '0',
      });
    // Assess
    expect(config.server).toEqual({
      requestTimeoutMs: 20_000,
      headersTimeoutMs: 5_000,
      keepAliveTimeoutMs: 65_000,
      idleTimeoutMs: 90_000,
      maxConnections: 500,
    });
    expect(bad).toThrow(SettingsError);
    expect(bad).toThrow(/FANOUT_MAX_CONNECTIONS.*FANOUT_HEADERS_TIMEOUT_MS must not exceed/);
  });
});

describe('live stream caps', () => {
  it('default to 10,000 per process, 1,000 per tenant and 8 per user, a 2 s fallback poll, and are read from the environment', () => {
    // Act
    const defaults = readRuntimeConfig({}).streams;
    const set = readRuntimeConfig({
      FANOUT_MAX_STREAMS: '500',
      FANOUT_STREAMS_PER_TENANT: '50',
      FANOUT_STREAMS_PER_USER: '2',
      FANOUT_STREAM_POLL_MS: '60000',
    }).streams;
    // Assess
    expect(defaults).toEqual({ max: 10_000, perTenant: 1_000, perUser: 8, pollMs: 2_000 });
    expect(set).toEqual({ max: 500, perTenant: 50, perUser: 2, pollMs: 60_000 });
    expect(() => readRuntimeConfig({ FANOUT_STREAMS_PER_TENANT: '0' })).toThrow(/FANOUT_STREAMS_PER_TENANT/);
    expect(() => readRuntimeConfig({ FANOUT_STREAM_POLL_MS: '10' })).toThrow(/FANOUT_STREAM_POLL_MS/);
  });
});

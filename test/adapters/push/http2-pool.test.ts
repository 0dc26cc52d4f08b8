import { constants, createSecureServer, type Http2SecureServer, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { connect, createServer } from 'node:net';
import { generate } from 'selfsigned';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Http2Pool, Http2RequestError } from '../../../src/adapters/push/http2-pool.ts';
import { freePort } from '../../../src/runtime/local-aws/emulators.ts';

type Handler = (stream: ServerHttp2Stream, path: string) => void;

interface TestServer {
  origin: string;
  readonly server: Http2SecureServer;
  /** Streams open at once, highest seen per session. */
  readonly peakPerSession: number[];
  sessions: number;
  handler: Handler;
}

let cert: { private: string; cert: string };
const servers: TestServer[] = [];
const pools: Http2Pool[] = [];

beforeAll(async () => {
  cert = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
  });
});

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.server.close(() => resolve()))));
});

const ok: Handler = (stream, path) => {
  stream.respond({ ':status': 200, 'x-path': path, 'content-type': 'text/plain' });
  stream.end(`hello ${path}`);
};

async function startServer(maxConcurrentStreams = 100): Promise<TestServer> {
  const server = createSecureServer({
    key: cert.private,
    cert: cert.cert,
    settings: { maxConcurrentStreams },
  });
  const t: TestServer = { origin: '', server, peakPerSession: [], sessions: 0, handler: ok };
  server.on('session', (session) => {
    const index = t.sessions++;
    let open = 0;
    t.peakPerSession[index] = 0;
    session.on('error', () => {});
    session.on('stream', (stream) => {
      open++;
      t.peakPerSession[index] = Math.max(t.peakPerSession[index] ?? 0, open);
      stream.on('close', () => open--);
    });
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    stream.resume();
    stream.on('end', () => t.handler(stream, String(headers[':path'])));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  t.origin = `https://127.0.0.1:${port}`;
  servers.push(t);
  return t;
}

function pool(origin: string, opts: { requestTimeoutMs?: number; size?: number } = {}): Http2Pool {
  const p = new Http2Pool({ origin, ca: cert.cert, pingIntervalMs: 0, ...opts });
  pools.push(p);
  return p;
}

const post = (path: string) =>
  ({ method: 'POST', path, headers: { 'content-type': 'text/plain' }, body: 'x' }) as const;

async function failure(promise: Promise<unknown>): Promise<Http2RequestError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Http2RequestError);
  return err as Http2RequestError;
}

describe('Http2Pool', () => {
  it('answers with the status, lower-case headers and body of the response', async () => {
    const server = await startServer();
    const res = await pool(server.origin).request(post('/a'));
    expect(res).toMatchObject({ status: 200, body: 'hello /a' });
    expect(res.headers['x-path']).toBe('/a');
    expect(res.headers[':status']).toBeUndefined();
  });

  it("queues beyond the server's concurrent stream limit and answers every request", async () => {
    const server = await startServer(3);
    server.handler = (stream, path) => setTimeout(() => ok(stream, path), 5);
    const p = pool(server.origin, { size: 2 });
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => p.request(post(`/${i}`))));
    expect(answers.map((a) => a.status)).toEqual(Array(40).fill(200));
    expect(Math.max(...server.peakPerSession)).toBeLessThanOrEqual(3);
    expect(server.sessions).toBeLessThanOrEqual(2);
  });

  it('fails a refused connection as never sent', async () => {
    const err = await failure(pool(`https://127.0.0.1:${await freePort()}`).request(post('/a')));
    expect(err).toMatchObject({ code: 'connect', sent: false });
  });

  it('fails a server that never completes the handshake as a connect failure, never sent', async () => {
    const accepted: Socket[] = [];
    const silent = createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const p = new Http2Pool({ origin: `https://127.0.0.1:${port}`, ca: cert.cert, connectTimeoutMs: 100 });
      pools.push(p);
      const err = await failure(p.request(post('/a')));
      expect(err).toMatchObject({ code: 'connect', sent: false });
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('fails an answer slower than the request timeout as possibly sent', async () => {
    const server = await startServer();
    const p = pool(server.origin, { requestTimeoutMs: 300, size: 1 });
    await p.request(post('/warm-up')); // connected: the timeout below can only hit the answer
    server.handler = () => {};
    const err = await failure(p.request(post('/slow')));
    expect(err).toMatchObject({ code: 'timeout', sent: true });
  });

  it('fails a stream the server resets as possibly sent, and keeps the session', async () => {
    const server = await startServer();
    server.handler = (stream) => stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    const p = pool(server.origin);
    expect(await failure(p.request(post('/reset')))).toMatchObject({ code: 'reset', sent: true });
    server.handler = ok;
    expect((await p.request(post('/after'))).status).toBe(200);
    expect(server.sessions).toBe(1);
  });

  it('fails a request whose connection drops as possibly sent, then reconnects', async () => {
    const server = await startServer();
    server.handler = (stream) => stream.session?.socket.destroy();
    const p = pool(server.origin);
    expect(await failure(p.request(post('/drop')))).toMatchObject({ code: 'closed', sent: true });
    server.handler = ok;
    expect((await p.request(post('/after'))).status).toBe(200);
    expect(server.sessions).toBe(2);
  });

  it('opens a new session after a GOAWAY', async () => {
    const server = await startServer();
    const p = pool(server.origin);
    expect((await p.request(post('/first'))).status).toBe(200);
    server.handler = (stream, path) => {
      ok(stream, path);
      stream.session?.goaway(constants.NGHTTP2_NO_ERROR, stream.id ?? 0);
    };
    expect((await p.request(post('/goaway'))).status).toBe(200);
    server.handler = ok;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await p.request(post('/after'))).status).toBe(200);
    expect(server.sessions).toBe(2);
  });

  it.each([
    ['a graceful', constants.NGHTTP2_NO_ERROR, ['ok', 'ok']],
    ['an error', constants.NGHTTP2_ENHANCE_YOUR_CALM, ['closed', 'ok']],
  ])('after %s GOAWAY, re-sends the streams above its last id, unprocessed', async (_, code, outcomes) => {
    const server = await startServer();
    const p = pool(server.origin, { size: 1 });
    await p.request(post('/warm-up'));
    const held: ServerHttp2Stream[] = [];
    server.handler = (stream, path) => {
      if (held.push(stream) < 2) return;
      server.handler = ok;
      // Only the first of the two streams in flight was processed.
      stream.session?.goaway(code, held[0]!.id ?? 0);
      if (code === constants.NGHTTP2_NO_ERROR) ok(held[0]!, path);
    };
    const answers = await Promise.all(
      ['/a', '/b'].map((path) =>
        p.request(post(path)).then(
          () => 'ok',
          (err: Http2RequestError) => (err.sent ? err.code : `${err.code}, not sent`),
        ),
      ),
    );
    expect(answers).toEqual(outcomes);
    expect(server.sessions).toBe(2);
  });

  it('re-sends once a request the server refused unprocessed (REFUSED_STREAM)', async () => {
    const server = await startServer();
    let seen = 0;
    server.handler = (stream, path) => {
      seen++;
      if (seen === 1) stream.close(constants.NGHTTP2_REFUSED_STREAM);
      else ok(stream, path);
    };
    const res = await pool(server.origin).request(post('/refused'));
    expect(res.status).toBe(200);
    expect(seen).toBe(2);
  });

  it('fails as never sent a request refused twice', async () => {
    const server = await startServer();
    server.handler = (stream) => stream.close(constants.NGHTTP2_REFUSED_STREAM);
    const err = await failure(pool(server.origin).request(post('/refused')));
    expect(err).toMatchObject({ code: 'reset', sent: false });
  });

  it('replaces a connection that went silent, found by a PING after a timeout', async () => {
    const server = await startServer();
    // A TCP relay whose connections can be frozen: bytes vanish, nothing is closed (a dropped NAT entry).
    const links: { frozen: boolean; client: Socket; upstream: Socket }[] = [];
    const relay = createServer((client) => {
      const upstream = connect(Number(new URL(server.origin).port), '127.0.0.1');
      const link = { frozen: false, client, upstream };
      links.push(link);
      client.on('data', (d) => link.frozen || upstream.write(d));
      upstream.on('data', (d) => link.frozen || client.write(d));
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        a.on('error', () => {});
        a.on('close', () => b.destroy());
      }
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = relay.address() as AddressInfo;
      const p = new Http2Pool({
        origin: `https://127.0.0.1:${port}`,
        ca: cert.cert,
        size: 1,
        requestTimeoutMs: 200,
        connectTimeoutMs: 200,
        pingIntervalMs: 0,
      });
      pools.push(p);
      expect((await p.request(post('/warm-up'))).status).toBe(200);
      for (const link of links) link.frozen = true;
      expect(await failure(p.request(post('/lost')))).toMatchObject({ code: 'timeout', sent: true });
      // The PING sent on the timeout goes unanswered for connectTimeoutMs: the session is replaced.
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect((await p.request(post('/after'))).status).toBe(200);
      expect(links).toHaveLength(2);
    } finally {
      for (const link of links) link.client.destroy();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    }
  });

  it('keeps an idle session open across keep-alive PINGs', async () => {
    const server = await startServer();
    const p = new Http2Pool({ origin: server.origin, ca: cert.cert, pingIntervalMs: 30 });
    pools.push(p);
    await p.request(post('/a'));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await p.request(post('/b'))).status).toBe(200);
    expect(server.sessions).toBe(1);
  });

  it('refuses requests once closed', async () => {
    const server = await startServer();
    const p = pool(server.origin);
    await p.request(post('/a'));
    await p.close();
    expect(await failure(p.request(post('/b')))).toMatchObject({ code: 'closed', sent: false });
  });
});

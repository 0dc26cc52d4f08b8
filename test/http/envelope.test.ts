import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bearer, type TestApp, testApp } from './support.ts';

/** Sends `request` as raw bytes and reads the whole answer (the server closes after an error). */
function raw(port: number, request: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      data += chunk;
    });
    socket.on('close', () => resolve(data));
    socket.on('error', (err) => (data === '' ? reject(err) : resolve(data)));
  });
}

/** Status, headers (lower-case) and JSON body of a raw HTTP/1.1 answer. */
function parse(answer: string): { status: number; headers: Record<string, string>; body: unknown } {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: body === '' ? undefined : JSON.parse(body),
  };
}

describe('every answer in the error envelope, with nosniff', () => {
  let t: TestApp;
  let port: number;
  beforeEach(async () => {
    t = await testApp({
      server: {
        requestTimeoutMs: 5_000,
        headersTimeoutMs: 5_000,
        keepAliveTimeoutMs: 1_000,
        idleTimeoutMs: 5_000,
        maxConnections: 100,
      },
    });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    port = (t.app.server.address() as { port: number }).port;
  });
  afterEach(async () => {
    await t.close();
  });

  const malformed: ReadonlyArray<readonly [string, string | Buffer, number, string]> = [
    ['an unknown method', 'FOO / HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'VALIDATION'],
    [
      'a NUL in the path',
      Buffer.from('GET /v1/\u0000me HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'),
      400,
      'VALIDATION',
    ],
    [
      'a Content-Length that is not a number',
      'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}',
      400,
      'VALIDATION',
    ],
    [
      'two different Content-Lengths',
      'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
      400,
      'VALIDATION',
    ],
    [
      'headers too large',
      `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      'HEADERS_TOO_LARGE',
    ],
    ['not HTTP at all', 'hello\r\n\r\n', 400, 'VALIDATION'],
  ];

  for (const [what, request, status, code] of malformed) {
    it(`answers ${what} with ${status} {error:{code,message}}`, async () => {
      // Act
      const answer = parse(await raw(port, request));
      // Assess
      expect(answer.status).toBe(status);
      expect(answer.body).toEqual({ error: { code, message: expect.any(String) } });
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
    });
  }

  it('sends nosniff on successes, errors, pages and the API reference', async () => {
    // Act
    const answers = await Promise.all([
      t.app.inject({ method: 'GET', url: '/v1/me/inbox' }),
      t.app.inject({ method: 'GET', url: '/no/such/route' }),
      t.app.inject({ method: 'POST', url: '/v1/users/alice/tokens', headers: bearer(t.keys.acme) }),
      t.app.inject({ method: 'GET', url: '/' }),
      t.app.inject({ method: 'GET', url: '/docs' }),
      t.app.inject({ method: 'GET', url: '/docs/json' }),
      t.app.inject({ method: 'DELETE', url: '/v1/events' }),
    ]);
    // Assess
    for (const res of answers) expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(answers.map((r) => r.statusCode)).toEqual([401, 404, 201, 200, 200, 200, 404]);
    expect(answers[5]!.json().openapi).toMatch(/^3\./);
  });
});

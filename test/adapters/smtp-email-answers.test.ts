import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { SmtpEmailTransport } from '../../src/adapters/smtp/smtp-email.ts';
import {
  testEmail as email,
  FROM,
  retryableFailure as failure,
  smtpServersClosedAfterEach,
} from './smtp-fixture.ts';

const smtp = smtpServersClosedAfterEach();
const transport = smtp.transport;

describe('SmtpEmailTransport answers', () => {
  it.each([
    [550, 'smtp_550'],
    [553, 'smtp_553'],
  ])('rejects for good when the server answers %i to RCPT TO', async (code, reason) => {
    // Prepare
    const server = await smtp.start();
    server.rcpt = code;
    // Act
    const result = await transport(server).send(email());
    // Assess
    expect(result).toEqual({ status: 'rejected', reason });
    expect(server.received).toEqual([]);
  });

  it('rejects for good when the server refuses the message after DATA with a 554', async () => {
    // Prepare
    const server = await smtp.start();
    server.data = { kind: 'refuse', code: 554 };
    // Act / Assess
    expect(await transport(server).send(email())).toEqual({ status: 'rejected', reason: 'smtp_554' });
  });

  it.each([451, 450, 452])('asks for a retry, not ambiguous, when RCPT TO gets %i', async (code) => {
    // Prepare
    const server = await smtp.start();
    server.rcpt = code;
    // Act
    const err = await failure(transport(server).send(email()));
    // Assess
    expect(err.ambiguous).toBe(false);
    expect(err.message).toContain(String(code));
  });

  it('asks for a retry, not ambiguous, when the message gets a 451 after DATA', async () => {
    // Prepare
    const server = await smtp.start();
    server.data = { kind: 'refuse', code: 451 };
    // Act
    const err = await failure(transport(server).send(email()));
    // Assess
    expect(err.ambiguous).toBe(false);
  });

  it('calls a send ambiguous when the server closes the connection after DATA without answering', async () => {
    // Prepare
    const server = await smtp.start();
    server.data = { kind: 'drop' };
    // Act
    const err = await failure(transport(server).send(email()));
    // Assess
    expect(err.ambiguous).toBe(true);
  });

  it('calls a send ambiguous when the answer to DATA never comes', async () => {
    // Prepare
    const server = await smtp.start();
    server.data = { kind: 'silence' };
    // Act
    const err = await failure(transport(server, { socketTimeoutMs: 300 }).send(email()));
    // Assess
    expect(err.ambiguous).toBe(true);
  });

  it('asks for a plain retry when the connection is lost before DATA', async () => {
    // Prepare
    const server = await smtp.start();
    server.rcpt = 'drop';
    // Act
    const err = await failure(transport(server).send(email()));
    // Assess
    expect(err.ambiguous).toBe(false);
  });

  it('asks for a plain retry when the connection is refused', async () => {
    // Prepare: a port that was just free.
    const port = await freePort();
    const t = smtp.track(new SmtpEmailTransport({ host: '127.0.0.1', port, from: FROM, pool: false }));
    // Act
    const err = await failure(t.send(email()));
    // Assess
    expect(err.ambiguous).toBe(false);
  });

  it('asks for a plain retry when the password is wrong: a deployment error, not the message’s', async () => {
    // Prepare
    const server = await smtp.start({
      authOptional: false,
      allowInsecureAuth: true,
      onAuth(_auth, _session, callback) {
        callback(new Error('Invalid username or password'));
      },
    });
    const t = smtp.track(
      new SmtpEmailTransport({
        host: '127.0.0.1',
        port: server.port,
        auth: { user: 'fanout', pass: 'wrong-password' },
        from: FROM,
      }),
    );
    // Act
    const err = await failure(t.send(email()));
    // Assess
    expect(err.ambiguous).toBe(false);
    expect(err.message).toBe('SMTP authentication failed (smtp_535)');
    expect(err.message).not.toContain('wrong-password');
    expect(server.received).toEqual([]);
  });

  it('asks for a plain retry when it was closed', async () => {
    // Prepare
    const server = await smtp.start();
    const t = transport(server);
    await t.close();
    // Act
    const err = await failure(t.send(email()));
    // Assess
    expect(err.ambiguous).toBe(false);
    expect(server.connections()).toBe(0);
  });

  it('never puts the address in what it throws', async () => {
    // Prepare
    const server = await smtp.start();
    server.rcpt = 451;
    // Act
    const err = await failure(transport(server).send(email()));
    // Assess
    const cause = err.cause as Error & Record<string, unknown>;
    expect(cause).toMatchObject({
      name: 'SmtpError',
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 451,
    });
    expect(JSON.stringify({ ...cause, error: err.message, cause: cause.message })).not.toContain('alice@');
  });
});

/** A TCP port nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { afterEach, expect } from 'vitest';
import { SmtpEmailTransport, type SmtpEmailTransportOptions } from '../../src/adapters/smtp/smtp-email.ts';
import { TransportRetryableError } from '../../src/domain/errors.ts';
import { renderEmail } from '../../src/domain/render.ts';
import { createUnsubscribeTokens, unsubscribeUrl } from '../../src/domain/unsubscribe.ts';
import type { EmailMessage } from '../../src/ports/transports.ts';

/** One message as the server took it: envelope and the raw DATA. */
export interface ReceivedMail {
  readonly from: string;
  readonly to: readonly string[];
  readonly raw: string;
}

/** How a test server answers the final "." of DATA: 250 with this text, an error, or not at all. */
export type DataAnswer =
  | { readonly kind: 'accept'; readonly text?: string }
  | { readonly kind: 'refuse'; readonly code: number }
  | { readonly kind: 'drop' }
  | { readonly kind: 'silence' };

/** A local smtp-server on 127.0.0.1 whose answers a test changes as it goes. */
export interface TestSmtpServer {
  readonly port: number;
  readonly url: string;
  readonly received: ReceivedMail[];
  /** TCP connections the server accepted. */
  connections(): number;
  /** A reply code for RCPT TO (4xx, 5xx), or 'drop' to close the connection there; undefined accepts. */
  rcpt: number | 'drop' | undefined;
  data: DataAnswer;
}

export const FROM = 'Fanout <notify@fanout.example>';
export const MESSAGE_ID = '0190a3b4-7c1d-8e2f-9a3b-4c5d6e7f8091';
const TOKENS = createUnsubscribeTokens('smtp-test-unsubscribe-secret');
/** A genuine one-click unsubscribe link, as long as real ones are. */
export const LINK = unsubscribeUrl(
  'https://api.fanout.example',
  TOKENS.sign({ tenantId: 'acme', userId: 'alice', category: 'social' }),
);

/** A French email as the consumer renders it, with its one-click unsubscribe headers. */
export function testEmail(extra: Partial<EmailMessage> = {}): EmailMessage {
  const rendered = renderEmail(
    {
      tenantId: 'acme',
      userId: 'alice',
      notificationId: '01JS0000000000000000000000',
      channel: 'email',
      eventId: 'e1',
      type: 'comment',
      category: 'social',
      actorId: 'bob',
      createdAt: 0,
    },
    { locale: 'fr', unsubscribeUrl: LINK },
  );
  return {
    tenantId: 'acme',
    userId: 'alice',
    to: 'alice@example.com',
    subject: rendered.subject,
    text: rendered.text,
    html: rendered.html,
    headers: { 'List-Unsubscribe': `<${LINK}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    messageId: MESSAGE_ID,
    ...extra,
  };
}

/** What `send` threw, checked to be our retryable error. */
export async function retryableFailure(sending: Promise<unknown>): Promise<TransportRetryableError> {
  const err = await sending.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TransportRetryableError);
  return err as TransportRetryableError;
}

/** An Error whose `responseCode` smtp-server sends as the reply. */
export function smtpReply(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

/**
 * A `testSmtpServer` factory whose servers and transports are all closed after each test. Call
 * it once at the top of a test file; `track` registers a transport for closing.
 */
export function smtpServersClosedAfterEach(): {
  start(opts?: Partial<SMTPServerOptions>): Promise<TestSmtpServer>;
  track(transport: SmtpEmailTransport): SmtpEmailTransport;
  /** A transport to `server`'s URL with FROM, tracked. */
  transport(server: TestSmtpServer, extra?: Partial<SmtpEmailTransportOptions>): SmtpEmailTransport;
} {
  const servers: SMTPServer[] = [];
  const transports: SmtpEmailTransport[] = [];
  afterEach(async () => {
    await Promise.all(transports.splice(0).map((t) => t.close()));
    await Promise.all(servers.splice(0).map(stop));
  });
  return {
    async start(opts = {}) {
      const { server, test } = await testSmtpServer(opts);
      servers.push(server);
      return test;
    },
    track(transport) {
      transports.push(transport);
      return transport;
    },
    transport(server, extra = {}) {
      const transport = new SmtpEmailTransport({ url: server.url, from: FROM, ...extra });
      transports.push(transport);
      return transport;
    },
  };
}

async function testSmtpServer(
  opts: Partial<SMTPServerOptions>,
): Promise<{ server: SMTPServer; test: TestSmtpServer }> {
  let accepted = 0;
  const drop = (session: SMTPServerSession) => {
    for (const c of server.connections) if (c.session.id === session.id) c._socket.destroy();
  };
  const server: SMTPServer = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    ...opts,
    onConnect(_session, callback) {
      accepted++;
      callback();
    },
    onRcptTo(address, session, callback) {
      if (test.rcpt === 'drop') return drop(session);
      // Quoting the address, as real servers do: what the transport throws must not repeat it.
      if (test.rcpt !== undefined) return callback(smtpReply(test.rcpt, `<${address.address}> refused`));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const answer = test.data;
        if (answer.kind === 'silence') return;
        if (answer.kind === 'drop') return drop(session);
        if (answer.kind === 'refuse') return callback(smtpReply(answer.code, 'message refused'));
        test.received.push({
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback(null, answer.text);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  const test: TestSmtpServer = {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received: [],
    connections: () => accepted,
    rcpt: undefined,
    data: { kind: 'accept' },
  };
  return { server, test };
}

/** Closes the server now: open sessions are cut rather than waited for. */
async function stop(server: SMTPServer): Promise<void> {
  for (const c of server.connections) c._socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

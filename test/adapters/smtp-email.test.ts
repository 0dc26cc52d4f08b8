import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { SmtpEmailTransport } from '../../src/adapters/smtp/smtp-email.ts';
import { ValidationError } from '../../src/domain/errors.ts';
import type { EmailMessage } from '../../src/ports/transports.ts';
import { testEmail as email, FROM, LINK, MESSAGE_ID, smtpServersClosedAfterEach } from './smtp-fixture.ts';

const smtp = smtpServersClosedAfterEach();
const transport = smtp.transport;

/** The header's value as written, unfolded. */
function rawHeader(raw: string, name: string): string | undefined {
  const head = raw.slice(0, raw.indexOf('\r\n\r\n')).replace(/\r\n[ \t]+/g, ' ');
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim();
}

describe('SmtpEmailTransport on a local SMTP server', () => {
  it('sends one UTF-8 multipart/alternative message with its headers and our two ids', async () => {
    // Prepare
    const server = await smtp.start();
    server.data = { kind: 'accept', text: 'OK: queued as 4BqPzK1xYz' };
    const message = email();
    // Act
    const result = await transport(server).send(message);
    // Assess
    expect(result).toEqual({ status: 'sent', providerMessageId: '4BqPzK1xYz' });
    expect(server.received).toHaveLength(1);
    const [mail] = server.received;
    expect(mail!.from).toBe('notify@fanout.example');
    expect(mail!.to).toEqual(['alice@example.com']);
    expect(rawHeader(mail!.raw, 'Subject')).toMatch(/^=\?UTF-8\?[QB]\?/);
    expect(rawHeader(mail!.raw, 'Content-Type')).toMatch(/^multipart\/alternative;/);
    expect(rawHeader(mail!.raw, 'List-Unsubscribe')).toBe(`<${LINK}>`);
    expect(rawHeader(mail!.raw, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    const parsed = await simpleParser(mail!.raw);
    expect(parsed.from?.value).toEqual([{ name: 'Fanout', address: 'notify@fanout.example' }]);
    expect(parsed.to).toMatchObject({ value: [{ address: 'alice@example.com' }] });
    expect(parsed.subject).toBe('bob a commenté votre publication');
    expect(parsed.messageId).toBe(`<${MESSAGE_ID}@fanout.example>`);
    expect(parsed.headers.get('x-fanout-message-id')).toBe(MESSAGE_ID);
    expect(parsed.text).toBe(message.text);
    expect(parsed.html).toBe(message.html);
    expect(parsed.text).toContain(LINK);
    expect(mail!.raw).toMatch(/Content-Type: text\/plain; charset=utf-8/);
    expect(mail!.raw).toMatch(/Content-Type: text\/html; charset=utf-8/);
  });

  it('keeps the Message-ID of an ambiguous re-send, and uses the configured domain', async () => {
    // Prepare
    const server = await smtp.start();
    const t = transport(server, { messageIdDomain: 'mail.fanout.example' });
    // Act
    await t.send(email());
    await t.send(email({ ambiguousRetry: true }));
    // Assess
    const ids = server.received.map((m) => rawHeader(m.raw, 'Message-ID'));
    expect(ids).toEqual([`<${MESSAGE_ID}@mail.fanout.example>`, `<${MESSAGE_ID}@mail.fanout.example>`]);
  });

  it('sends a text-only message when there is no HTML', async () => {
    // Prepare
    const server = await smtp.start();
    const { html: _html, ...textOnly } = email();
    // Act
    await transport(server, { pool: false }).send(textOnly);
    // Assess
    expect(rawHeader(server.received[0]!.raw, 'Content-Type')).toBe('text/plain; charset=utf-8');
  });

  it('sends many messages at once over a small pool', async () => {
    // Prepare
    const server = await smtp.start();
    const t = transport(server, { maxConnections: 2 });
    const ids = Array.from({ length: 6 }, (_, i) => `${MESSAGE_ID.slice(0, -1)}${i}`);
    // Act
    const results = await Promise.all(ids.map((messageId) => t.send(email({ messageId }))));
    // Assess
    expect(results.every((r) => r.status === 'sent')).toBe(true);
    expect(server.received.map((m) => rawHeader(m.raw, 'X-Fanout-Message-Id')).sort()).toEqual(ids);
    expect(server.connections()).toBeLessThanOrEqual(2);
  });

  it('logs in with the user and password of the URL (AUTH PLAIN)', async () => {
    // Prepare
    const seen: string[] = [];
    const server = await smtp.start({
      authOptional: false,
      allowInsecureAuth: true,
      authMethods: ['PLAIN'],
      onAuth(auth, _session, callback) {
        seen.push(`${auth.username}:${auth.password}`);
        callback(null, { user: auth.username });
      },
    });
    const url = `smtp://fanout%40example:p%40ss%3Aw%2Frd@127.0.0.1:${server.port}`;
    // Act
    const result = await smtp.track(new SmtpEmailTransport({ url, from: FROM })).send(email());
    // Assess
    expect(result.status).toBe('sent');
    expect(seen).toEqual(['fanout@example:p@ss:w/rd']);
  });
});

describe('SmtpEmailTransport input checks', () => {
  it.each([
    ['a line break in a header value', { headers: { 'X-Note': 'a\r\nBcc: eve@example.com' } }],
    ['a header that sets a recipient', { headers: { Bcc: 'eve@example.com' } }],
    ['a header name with a colon', { headers: { 'X-Note: 1\r\nBcc': 'eve@example.com' } }],
    ['a header that forges our id', { headers: { 'x-fanout-message-id': 'other' } }],
    ['a line break in the subject', { subject: 'hi\r\nBcc: eve@example.com' }],
    ['an address that names a second recipient', { to: 'alice@example.com, eve@example.com' }],
    ['an address with a display name', { to: 'Eve <eve@example.com>' }],
    ['an address with a line break', { to: 'alice@example.com\r\nBcc: eve@example.com' }],
    ['a message id that is no dot-atom', { messageId: 'a>b' }],
  ])('refuses %s before connecting', async (_name, extra) => {
    // Prepare
    const server = await smtp.start();
    // Act
    const sending = transport(server).send(email(extra as Partial<EmailMessage>));
    // Assess
    await expect(sending).rejects.toBeInstanceOf(ValidationError);
    await expect(sending).rejects.not.toThrow(/eve@example\.com/);
    expect(server.connections()).toBe(0);
  });

  it.each([
    ['a URL of another scheme', { url: 'http://127.0.0.1:25' }, 'url'],
    ['a URL with a query', { url: 'smtp://u:secret-pass@127.0.0.1:25?pool=false' }, 'url'],
    ['no URL and no host', {}, 'host'],
    ['a From with a line break', { url: 'smtp://127.0.0.1', from: 'a@b.example\r\nBcc: x' }, 'from'],
    ['a From without a domain', { url: 'smtp://127.0.0.1', from: 'fanout' }, 'messageIdDomain'],
    ['a bad port', { host: '127.0.0.1', port: 70_000 }, 'port'],
  ])('refuses %s at construction, quoting no secret', (_name, opts, path) => {
    // Act
    const make = () => new SmtpEmailTransport({ from: FROM, ...opts });
    // Assess
    expect(make).toThrow(ValidationError);
    try {
      make();
    } catch (err) {
      expect((err as ValidationError).issues[0]!.path).toBe(path);
      expect((err as Error).message).not.toContain('secret-pass');
    }
  });
});

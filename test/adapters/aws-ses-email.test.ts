import {
  LimitExceededException,
  MailFromDomainNotVerifiedException,
  MessageRejected,
  SESv2Client,
  SendEmailCommand,
  TooManyRequestsException,
} from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MESSAGE_ID_HEADER, SesEmailTransport } from '../../src/adapters/aws/ses-email.ts';
import { TransportRetryableError, ValidationError } from '../../src/domain/errors.ts';
import type { EmailMessage } from '../../src/ports/transports.ts';
import type { AwsClients } from '../../src/runtime/aws-clients.ts';
import { emulatorClients, emulatorEndpoints, uniqueName } from '../support/aws.ts';

/** What aws-ses-v2-local keeps of one email (the fields these tests read). */
interface StoredEmail {
  readonly messageId: string;
  readonly from: string;
  readonly destination: { readonly to: readonly string[] };
  readonly subject: string;
  readonly body: { readonly text?: string; readonly html?: string };
  readonly headers?: readonly { readonly name: string; readonly value: string }[];
}

/** The emails the emulator holds for `to` (other tests share it, so never the whole store). */
async function storedFor(to: string): Promise<StoredEmail[]> {
  const response = await fetch(`${emulatorEndpoints().ses}/store`);
  const { emails } = (await response.json()) as { emails: StoredEmail[] };
  return emails.filter((e) => e.destination.to.includes(to));
}

const UNSUBSCRIBE = {
  'List-Unsubscribe': '<https://fanout.example/v1/unsubscribe?tenant=acme&user=alice>',
  'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
};

function email(to: string, extra: Partial<EmailMessage> = {}): EmailMessage {
  return {
    tenantId: 'acme',
    userId: 'alice',
    to,
    subject: 'bob liked your post',
    text: 'bob liked your post\n\nOpen the app to see it.\n',
    html: '<p>bob liked your post</p>',
    headers: UNSUBSCRIBE,
    messageId: 'm-01HF7YAT0062QBZN3ZRXDW0001',
    ...extra,
  };
}

describe('SesEmailTransport on aws-ses-v2-local', () => {
  let clients: AwsClients;
  beforeEach(() => {
    clients = emulatorClients();
  });
  afterEach(() => {
    clients.destroy();
  });

  it('sends subject, text and HTML with the one-click unsubscribe headers and our message id', async () => {
    // Prepare
    const to = `${uniqueName('user')}@example.com`;
    const transport = new SesEmailTransport({ ses: clients.ses, from: 'notify@fanout.example' });
    // Act
    const result = await transport.send(email(to));
    // Assess
    const [stored, ...more] = await storedFor(to);
    expect(more).toEqual([]);
    expect(result).toEqual({ status: 'sent', providerMessageId: stored!.messageId });
    expect(stored!.from).toBe('notify@fanout.example');
    expect(stored!.subject).toBe('bob liked your post');
    expect(stored!.body).toEqual({
      text: 'bob liked your post\n\nOpen the app to see it.\n',
      html: '<p>bob liked your post</p>',
    });
    expect(stored!.headers).toEqual([
      { name: 'List-Unsubscribe', value: UNSUBSCRIBE['List-Unsubscribe'] },
      { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
      { name: MESSAGE_ID_HEADER, value: 'm-01HF7YAT0062QBZN3ZRXDW0001' },
    ]);
  });

  it('sends a text-only email with no extra headers but the message id, through a configuration set', async () => {
    // Prepare
    const to = `${uniqueName('user')}@example.com`;
    const transport = new SesEmailTransport({
      ses: clients.ses,
      from: 'notify@fanout.example',
      configurationSetName: 'fanout',
    });
    const { html: _html, headers: _headers, ...plain } = email(to);
    // Act
    await transport.send(plain);
    // Assess
    const [stored] = await storedFor(to);
    expect(stored!.body.html).toBeUndefined();
    expect(stored!.headers).toEqual([{ name: MESSAGE_ID_HEADER, value: 'm-01HF7YAT0062QBZN3ZRXDW0001' }]);
  });

  it('refuses a header with a line break before sending', async () => {
    // Prepare
    const to = `${uniqueName('user')}@example.com`;
    const transport = new SesEmailTransport({ ses: clients.ses, from: 'notify@fanout.example' });
    // Act
    const result = transport.send(email(to, { headers: { 'X-Note': 'a\r\nBcc: someone@example.com' } }));
    // Assess
    await expect(result).rejects.toBeInstanceOf(ValidationError);
    expect(await storedFor(to)).toEqual([]);
  });
});

describe('SesEmailTransport against a mocked SES', () => {
  let ses: SESv2Client;
  let mock: ReturnType<typeof mockClient>;
  beforeEach(() => {
    ses = new SESv2Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    mock = mockClient(ses);
  });
  afterEach(() => {
    mock.restore();
    ses.destroy();
  });

  const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode }, $fault: 'client' as const });
  const transport = () =>
    new SesEmailTransport({ ses, from: 'notify@fanout.example', configurationSetName: 'fanout' });

  it('sends the request shape SES v2 documents', async () => {
    // Prepare
    mock.on(SendEmailCommand).resolves({ MessageId: 'ses-1' });
    // Act
    const result = await transport().send(email('alice@example.com'));
    // Assess
    expect(result).toEqual({ status: 'sent', providerMessageId: 'ses-1' });
    expect(mock.commandCalls(SendEmailCommand)[0]!.args[0].input).toEqual({
      FromEmailAddress: 'notify@fanout.example',
      Destination: { ToAddresses: ['alice@example.com'] },
      ConfigurationSetName: 'fanout',
      Content: {
        Simple: {
          Subject: { Data: 'bob liked your post', Charset: 'UTF-8' },
          Body: {
            Text: { Data: 'bob liked your post\n\nOpen the app to see it.\n', Charset: 'UTF-8' },
            Html: { Data: '<p>bob liked your post</p>', Charset: 'UTF-8' },
          },
          Headers: [
            { Name: 'List-Unsubscribe', Value: UNSUBSCRIBE['List-Unsubscribe'] },
            { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
            { Name: MESSAGE_ID_HEADER, Value: 'm-01HF7YAT0062QBZN3ZRXDW0001' },
          ],
        },
      },
    });
  });

  it('rejects what SES refuses for good, with the reason', async () => {
    // Prepare
    const answers = [
      [new MessageRejected({ ...meta(400), message: 'Email address is not verified.' }), 'message_rejected'],
      [
        new MailFromDomainNotVerifiedException({ ...meta(400), message: 'not verified' }),
        'mail_from_domain_not_verified',
      ],
    ] as const;
    for (const [answer, reason] of answers) {
      mock.on(SendEmailCommand).rejects(answer);
      // Act
      const result = await transport().send(email('alice@example.com'));
      // Assess
      expect(result).toEqual({ status: 'rejected', reason });
    }
  });

  it('asks for a plain retry on throttling, the sending quota and 5xx', async () => {
    // Prepare
    const serverError = Object.assign(new Error('internal'), {
      name: 'InternalFailure',
      $metadata: { httpStatusCode: 500 },
    });
    const answers = [
      new TooManyRequestsException({ ...meta(429), message: 'Too many requests' }),
      new LimitExceededException({ ...meta(400), message: 'Daily message quota exceeded' }),
      serverError,
    ];
    for (const answer of answers) {
      mock.on(SendEmailCommand).rejects(answer);
      // Act
      const result = transport().send(email('alice@example.com'));
      // Assess
      await expect(result).rejects.toBeInstanceOf(TransportRetryableError);
      await expect(result).rejects.toMatchObject({ ambiguous: false });
    }
  });

  it('asks for an ambiguous retry when the request timed out after it left', async () => {
    // Prepare
    const reset = Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' });
    mock.on(SendEmailCommand).rejects(reset);
    // Act
    const result = transport().send(email('alice@example.com'));
    // Assess
    await expect(result).rejects.toBeInstanceOf(TransportRetryableError);
    await expect(result).rejects.toMatchObject({ ambiguous: true });
  });
});

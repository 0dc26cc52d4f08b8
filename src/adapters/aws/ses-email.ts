import { type MessageHeader, type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { ValidationError } from '../../domain/errors.ts';
import type { EmailMessage, EmailResult, EmailTransport } from '../../ports/transports.ts';
import { checkEmailMessage, MESSAGE_ID_HEADER } from '../checks/email-message.ts';
import { awsErrorName } from './errors.ts';
import { transportFailure } from './sns-push.ts';

/** Options of {@link SesEmailTransport}. */
export interface SesEmailTransportOptions {
  /** Preferably with `maxAttempts: 1`, for the reason given on SnsPushTransportOptions.sns. */
  readonly ses: SESv2Client;
  /** A verified identity (address or an address of a verified domain). */
  readonly from: string;
  /** Where SES sends bounce, complaint and delivery events. */
  readonly configurationSetName?: string;
}

/** The header that carries our stable message id, for tracing an ambiguous re-send in SES's events. */
export { MESSAGE_ID_HEADER };

/**
 * SES answers that refuse this message for good, with the reason recorded in the audit. Anything
 * else (throttling, the daily quota, a paused account, 5xx, network) is worth a retry later.
 */
const REJECTIONS: Readonly<Record<string, string>> = {
  MessageRejected: 'message_rejected',
  MailFromDomainNotVerifiedException: 'mail_from_domain_not_verified',
  BadRequestException: 'bad_request',
};

/**
 * Email through SES v2 SendEmail with `Simple` content: subject, text and HTML parts, and the
 * message's headers (List-Unsubscribe and List-Unsubscribe-Post for RFC 8058 one-click
 * unsubscribe) plus our message id. One request per email.
 */
export class SesEmailTransport implements EmailTransport {
  readonly #ses: SESv2Client;
  readonly #from: string;
  readonly #configurationSetName: string | undefined;

  constructor(opts: SesEmailTransportOptions) {
    if (typeof opts?.from !== 'string' || opts.from === '') {
      throw new ValidationError([{ path: 'from', message: 'must be an email address' }]);
    }
    this.#ses = opts.ses;
    this.#from = opts.from;
    this.#configurationSetName = opts.configurationSetName;
  }

  async send(message: EmailMessage): Promise<EmailResult> {
    checkEmailMessage(message);
    const headers: MessageHeader[] = Object.entries(message.headers ?? {}).map(([Name, Value]) => ({
      Name,
      Value,
    }));
    headers.push({ Name: MESSAGE_ID_HEADER, Value: message.messageId });
    const text = (Data: string) => ({ Data, Charset: 'UTF-8' });
    try {
      const out = await this.#ses.send(
        new SendEmailCommand({
          FromEmailAddress: this.#from,
          Destination: { ToAddresses: [message.to] },
          Content: {
            Simple: {
              Subject: text(message.subject),
              Body: {
                Text: text(message.text),
                ...(message.html === undefined ? {} : { Html: text(message.html) }),
              },
              Headers: headers,
            },
          },
          ConfigurationSetName: this.#configurationSetName,
        }),
      );
      return { status: 'sent', ...(out.MessageId === undefined ? {} : { providerMessageId: out.MessageId }) };
    } catch (err) {
      const reason = REJECTIONS[awsErrorName(err)];
      if (reason !== undefined) return { status: 'rejected', reason };
      throw transportFailure(err, 'SES SendEmail', true);
    }
  }
}

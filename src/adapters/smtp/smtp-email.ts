import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { TransportRetryableError, ValidationError } from '../../domain/errors.ts';
import type { EmailMessage, EmailResult, EmailTransport } from '../../ports/transports.ts';
import { checkEmailMessage, MESSAGE_ID_HEADER } from '../checks/email-message.ts';
import { smtpFailure } from './smtp-answers.ts';
import { messageIdDomainOf, nodemailerOptions, type SmtpEmailTransportOptions } from './smtp-options.ts';

export type { SmtpEmailTransportOptions } from './smtp-options.ts';

/** How far one send got: set once the whole message (the final "." of DATA included) was written. */
interface SendProgress {
  dataWritten: boolean;
}

/** Where a send's progress rides on nodemailer's copy of the mail options (it copies symbol keys). */
const PROGRESS: unique symbol = Symbol('fanout.smtp.progress');
type TrackedOptions = Mail.Options & { [PROGRESS]?: SendProgress };

/** The left side of a Message-ID: dot-atom text (RFC 5322), as our UUID message ids are. */
const MESSAGE_ID_LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
/** Queue ids as Postfix, Exim, Sendmail and most relays report them in the 250 reply. */
const QUEUED_AS = /\bqueued as ([A-Za-z0-9._-]{1,64})/i;

/**
 * Email over SMTP with nodemailer: the embedded mode's real email. One multipart/alternative
 * message (text and, when given, HTML, UTF-8) per send, with the message's headers (RFC 8058
 * List-Unsubscribe and List-Unsubscribe-Post) and two stable ids: `Message-ID:
 * <messageId@messageIdDomain>`, which mailbox providers use to fold a duplicate, and
 * `X-Fanout-Message-Id`, as SES messages carry it. An ambiguous re-send therefore carries exactly
 * the Message-ID of the attempt it repeats.
 *
 * Connections are pooled (five by default) and nodemailer's own re-queueing is off: whether a
 * failed attempt may have been delivered is decided here, from how far the message got (see
 * `smtp-answers.ts` for the mapping of every SMTP answer). Nothing is logged: nodemailer's logger
 * stays off, and errors keep codes, never a server's reply (it may quote the address).
 */
export class SmtpEmailTransport implements EmailTransport {
  readonly #mailer: Mail<SMTPTransport.SentMessageInfo>;
  readonly #from: string;
  readonly #messageIdDomain: string;
  #closed = false;

  constructor(opts: SmtpEmailTransportOptions) {
    const options = nodemailerOptions(opts);
    this.#from = opts.from;
    this.#messageIdDomain = messageIdDomainOf(opts);
    this.#mailer = nodemailer.createTransport(options as SMTPTransport.Options);
    this.#mailer.use('stream', (mail, done) => {
      const progress = (mail.data as TrackedOptions)[PROGRESS];
      if (progress !== undefined) {
        mail.message.processFunc((output) => {
          // 'end' fires once the connection's DATA stream has read the last byte, right before it
          // writes the final "." — from then on the server may have accepted the message.
          output.once('end', () => {
            progress.dataWritten = true;
          });
          return output;
        });
      }
      done();
    });
  }

  async send(message: EmailMessage): Promise<EmailResult> {
    checkEmailMessage(message);
    if (!MESSAGE_ID_LOCAL.test(message.messageId)) {
      throw new ValidationError([{ path: 'message.messageId', message: 'must be dot-atom text' }]);
    }
    if (this.#closed) {
      // A closed pool takes no message and never answers: fail now, certainly unsent.
      throw new TransportRetryableError('SMTP transport is closed');
    }
    const progress: SendProgress = { dataWritten: false };
    const mail: TrackedOptions = {
      from: this.#from,
      to: message.to,
      subject: message.subject,
      text: message.text,
      html: message.html,
      messageId: `<${message.messageId}@${this.#messageIdDomain}>`,
      headers: { ...message.headers, [MESSAGE_ID_HEADER]: message.messageId },
      [PROGRESS]: progress,
    };
    let info: SMTPTransport.SentMessageInfo;
    try {
      info = await this.#mailer.sendMail(mail);
    } catch (err) {
      const failure = smtpFailure(err, progress.dataWritten);
      if (failure.kind === 'rejected') return { status: 'rejected', reason: failure.reason };
      throw failure.error;
    }
    // One recipient: nodemailer fails the send when the server refuses it, so this is a guard.
    if (info.accepted.length === 0) return { status: 'rejected', reason: 'smtp_recipient_rejected' };
    const queueId = QUEUED_AS.exec(info.response ?? '')?.[1];
    return { status: 'sent', ...(queueId === undefined ? {} : { providerMessageId: queueId }) };
  }

  /** Closes the pooled connections; a send after this fails as retryable. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#mailer.close();
  }
}

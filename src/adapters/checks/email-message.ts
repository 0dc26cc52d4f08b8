import { ValidationError } from '../../domain/errors.ts';
import type { EmailMessage } from '../../ports/transports.ts';

/**
 * Argument checks of the EmailTransport port, shared by its SES and SMTP adapters so both refuse
 * a message that could rewrite its own headers, with the same path and message.
 */

/** The header that carries our stable message id, for tracing an ambiguous re-send. */
export const MESSAGE_ID_HEADER = 'X-Fanout-Message-Id';

/**
 * One bare address (`local@domain`): nothing a mail library would read as a display name, a
 * comment, a group or a second recipient ("a@x.example, b@y.example" is two to nodemailer).
 */
const SINGLE_ADDRESS = /^[^\s@,;:<>()[\]"\\]{1,64}@[^\s@,;:<>()[\]"\\]{1,253}$/;

/** RFC 5322 field name: printable US-ASCII but the colon. */
const FIELD_NAME = /^[!-9;-~]{1,76}$/;

/**
 * Headers the transport writes itself, from the message's fields: an extra header of the same
 * name would add a recipient, change the sender or the structure, or forge our id.
 */
const RESERVED: ReadonlySet<string> = new Set([
  'from',
  'sender',
  'reply-to',
  'to',
  'cc',
  'bcc',
  'subject',
  'date',
  'message-id',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  MESSAGE_ID_HEADER.toLowerCase(),
]);

/**
 * Throws a ValidationError unless the message's required fields are non-empty strings, `to` is
 * one bare address, and every extra header is a well-formed name, not one the transport sets,
 * with one line of text.
 * Messages never echo names or values: a rejected header may carry an address.
 */
export function checkEmailMessage(m: EmailMessage): void {
  for (const key of ['tenantId', 'to', 'subject', 'text', 'messageId'] as const) {
    if (typeof m?.[key] !== 'string' || m[key] === '') {
      throw new ValidationError([{ path: `message.${key}`, message: 'must be a non-empty string' }]);
    }
  }
  if (!SINGLE_ADDRESS.test(m.to)) {
    throw new ValidationError([{ path: 'message.to', message: 'must be one bare email address' }]);
  }
  if (m.html !== undefined && typeof m.html !== 'string') {
    throw new ValidationError([{ path: 'message.html', message: 'must be a string' }]);
  }
  // A line break in the subject would let it add headers of its own (the address has none).
  if (/[\r\n]/.test(m.subject)) {
    throw new ValidationError([{ path: 'message.subject', message: 'must be one line of text' }]);
  }
  Object.entries(m.headers ?? {}).forEach(([name, value], i) => {
    if (!FIELD_NAME.test(name) || RESERVED.has(name.toLowerCase())) {
      throw new ValidationError([
        { path: `message.headers[${i}]`, message: 'must be a header name the transport does not set' },
      ]);
    }
    // A line break in a header would let a value add headers of its own.
    if (typeof value !== 'string' || /[\r\n]/.test(value)) {
      throw new ValidationError([{ path: `message.headers.${name}`, message: 'must be one line of text' }]);
    }
  });
}

import { TransportRetryableError } from '../../domain/errors.ts';

/**
 * What an SMTP failure means for the delivery pipeline. nodemailer reports every failure as an
 * Error with `code` (its own: ECONNECTION, ETIMEDOUT, ESOCKET, EDNS, ETLS, EPROTOCOL, EAUTH,
 * EENVELOPE, EMESSAGE, …), `command` (what it was waiting on: CONN, EHLO, AUTH PLAIN, MAIL FROM,
 * RCPT TO, DATA, API for its own checks) and, when the server answered, `responseCode`. The
 * mapping, first match wins:
 *
 * | failure | result |
 * |---|---|
 * | 530, 534, 535, 538 anywhere (authentication required / failed) | retryable: a deployment error |
 * | 5xx to MAIL FROM but 552 (the sender refused: our From, for every message) | retryable: a deployment error |
 * | 5xx to RCPT TO, DATA, or to the final "."; 552 to MAIL FROM (size) | rejected `smtp_<code>` (550, 552, 553, 554…) |
 * | 5xx anywhere else (greeting, EHLO, STARTTLS) | retryable: the server refuses us, not the message |
 * | 4xx anywhere, after the final "." included (421, 450, 451, 452) | retryable: a definite "not now" |
 * | EENVELOPE / EMESSAGE with no answer (nodemailer refused the address or size itself) | rejected |
 * | no answer (refused, reset, DNS, TLS, timeout, closed) before the final "." was written | retryable |
 * | no answer after the final "." was written | retryable, **ambiguous** |
 *
 * Only the last row is ambiguous: a server accepts a message when it answers the final "." of
 * DATA, so until that dot has left, an unanswered attempt cannot have been delivered, and any
 * answer (4xx, 5xx) is a definite "not delivered". After the dot and without an answer, the server
 * may have queued the message; the retry re-sends it with the same Message-ID.
 *
 * A credential problem is retryable, not a rejection: it is no fault of the message, and a
 * rejection would be final (confirmed and audited as failed), losing every email sent while the
 * password was wrong. Retried, the jobs wait in the queue (or the DLQ, for redrive) until the
 * deployment is fixed.
 */
export type SmtpFailure =
  | { readonly kind: 'rejected'; readonly reason: string }
  | { readonly kind: 'retry'; readonly error: TransportRetryableError };

/** The fields of a nodemailer error this mapping reads. */
interface NodemailerError {
  readonly code?: unknown;
  readonly command?: unknown;
  readonly responseCode?: unknown;
}

/** SMTP replies about authentication (RFC 4954): the account, not the message. */
const AUTH_REPLIES: ReadonlySet<number> = new Set([530, 534, 535, 538]);
/** Commands whose 5xx answer is about this message or its recipient. */
const MESSAGE_COMMANDS: ReadonlySet<string> = new Set(['RCPT TO', 'DATA']);
/** 552 to MAIL FROM is about this message's size (the SIZE parameter), not about the sender. */
const MAIL_FROM_SIZE = 552;
/** nodemailer's own refusals (command `API`) before anything was sent, by code. */
const LOCAL_REJECTIONS: Readonly<Record<string, string>> = {
  EENVELOPE: 'invalid_envelope',
  EMESSAGE: 'invalid_message',
};

/**
 * Maps a failed send. `dataWritten`: the whole message, and so the final "." of DATA, had been
 * handed to the connection when the failure came.
 */
export function smtpFailure(err: unknown, dataWritten: boolean): SmtpFailure {
  const { code, command, responseCode } = fieldsOf(err);
  const at = command ?? 'CONN';
  if (responseCode !== undefined && responseCode >= 400 && responseCode < 600) {
    const reply = `smtp_${responseCode}`;
    if (AUTH_REPLIES.has(responseCode)) return retry(`SMTP authentication failed (${reply})`, false, err);
    if (responseCode >= 500 && MESSAGE_COMMANDS.has(at)) return { kind: 'rejected', reason: reply };
    if (at === 'MAIL FROM' && responseCode === MAIL_FROM_SIZE) return { kind: 'rejected', reason: reply };
    // Any other 5xx to MAIL FROM refuses our sender address, so every email alike: like a bad
    // password, a deployment error that must not turn each message into a final failure.
    return retry(`SMTP server answered ${responseCode} to ${at}`, false, err);
  }
  if (code === 'EAUTH') return retry('SMTP authentication failed', false, err);
  // Over the size the server announced in EHLO: nodemailer stops before MAIL FROM.
  if (code === 'EMESSAGE' && at === 'MAIL FROM') return { kind: 'rejected', reason: 'message_too_large' };
  const local = code === undefined ? undefined : LOCAL_REJECTIONS[code];
  if (local !== undefined && at === 'API') return { kind: 'rejected', reason: local };
  return retry(
    dataWritten
      ? `SMTP connection lost after the message was sent, before the server answered (${code ?? 'error'})`
      : `SMTP connection failed before the message was sent (${code ?? 'error'})`,
    dataWritten,
    err,
  );
}

function retry(message: string, ambiguous: boolean, err: unknown): SmtpFailure {
  return { kind: 'retry', error: new TransportRetryableError(message, { ambiguous, cause: causeOf(err) }) };
}

function fieldsOf(err: unknown): { code?: string; command?: string; responseCode?: number } {
  if (typeof err !== 'object' || err === null) return {};
  const { code, command, responseCode } = err as NodemailerError;
  return {
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof command === 'string' ? { command } : {}),
    ...(typeof responseCode === 'number' && Number.isInteger(responseCode) ? { responseCode } : {}),
  };
}

/**
 * The cause kept on our error: nodemailer's code, command and reply code, never its message or
 * its `recipient` (a server's reply often quotes the address: "550 <alice@…> unknown").
 */
function causeOf(err: unknown): Error {
  const { code, command, responseCode } = fieldsOf(err);
  const cause = new Error(
    [code, command, responseCode].filter((v) => v !== undefined).join(' ') || 'unknown SMTP error',
  );
  cause.name = 'SmtpError';
  return Object.assign(cause, { code, command, responseCode });
}

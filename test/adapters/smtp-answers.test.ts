import { describe, expect, it } from 'vitest';
import { smtpFailure } from '../../src/adapters/smtp/smtp-answers.ts';
import { TransportRetryableError } from '../../src/domain/errors.ts';

/** An error shaped as nodemailer's smtp-connection makes them. */
function nodemailerError(code: string, command: string, responseCode?: number): Error {
  const reply = responseCode === undefined ? '' : `: ${responseCode} <alice@example.com> says no`;
  return Object.assign(new Error(`failed${reply}`), {
    code,
    command,
    ...(responseCode === undefined ? {} : { responseCode, response: `${responseCode} <alice@example.com>` }),
    recipient: 'alice@example.com',
  });
}

describe('smtpFailure', () => {
  it.each([
    ['550 to RCPT TO', nodemailerError('EENVELOPE', 'RCPT TO', 550), 'smtp_550'],
    [
      '552 to MAIL FROM (the message is over the size limit)',
      nodemailerError('EENVELOPE', 'MAIL FROM', 552),
      'smtp_552',
    ],
    ['554 to the DATA command', nodemailerError('EENVELOPE', 'DATA', 554), 'smtp_554'],
    ['552 after the final dot', nodemailerError('EMESSAGE', 'DATA', 552), 'smtp_552'],
    ['an address nodemailer refused itself', nodemailerError('EENVELOPE', 'API'), 'invalid_envelope'],
    ['a message over the announced SIZE', nodemailerError('EMESSAGE', 'MAIL FROM'), 'message_too_large'],
  ])('rejects for good on %s', (_name, err, reason) => {
    expect(smtpFailure(err, false)).toEqual({ kind: 'rejected', reason });
  });

  it.each([
    ['421 to RCPT TO', nodemailerError('EENVELOPE', 'RCPT TO', 421), true],
    ['451 after the final dot', nodemailerError('EMESSAGE', 'DATA', 451), true],
    ['421 as the server closes', nodemailerError('ECONNECTION', 'CONN', 421), true],
    ['554 at the greeting', nodemailerError('EPROTOCOL', 'CONN', 554), false],
    ['535 to AUTH', nodemailerError('EAUTH', 'AUTH PLAIN', 535), false],
    ['530 to MAIL FROM (authentication required)', nodemailerError('EENVELOPE', 'MAIL FROM', 530), false],
    // Our From refused: every message would fail alike, so none may be lost as a final failure.
    ['553 to MAIL FROM (sender not allowed)', nodemailerError('EENVELOPE', 'MAIL FROM', 553), false],
    ['550 to MAIL FROM', nodemailerError('EENVELOPE', 'MAIL FROM', 550), false],
    ['missing credentials', nodemailerError('EAUTH', 'API'), false],
    ['a refused connection', nodemailerError('ESOCKET', 'CONN'), false],
    ['a DNS failure', nodemailerError('EDNS', 'CONN'), false],
    ['a TLS failure', nodemailerError('ETLS', 'STARTTLS'), false],
    ['a connect timeout', nodemailerError('ETIMEDOUT', 'CONN'), false],
    ['something that is not an error', 'boom', false],
  ])('asks for a plain retry on %s, whatever was written', (_name, err, dataWritten) => {
    // Act
    const failure = smtpFailure(err, dataWritten);
    // Assess
    expect(failure.kind).toBe('retry');
    const error = (failure as { error: TransportRetryableError }).error;
    expect(error).toBeInstanceOf(TransportRetryableError);
    expect(error.ambiguous).toBe(false);
  });

  it.each([
    ['a closed connection', nodemailerError('ECONNECTION', 'CONN')],
    ['a socket timeout', nodemailerError('ETIMEDOUT', 'CONN')],
    ['a reset', nodemailerError('ESOCKET', 'CONN')],
    ['an unexpected reply', nodemailerError('EPROTOCOL', 'CONN')],
    ['an error with no code', new Error('Unexpected socket close')],
  ])('calls %s ambiguous only once the whole message was written', (_name, err) => {
    const before = smtpFailure(err, false);
    const after = smtpFailure(err, true);
    expect(before.kind === 'retry' && before.error.ambiguous).toBe(false);
    expect(after.kind === 'retry' && after.error.ambiguous).toBe(true);
  });

  it('keeps codes as the cause, never the reply text or the recipient', () => {
    // Act
    const failure = smtpFailure(nodemailerError('EENVELOPE', 'RCPT TO', 451), false);
    // Assess
    const error = (failure as { error: TransportRetryableError }).error;
    expect(error.message).toBe('SMTP server answered 451 to RCPT TO');
    expect(error.cause).toMatchObject({ code: 'EENVELOPE', command: 'RCPT TO', responseCode: 451 });
    expect(JSON.stringify({ ...(error.cause as object), m: (error.cause as Error).message })).not.toContain(
      'alice',
    );
  });
});

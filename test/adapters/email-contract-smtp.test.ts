import { simpleParser } from 'mailparser';
import { emailTransportContract, type ReceivedEmail } from '../contracts/email-transport.contract.ts';
import { type ReceivedMail, smtpServersClosedAfterEach } from './smtp-fixture.ts';

const smtp = smtpServersClosedAfterEach();

/** The message as a mailbox would read it: decoded parts, and the headers as written, unfolded. */
async function readMail(mail: ReceivedMail): Promise<ReceivedEmail> {
  const parsed = await simpleParser(mail.raw);
  const head = mail.raw.slice(0, mail.raw.indexOf('\r\n\r\n')).replace(/\r\n(?=[ \t])/g, '');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    subject: parsed.subject ?? '',
    text: parsed.text ?? '',
    ...(parsed.html === false ? {} : { html: parsed.html }),
    headers,
  };
}

/*
 * Each test has its own server; the fixture closes it and the transport after the test.
 * Unavailable: 421 "service not available" to RCPT TO. Refused: 550 to RCPT TO.
 */
emailTransportContract('smtp (local smtp-server)', async () => {
  let transactions = 0;
  const server = await smtp.start({
    onMailFrom(_address, _session, callback) {
      transactions++;
      callback();
    },
  });
  const transport = smtp.transport(server, { connectionTimeoutMs: 2_000, socketTimeoutMs: 2_000 });
  return {
    transport,
    received: (to) => Promise.all(server.received.filter((m) => m.to.includes(to)).map(readMail)),
    requests: async () => transactions,
    breakProvider: async () => {
      server.rcpt = 421;
    },
    refuse: async () => {
      server.rcpt = 550;
    },
    close: async () => {},
  };
});

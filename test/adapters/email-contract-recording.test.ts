import { EmbeddedDb } from '../../src/adapters/embedded/db.ts';
import { RecordingEmailTransport } from '../../src/adapters/embedded/recording-transports.ts';
import { TransportRetryableError } from '../../src/domain/errors.ts';
import { targetDigest } from '../../src/domain/keys.ts';
import type { EmailMessage } from '../../src/ports/transports.ts';
import { emailTransportContract, type ReceivedEmail } from '../contracts/email-transport.contract.ts';

/*
 * The recording sink's provider is its table, which keeps digests and counts only: `received`
 * pairs what its fault hook saw with the rows the sink wrote, and the row's message id stands for
 * the X-Fanout-Message-Id header. The hook also gives the provider's answers.
 */
emailTransportContract('recording sink', async () => {
  const db = new EmbeddedDb({ path: ':memory:' });
  const seen: EmailMessage[] = [];
  const refused = new Set<string>();
  let broken = false;
  const transport = new RecordingEmailTransport({
    db,
    fault: (m) => {
      if (broken) return new TransportRetryableError('provider unavailable');
      if (refused.has(m.to)) return { status: 'rejected', reason: 'recipient_refused' };
      seen.push(m);
      return undefined;
    },
  });
  return {
    transport,
    async received(to) {
      const out: ReceivedEmail[] = [];
      for (const m of seen.filter((s) => s.to === to)) {
        const row = await transport.recorded(m.messageId).catch(() => undefined);
        if (row?.target !== targetDigest(to)) continue;
        const headers = Object.entries(m.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]);
        out.push({
          subject: m.subject,
          text: m.text,
          ...(m.html === undefined ? {} : { html: m.html }),
          headers: { ...Object.fromEntries(headers), 'x-fanout-message-id': row.messageId },
        });
      }
      return out;
    },
    requests: async () => (await transport.stats()).sends,
    breakProvider: async () => {
      broken = true;
    },
    refuse: async (to) => {
      refused.add(to);
    },
    close: async () => db.close(),
  };
});

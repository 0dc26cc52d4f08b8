import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TransportRetryableError, ValidationError } from '../../src/domain/errors.ts';
import type { EmailMessage, EmailResult, EmailTransport } from '../../src/ports/transports.ts';

/** One email as the provider received it. */
export interface ReceivedEmail {
  readonly subject: string;
  readonly text: string;
  readonly html?: string;
  /** Every header the provider saw, by lower-cased name. */
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * One adapter in front of its provider (an SMTP server, the SES emulator, a sink), fresh per
 * test, with the provider-side knobs the suite turns.
 */
export interface EmailTransportHarness {
  readonly transport: EmailTransport;
  /** What the provider received for `to`, in order. */
  received(to: string): Promise<readonly ReceivedEmail[]>;
  /** Requests the provider got so far, for every address: what "nothing sent" is measured by. */
  requests(): Promise<number>;
  /** The provider stops serving from now on (unreachable, or "service not available"). */
  breakProvider(): Promise<void>;
  /** The provider refuses mail to `to` for good. Never called when the traits skip the case. */
  refuse(to: string): Promise<void>;
  close(): Promise<void>;
}

/** The cases of the suite, by name, for {@link EmailTransportTraits.knownGaps}. */
export const EmailCase = {
  Sends: 'sends',
  AmbiguousResend: 'ambiguous-resend',
  HeaderInjection: 'header-injection',
  Unavailable: 'unavailable',
  Refused: 'refused',
} as const;
export type EmailCase = (typeof EmailCase)[keyof typeof EmailCase];

/** What the suite must know about an adapter before any harness exists. */
export interface EmailTransportTraits {
  /** Set when the provider cannot be made to refuse a message: why (the case is then skipped). */
  readonly cannotRefuse?: string;
  /**
   * Cases the adapter is known to break, each with why. They run as expected failures, so the
   * suite turns red the day the adapter is fixed and the entry can go.
   */
  readonly knownGaps?: Readonly<Partial<Record<EmailCase, string>>>;
}

/** The header that carries the message id, lower-cased as `received` keys it. */
const MESSAGE_ID_HEADER = 'x-fanout-message-id';
const UNSUBSCRIBE = {
  'List-Unsubscribe': '<https://api.fanout.example/v1/unsubscribe?t=abc>',
  'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
} as const;

let addresses = 0;

/**
 * The EmailTransport port's contract: what every email adapter does the same way. The pipeline
 * relies on each point: one-click unsubscribe headers arrive, an ambiguous re-send keeps the id
 * the provider and the audit trace it by, a header cannot smuggle in another recipient, an
 * unavailable provider retries, and a refusal is final with a reason.
 */
export function emailTransportContract(
  name: string,
  make: () => Promise<EmailTransportHarness>,
  traits: EmailTransportTraits = {},
): void {
  describe(`EmailTransport contract: ${name}`, () => {
    let h: EmailTransportHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    /** `it`, or `it.fails` with the reason in the title when the traits list the case as a gap. */
    const test = (kase: EmailCase, title: string, fn: () => Promise<void>) => {
      const gap = traits.knownGaps?.[kase];
      if (gap === undefined) it(title, fn);
      else it.fails(`${title} [known gap: ${gap}]`, fn);
    };

    /** A message to an address no other test (or run, on a shared emulator) uses. */
    function email(extra: Partial<EmailMessage> = {}): EmailMessage {
      addresses++;
      return {
        tenantId: 'acme',
        userId: 'alice',
        to: `alice-${randomUUID().slice(0, 8)}-${addresses}@example.com`,
        subject: 'Bob a commenté votre publication',
        text: 'Bob a commenté votre publication.\n\nSe désabonner : https://api.fanout.example/v1/unsubscribe?t=abc\n',
        html: '<p>Bob a commenté votre publication.</p>',
        headers: UNSUBSCRIBE,
        messageId: randomUUID(),
        ...extra,
      };
    }

    test(
      EmailCase.Sends,
      'sends once, with subject, text, HTML and the one-click unsubscribe headers',
      async () => {
        // Prepare
        const m = email();
        // Act
        const result = await h.transport.send(m);
        // Assess
        expect(result.status).toBe('sent');
        const received = await h.received(m.to);
        expect(received).toHaveLength(1);
        expect(received[0]).toMatchObject({ subject: m.subject, text: m.text, html: m.html });
        expect(received[0]!.headers).toMatchObject({
          'list-unsubscribe': UNSUBSCRIBE['List-Unsubscribe'],
          'list-unsubscribe-post': UNSUBSCRIBE['List-Unsubscribe-Post'],
        });
      },
    );

    test(EmailCase.AmbiguousResend, 'keeps the message id header on an ambiguous re-send', async () => {
      // Prepare
      const m = email();
      await h.transport.send(m);
      // Act
      const again = await h.transport.send({ ...m, ambiguousRetry: true });
      // Assess
      expect(again.status).toBe('sent');
      const ids = (await h.received(m.to)).map((r) => r.headers[MESSAGE_ID_HEADER]);
      expect(ids).toEqual([m.messageId, m.messageId]);
    });

    test(EmailCase.HeaderInjection, 'refuses a header value with a line break, sending nothing', async () => {
      for (const smuggled of ['ok\r\nBcc: eve@example.com', 'ok\nBcc: eve@example.com']) {
        // Prepare
        const m = email({ headers: { ...UNSUBSCRIBE, 'X-Note': smuggled } });
        const before = await h.requests();
        // Act
        const sending = h.transport.send(m);
        // Assess
        await expect(sending).rejects.toBeInstanceOf(ValidationError);
        expect(await h.requests()).toBe(before);
        expect(await h.received(m.to)).toEqual([]);
      }
    });

    test(
      EmailCase.Unavailable,
      'throws a retryable, unambiguous error when the provider is unavailable, never sent',
      async () => {
        // Prepare
        const m = email();
        await h.breakProvider();
        // Act
        const outcome = await h.transport.send(m).then(
          (result: EmailResult) => ({ result }),
          (thrown: unknown) => ({ thrown }),
        );
        // Assess
        expect(outcome).not.toHaveProperty('result');
        const thrown = 'thrown' in outcome ? outcome.thrown : undefined;
        expect(thrown).toBeInstanceOf(TransportRetryableError);
        // Unreachable, or a "not now" answer before the message: certainly not delivered.
        expect(thrown).toMatchObject({ ambiguous: false });
      },
    );

    const refusedTitle = 'rejects with a reason when the provider refuses the message for good';
    if (traits.cannotRefuse !== undefined)
      it.skip(`${refusedTitle} [skipped: ${traits.cannotRefuse}]`, () => {});
    else
      test(EmailCase.Refused, refusedTitle, async () => {
        // Prepare
        const m = email();
        await h.refuse(m.to);
        // Act
        const result = await h.transport.send(m);
        // Assess
        expect(result).toEqual({ status: 'rejected', reason: expect.stringMatching(/\S/) });
        expect(await h.received(m.to)).toEqual([]);
      });
  });
}

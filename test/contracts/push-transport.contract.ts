import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TransportRetryableError, ValidationError } from '../../src/domain/errors.ts';
import type { Platform } from '../../src/domain/types.ts';
import type { PushMessage, PushResult, PushTransport } from '../../src/ports/transports.ts';

/** One push as the provider received it, in the provider-neutral words of the port. */
export interface ReceivedPush {
  readonly title: string;
  readonly body: string;
  /** Present only when the traits say the provider shows it. */
  readonly collapseId?: string;
  /** Present only when the traits say the provider shows it. */
  readonly messageId?: string;
}

/**
 * One adapter in front of its provider (a fake server, a mocked SDK, a sink), fresh per test, with
 * the provider-side knobs the suite turns.
 */
export interface PushTransportHarness {
  readonly transport: PushTransport;
  /** A fresh device token the provider takes as well-formed, so each test reads only its own sends. */
  token(): string;
  /** What the provider received for `token`, in order: every request that carried it. */
  received(token: string): Promise<readonly ReceivedPush[]>;
  /** Requests the provider got so far, for every token: what "without contacting it" is measured by. */
  requests(): Promise<number>;
  /** The provider answers the next send to `token` with "this token is dead" (APNs 410, …). */
  killToken(token: string): Promise<void>;
  /** The provider stops serving from now on: 5xx beyond the retry budget, or connection refused. */
  breakProvider(): Promise<void>;
  close(): Promise<void>;
}

/** The cases of the suite, by name, for {@link PushTransportTraits.knownGaps}. */
export const PushCase = {
  Sends: 'sends',
  AmbiguousResend: 'ambiguous-resend',
  DeadToken: 'dead-token',
  Unavailable: 'unavailable',
  Unserved: 'unserved-platform',
  EmptyToken: 'empty-token',
  MissingMessageId: 'missing-message-id',
} as const;
export type PushCase = (typeof PushCase)[keyof typeof PushCase];

/** What the suite must know about an adapter before any harness exists. */
export interface PushTransportTraits {
  /** A platform the adapter serves in this harness: the suite's messages are for it. */
  readonly platform: Platform;
  /** A platform the adapter does not serve, or why there is none (the case is then skipped). */
  readonly unserved: Platform | { readonly skip: string };
  /** The ids `received` shows, as the provider carries them. At least one must be. */
  readonly exposes: { readonly collapseId: boolean; readonly messageId: boolean };
  /**
   * Cases the adapter is known to break, each with why. They run as expected failures, so the
   * suite turns red the day the adapter is fixed and the entry can go.
   */
  readonly knownGaps?: Readonly<Partial<Record<PushCase, string>>>;
}

/** A send's outcome without throwing: its result, or what it threw. */
type Outcome = { readonly result: PushResult } | { readonly thrown: unknown };

async function outcomeOf(sending: Promise<PushResult>): Promise<Outcome> {
  try {
    return { result: await sending };
  } catch (thrown) {
    return { thrown };
  }
}

/**
 * The PushTransport port's contract: what every push adapter does the same way, whoever its
 * provider is. The pipeline relies on each point: a dead token deactivates the device, an
 * unavailable provider retries without ever counting as sent, an ambiguous re-send replaces the
 * first copy instead of showing twice, and a bad message never reaches the provider.
 */
export function pushTransportContract(
  name: string,
  make: () => Promise<PushTransportHarness>,
  traits: PushTransportTraits,
): void {
  describe(`PushTransport contract: ${name}`, () => {
    let h: PushTransportHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    /** `it`, or `it.fails` with the reason in the title when the traits list the case as a gap. */
    const test = (kase: PushCase, title: string, fn: () => Promise<void>) => {
      const gap = traits.knownGaps?.[kase];
      if (gap === undefined) it(title, fn);
      else it.fails(`${title} [known gap: ${gap}]`, fn);
    };

    function message(extra: Partial<PushMessage> = {}): PushMessage {
      return {
        tenantId: 'acme',
        userId: 'alice',
        token: h.token(),
        platform: traits.platform,
        title: 'Bob mentioned you',
        body: 'in “Launch plan” ✓',
        category: 'mention',
        collapseId: randomBytes(16).toString('hex'),
        messageId: randomUUID(),
        data: { notificationId: '01JS0000000000000000000000', type: 'mention' },
        ...extra,
      };
    }

    /** What the provider should have received for `m`, with the ids it shows. */
    function seen(m: PushMessage): ReceivedPush {
      return {
        title: m.title,
        body: m.body,
        ...(traits.exposes.collapseId ? { collapseId: m.collapseId } : {}),
        ...(traits.exposes.messageId ? { messageId: m.messageId } : {}),
      };
    }

    test(PushCase.Sends, 'sends a well-formed message once, with its title and body', async () => {
      // Prepare
      const m = message();
      // Act
      const result = await h.transport.send(m);
      // Assess
      expect(result.status).toBe('sent');
      if (result.status === 'sent' && result.providerMessageId !== undefined) {
        expect(result.providerMessageId).toEqual(expect.any(String));
      }
      expect(await h.received(m.token)).toEqual([seen(m)]);
    });

    test(
      PushCase.AmbiguousResend,
      'sends an ambiguous re-send with the same collapse id and message id as the first',
      async () => {
        // Prepare
        expect(traits.exposes.collapseId || traits.exposes.messageId).toBe(true);
        const m = message();
        await h.transport.send(m);
        // Act
        const again = await h.transport.send({ ...m, ambiguousRetry: true });
        // Assess
        expect(again.status).toBe('sent');
        expect(await h.received(m.token)).toEqual([seen(m), seen(m)]);
      },
    );

    test(PushCase.DeadToken, 'rejects a dead token and asks to deactivate the device', async () => {
      // Prepare
      const m = message();
      await h.killToken(m.token);
      // Act
      const result = await h.transport.send(m);
      // Assess
      expect(result).toMatchObject({ status: 'rejected', deactivateDevice: true });
      expect(result.status === 'rejected' && result.reason).toEqual(expect.stringMatching(/\S/));
    });

    test(
      PushCase.Unavailable,
      'throws a retryable, unambiguous error when the provider is unavailable, never sent',
      async () => {
        // Prepare
        const m = message();
        await h.breakProvider();
        // Act
        const outcome = await outcomeOf(h.transport.send(m));
        // Assess
        expect(outcome).not.toHaveProperty('result');
        const thrown = 'thrown' in outcome ? outcome.thrown : undefined;
        expect(thrown).toBeInstanceOf(TransportRetryableError);
        // An answer (5xx) or a refused connection proves nothing was delivered.
        expect(thrown).toMatchObject({ ambiguous: false });
      },
    );

    const unserved = traits.unserved;
    const unservedTitle = 'rejects a platform it does not serve, keeping the device, without a request';
    if (typeof unserved === 'object') it.skip(`${unservedTitle} [skipped: ${unserved.skip}]`, () => {});
    else
      test(PushCase.Unserved, unservedTitle, async () => {
        // Prepare
        const m = message({ platform: unserved });
        const before = await h.requests();
        // Act
        const result = await h.transport.send(m);
        // Assess
        expect(result).toEqual({
          status: 'rejected',
          reason: 'platform_not_configured',
          deactivateDevice: false,
        });
        expect(await h.requests()).toBe(before);
      });

    /** Refused (thrown ValidationError or resolved `rejected`) and the provider never called. */
    async function refusedWithoutRequest(m: PushMessage): Promise<void> {
      const before = await h.requests();
      const outcome = await outcomeOf(h.transport.send(m));
      if ('thrown' in outcome) expect(outcome.thrown).toBeInstanceOf(ValidationError);
      else expect(outcome.result.status).toBe('rejected');
      expect(await h.requests()).toBe(before);
    }

    test(PushCase.EmptyToken, 'refuses an empty token without contacting the provider', async () => {
      // Act / Assess
      await refusedWithoutRequest(message({ token: '' }));
    });

    test(
      PushCase.MissingMessageId,
      'refuses a message without an id without contacting the provider',
      async () => {
        // Act / Assess
        await refusedWithoutRequest(message({ messageId: undefined as unknown as string }));
        await refusedWithoutRequest(message({ messageId: '' }));
      },
    );
  });
}

import { TransportRetryableError, ValidationError } from '../../../domain/errors.ts';
import { Platform } from '../../../domain/types.ts';
import { sleep } from '../../../lib/sleep.ts';
import { type Clock, systemClock } from '../../../ports/clock.ts';
import { type Logger, silentLogger } from '../../../ports/logger.ts';
import type { PushMessage, PushResult, PushTransport } from '../../../ports/transports.ts';
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from '../backoff.ts';
import { Http2Pool, Http2RequestError, type Http2Response } from '../http2-pool.ts';
import { checkPushMessage } from '../message-checks.ts';
import { AccessTokenSource } from './access-token.ts';
import { FCM_MAX_PAYLOAD_BYTES, fcmMessage, fcmPayloadBytes } from './payload.ts';
import { classifyFcmResponse } from './responses.ts';
import type { ServiceAccount } from './service-account.ts';

export { parseServiceAccount, type ServiceAccount } from './service-account.ts';

/** FCM registration tokens are far shorter; anything longer is not one (FCM's own bound). */
const MAX_TOKEN_LENGTH = 4096;

/** Options of {@link FcmTransport}. */
export interface FcmTransportOptions {
  /** The Firebase project's service account, from {@link parseServiceAccount}. */
  readonly serviceAccount: ServiceAccount;
  /** @default 'https://fcm.googleapis.com' */
  readonly origin?: string;
  /** TLS trust for tests, for the send endpoint and the token endpoint; production uses the system CAs. */
  readonly ca?: string | Buffer;
  /** HTTP/2 sessions to FCM. @default 2 */
  readonly connections?: number;
  /** android.ttl (and apns-expiration) when the message has no expiresAt. @default 86_400 */
  readonly defaultTtlSeconds?: number;
  /** Tries on 429 / 5xx within one send. @default DEFAULT_BACKOFF (3 tries) */
  readonly backoff?: BackoffPolicy;
  /** Most time one send may spend sleeping between tries; a longer wait goes back to the queue. @default 10_000 */
  readonly retryBudgetMs?: number;
  /** How the transport waits between tries (tests record instead). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** From request start to full answer, per request. @default 15_000 */
  readonly requestTimeoutMs?: number;
  /** For message lifetimes, Retry-After dates and the access token's lifetime. @default systemClock */
  readonly clock?: Clock;
  /** Ids, statuses and reasons only: never tokens. */
  readonly logger?: Logger;
}

/**
 * Push straight to FCM HTTP v1 (`projects.messages.send`) over a small HTTP/2 pool, authorised
 * by an OAuth2 access token from the service account (fetched once, shared, refreshed before it
 * expires).
 *
 * Answers: 200 → sent (`name` as the provider's id). UNREGISTERED, or INVALID_ARGUMENT about the
 * token → rejected and the device deactivated; INVALID_ARGUMENT about the payload,
 * SENDER_ID_MISMATCH, THIRD_PARTY_AUTH_ERROR → rejected, device kept. 401 → one new access token
 * and one re-send. 429 / 5xx → full-jitter backoff honouring Retry-After within the retry
 * budget, then TransportRetryableError (with the provider's retryAfterMs; a 429 without one asks
 * for a minute, as FCM documents, so it goes back to the queue at once). No answer at all →
 * TransportRetryableError, `ambiguous` when the request may have reached FCM (a timeout or a
 * connection lost after it was written): it is never re-sent here, and the pipeline's re-send
 * carries the same collapse key, so it replaces rather than duplicates.
 */
export class FcmTransport implements PushTransport {
  readonly #pool: Http2Pool;
  readonly #tokens: AccessTokenSource;
  readonly #path: string;
  readonly #defaultTtlSeconds: number;
  readonly #backoff: BackoffPolicy;
  readonly #budgetMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #clock: Clock;
  readonly #logger: Logger;

  constructor(opts: FcmTransportOptions) {
    const account = opts?.serviceAccount;
    if (typeof account?.projectId !== 'string' || account.projectId === '') {
      throw new ValidationError([{ path: 'serviceAccount', message: 'must be a parsed service account' }]);
    }
    const timeout = opts.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: opts.requestTimeoutMs };
    const ca = opts.ca === undefined ? {} : { ca: opts.ca };
    this.#clock = opts.clock ?? systemClock;
    this.#logger = opts.logger ?? silentLogger;
    this.#pool = new Http2Pool({
      origin: opts.origin ?? 'https://fcm.googleapis.com',
      size: opts.connections ?? 2,
      ...ca,
      ...timeout,
    });
    this.#tokens = new AccessTokenSource({
      serviceAccount: account,
      clock: this.#clock,
      logger: this.#logger,
      ...ca,
      ...timeout,
    });
    this.#path = `/v1/projects/${account.projectId}/messages:send`;
    this.#defaultTtlSeconds = opts.defaultTtlSeconds ?? 86_400;
    this.#backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.#budgetMs = opts.retryBudgetMs ?? 10_000;
    this.#sleep = opts.sleep ?? sleep;
  }

  async send(message: PushMessage): Promise<PushResult> {
    checkMessage(message);
    if (message.platform !== Platform.Fcm) {
      return { status: 'rejected', reason: 'platform_not_configured', deactivateDevice: false };
    }
    // What FCM would answer (INVALID_ARGUMENT on message.token) without the round trip.
    if (message.token === '' || message.token.length > MAX_TOKEN_LENGTH) {
      return { status: 'rejected', reason: 'invalid_token', deactivateDevice: true };
    }
    if (fcmPayloadBytes(message) > FCM_MAX_PAYLOAD_BYTES) {
      return { status: 'rejected', reason: 'payload_too_large', deactivateDevice: false };
    }
    const body = JSON.stringify({
      message: fcmMessage(message, {
        withToken: true,
        defaultTtlSeconds: this.#defaultTtlSeconds,
        now: this.#clock.now(),
      }),
    });
    let reauthorised = false;
    let tries = 0;
    let slept = 0;
    for (;;) {
      const accessToken = await this.#tokens.get();
      const answer = classifyFcmResponse(await this.#post(accessToken, body), this.#clock.now());
      if (answer.kind === 'final') return answer.result;
      if (answer.kind === 'unauthenticated') {
        // Revoked or expired early: one new token (shared with every send that got the same
        // 401) and one re-send, which does not count as a try. A second 401 is not a token
        // problem we can fix here.
        if (reauthorised) throw new TransportRetryableError('fcm refused a fresh access token (401)');
        reauthorised = true;
        this.#tokens.invalidate(accessToken);
        continue;
      }
      tries++;
      const { retryAfterMs } = answer;
      const later = { ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
      const what = `fcm answered ${answer.status} (${answer.reason})`;
      if (tries >= this.#backoff.attempts) {
        throw new TransportRetryableError(`${what} after ${tries} tries`, later);
      }
      const delay = backoffDelay(tries, this.#backoff, retryAfterMs);
      if (slept + delay > this.#budgetMs) {
        throw new TransportRetryableError(`${what}; the next try would exceed the retry budget`, later);
      }
      this.#logger.debug('fcm send retried', { tenantId: message.tenantId, status: answer.status, delay });
      await this.#sleep(delay);
      slept += delay;
    }
  }

  /** Stops new sends; those in flight finish (or time out) first. */
  async close(): Promise<void> {
    await this.#pool.close();
  }

  async #post(accessToken: string, body: string): Promise<Http2Response> {
    try {
      return await this.#pool.request({
        method: 'POST',
        path: this.#path,
        headers: {
          authorization: `Bearer ${accessToken}`,
          'content-type': 'application/json; charset=utf-8',
        },
        body,
      });
    } catch (err) {
      if (!(err instanceof Http2RequestError)) throw err;
      // sent: the request was written before the answer failed to come: FCM may have it.
      const what = err.sent ? 'fcm send got no answer' : 'fcm send did not leave';
      throw new TransportRetryableError(`${what} (${err.code})`, { ambiguous: err.sent, cause: err });
    }
  }
}

/** The fields every push must have; a message missing one is a bug upstream, not a provider answer. */
function checkMessage(m: PushMessage): void {
  checkPushMessage(m);
  if (typeof m.token !== 'string') {
    throw new ValidationError([{ path: 'message.token', message: 'must be a string' }]);
  }
  for (const [key, value] of Object.entries(m.data ?? {})) {
    if (typeof value !== 'string') {
      throw new ValidationError([{ path: `message.data.${key}`, message: 'must be a string' }]);
    }
  }
}

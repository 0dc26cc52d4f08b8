import webPush from 'web-push';
import { TransportRetryableError, ValidationError } from '../../../domain/errors.ts';
import { Platform } from '../../../domain/types.ts';
import { DEFAULT_WEB_PUSH_HOSTS, endpointAllowed } from '../../../domain/web-push-endpoints.ts';
import { parseWebPushToken, type WebPushSubscription } from '../../../domain/web-push-subscription.ts';
import { errorName } from '../../../lib/error-name.ts';
import { sleep } from '../../../lib/sleep.ts';
import { type Clock, systemClock } from '../../../ports/clock.ts';
import { type Logger, silentLogger } from '../../../ports/logger.ts';
import type { PushMessage, PushResult, PushTransport } from '../../../ports/transports.ts';
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from '../backoff.ts';
import { checkPushMessage } from '../message-checks.ts';
import { WEB_PUSH_MAX_PAYLOAD_BYTES, webPushPayload, webPushTopic, webPushUrgency } from './payload.ts';
import { classifyWebPushResponse } from './responses.ts';
import { checkVapidKeys, type VapidKeys } from './vapid.ts';

export type { VapidKeys } from './vapid.ts';

/** Options of {@link WebPushTransport}. */
export interface WebPushTransportOptions {
  /** The application server's VAPID keys and contact; checked here (ValidationError). */
  readonly vapid: VapidKeys;
  /** `TTL` when the message has no expiresAt: how long an offline browser's push is kept. @default 86_400 */
  readonly defaultTtlSeconds?: number;
  /** Tries on 429 / 5xx within one send. @default DEFAULT_BACKOFF (3 tries) */
  readonly backoff?: BackoffPolicy;
  /** Most time one send may spend sleeping between tries; a longer wait goes back to the queue. @default 10_000 */
  readonly retryBudgetMs?: number;
  /** How the transport waits between tries (tests record instead). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** From request start to full answer, per request. @default 15_000 */
  readonly requestTimeoutMs?: number;
  /** For message lifetimes and Retry-After dates. @default systemClock */
  readonly clock?: Clock;
  /** Statuses and delays only: never an endpoint, a key or a payload. */
  readonly logger?: Logger;
  /**
   * The push services' hosts an endpoint may name (`endpointAllowed`); a subscription elsewhere is
   * refused without a request and its device deactivated. @default DEFAULT_WEB_PUSH_HOSTS
   */
  readonly endpointHosts?: readonly string[];
}

/** Connection failures that prove the request never left: a re-send cannot make a duplicate. */
const NOT_CONNECTED: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);

/**
 * Web Push (RFC 8030) to the push service a browser subscribed with: the payload encrypted to the
 * subscription's keys (aes128gcm, RFC 8291) and signed for with VAPID (RFC 8292) by the `web-push`
 * package, POSTed here with `fetch` so every answer is ours to read.
 *
 * Headers: `TTL` from the message's expiry (else the default), `Urgency` high for critical notices
 * and mentions, `Topic` from the collapse id, so a re-send of one notification to one browser
 * replaces the copy the push service still holds instead of showing twice.
 *
 * Answers (see `responses.ts`): 2xx → sent; 404 / 410 → rejected and the device deactivated;
 * 413, 400, 401, 403 → rejected, device kept; 429 / 5xx → full-jitter backoff honouring
 * Retry-After within the retry budget, then TransportRetryableError. No answer → retryable,
 * `ambiguous` unless the connection was never made.
 */
export class WebPushTransport implements PushTransport {
  readonly #vapid: VapidKeys;
  readonly #defaultTtlSeconds: number;
  readonly #backoff: BackoffPolicy;
  readonly #budgetMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #endpointHosts: readonly string[];

  constructor(opts: WebPushTransportOptions) {
    checkVapidKeys(opts?.vapid);
    this.#vapid = opts.vapid;
    this.#defaultTtlSeconds = opts.defaultTtlSeconds ?? 86_400;
    this.#backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.#budgetMs = opts.retryBudgetMs ?? 10_000;
    this.#sleep = opts.sleep ?? sleep;
    this.#timeoutMs = opts.requestTimeoutMs ?? 15_000;
    this.#clock = opts.clock ?? systemClock;
    this.#logger = opts.logger ?? silentLogger;
    this.#endpointHosts = opts.endpointHosts ?? DEFAULT_WEB_PUSH_HOSTS;
  }

  /** The application server key browsers subscribe with (`PushManager.subscribe`). */
  get publicKey(): string {
    return this.#vapid.publicKey;
  }

  async send(message: PushMessage): Promise<PushResult> {
    checkMessage(message);
    if (message.platform !== Platform.WebPush) {
      return { status: 'rejected', reason: 'platform_not_configured', deactivateDevice: false };
    }
    const subscription = parseWebPushToken(message.token);
    if (subscription === undefined) {
      return { status: 'rejected', reason: 'invalid_token', deactivateDevice: true };
    }
    if (!endpointAllowed(subscription.endpoint, this.#endpointHosts)) {
      return { status: 'rejected', reason: 'endpoint_not_allowed', deactivateDevice: true };
    }
    const payload = webPushPayload(message);
    if (Buffer.byteLength(payload) > WEB_PUSH_MAX_PAYLOAD_BYTES) {
      return { status: 'rejected', reason: 'payload_too_large', deactivateDevice: false };
    }
    let tries = 0;
    let slept = 0;
    for (;;) {
      // Encrypted afresh per try (a new salt and sender key each time) and signed with a fresh JWT.
      const answer = await this.#post(subscription, payload, message);
      if (answer.kind === 'final') return answer.result;
      tries++;
      const { retryAfterMs } = answer;
      const later = { ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
      const what = `push service answered ${answer.status}`;
      if (tries >= this.#backoff.attempts) {
        throw new TransportRetryableError(`${what} after ${tries} tries`, later);
      }
      const delay = backoffDelay(tries, this.#backoff, retryAfterMs);
      if (slept + delay > this.#budgetMs) {
        throw new TransportRetryableError(`${what}; the next try would exceed the retry budget`, later);
      }
      this.#logger.debug('web push send retried', {
        tenantId: message.tenantId,
        status: answer.status,
        delay,
      });
      await this.#sleep(delay);
      slept += delay;
    }
  }

  /** Nothing to release: `fetch` keeps its own connection pool. */
  async close(): Promise<void> {}

  async #post(subscription: WebPushSubscription, payload: string, m: PushMessage) {
    const now = this.#clock.now();
    const ttl =
      m.expiresAt === undefined
        ? this.#defaultTtlSeconds
        : Math.max(0, Math.ceil((m.expiresAt - now) / 1000));
    const request = webPush.generateRequestDetails(subscription, payload, {
      vapidDetails: this.#vapid,
      TTL: ttl,
      urgency: webPushUrgency(m),
      topic: webPushTopic(m),
      contentEncoding: 'aes128gcm',
    });
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      // fetch sets the length of the body itself.
      if (name.toLowerCase() !== 'content-length') headers[name] = String(value);
    }
    let res: Response;
    try {
      res = await fetch(request.endpoint, {
        method: 'POST',
        headers,
        body: request.body ?? undefined,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      const code = causeCode(err);
      const sent = code === undefined || !NOT_CONNECTED.has(code);
      const what = sent ? 'web push send got no answer' : 'web push send did not leave';
      throw new TransportRetryableError(`${what} (${code ?? errorName(err)})`, {
        ambiguous: sent,
        cause: err,
      });
    }
    // The body is never read into a message (it may echo the request); drained to free the socket.
    await res.body?.cancel().catch(() => {});
    return classifyWebPushResponse(
      res.status,
      res.headers.get('retry-after') ?? undefined,
      this.#clock.now(),
    );
  }
}

/** The fields every push must have; a message missing one is a bug upstream, not a provider answer. */
function checkMessage(m: PushMessage): void {
  checkPushMessage(m);
  if (typeof m.token !== 'string') {
    throw new ValidationError([{ path: 'message.token', message: 'must be a string' }]);
  }
  if (m.token === '') {
    throw new ValidationError([{ path: 'message.token', message: 'must be a non-empty string' }]);
  }
}

/** The system error code under fetch's `TypeError: fetch failed`, if any. */
function causeCode(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

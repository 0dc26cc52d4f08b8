import { TransportRetryableError } from '../../../domain/errors.ts';
import { Platform } from '../../../domain/types.ts';
import { sleep as realSleep } from '../../../lib/sleep.ts';
import { type Clock, systemClock } from '../../../ports/clock.ts';
import { type Logger, silentLogger } from '../../../ports/logger.ts';
import type { PushMessage, PushResult, PushTransport } from '../../../ports/transports.ts';
import { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF } from '../backoff.ts';
import { Http2Pool, type Http2Response } from '../http2-pool.ts';
import { checkPushMessage } from '../message-checks.ts';
import { BadTokenGuard } from './bad-token-guard.ts';
import { APNS_ORIGINS, type ApnsTransportOptions, checkApnsOptions } from './options.ts';
import { APNS_MAX_COLLAPSE_ID_BYTES, APNS_MAX_PAYLOAD_BYTES, apnsHeaders, apnsPayload } from './payload.ts';
import { ProviderTokens } from './provider-token.ts';
import { ApnsReason, classifyApnsResponse } from './responses.ts';
import { sendFailure } from './send-failure.ts';

export { APNS_ORIGINS, type ApnsTransportOptions } from './options.ts';

const HEX_TOKEN = /^[0-9a-fA-F]+$/;

/**
 * Push straight to Apple over the APNs provider API: HTTP/2, token-based authentication (an ES256
 * JWT from the team's .p8 key), a small pool of long-lived connections.
 *
 * A message is checked before anything is sent (platform, hex token, collapse id and payload
 * sizes). Answers map as {@link classifyApnsResponse} says. Throttling and 5xx answers are retried
 * here with full-jitter backoff honouring Retry-After while the retry budget lasts, then handed
 * back as TransportRetryableError. A request that may have reached Apple without an answer
 * (timeout, reset, dropped connection) is never repeated here: it is thrown as ambiguous, and the
 * pipeline's re-send carries the same apns-id and apns-collapse-id.
 */
export class ApnsTransport implements PushTransport {
  /** The origin requests go to. */
  readonly origin: string;
  readonly #topic: string;
  readonly #pool: Http2Pool;
  readonly #tokens: ProviderTokens;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #defaultTtlSeconds: number;
  readonly #backoff: BackoffPolicy;
  readonly #retryBudgetMs: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #guard = new BadTokenGuard();

  constructor(opts: ApnsTransportOptions) {
    const key = checkApnsOptions(opts);
    this.origin = opts.origin ?? APNS_ORIGINS[opts.environment ?? 'production'];
    this.#topic = opts.topic;
    this.#clock = opts.clock ?? systemClock;
    this.#logger = opts.logger ?? silentLogger;
    this.#defaultTtlSeconds = opts.defaultTtlSeconds ?? 86_400;
    this.#backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.#retryBudgetMs = opts.retryBudgetMs ?? 10_000;
    this.#sleep = opts.sleep ?? realSleep;
    this.#tokens = new ProviderTokens({
      key,
      keyId: opts.keyId,
      teamId: opts.teamId,
      clock: this.#clock,
      ...(opts.refreshAfterMs === undefined ? {} : { refreshAfterMs: opts.refreshAfterMs }),
    });
    this.#pool = new Http2Pool({
      origin: this.origin,
      size: opts.connections ?? 2,
      ...(opts.ca === undefined ? {} : { ca: opts.ca }),
      ...(opts.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: opts.requestTimeoutMs }),
    });
  }

  async send(message: PushMessage): Promise<PushResult> {
    checkPushMessage(message);
    const refused = precheck(message);
    if (refused !== undefined) return refused;
    const body = JSON.stringify(apnsPayload(message));
    if (Buffer.byteLength(body, 'utf8') > APNS_MAX_PAYLOAD_BYTES) {
      return { status: 'rejected', reason: 'payload_too_large', deactivateDevice: false };
    }
    const log = { tenantId: message.tenantId, messageId: message.messageId };
    let slept = 0;
    let refreshed = false;
    let jwt = this.#tokens.current();
    for (let attempt = 1; ; attempt++) {
      const res = await this.#post(message, body, jwt);
      const outcome = classifyApnsResponse(res, this.#clock.now());
      this.#guard.record(outcome.kind === 'rejected' && outcome.reason === ApnsReason.BadDeviceToken);
      switch (outcome.kind) {
        case 'sent': {
          const { kind: _, ...result } = outcome;
          return { status: 'sent', ...result };
        }
        case 'rejected': {
          const { kind: _, ...result } = outcome;
          this.#logger.info('APNs rejected a push', { ...log, status: res.status, reason: outcome.reason });
          if (outcome.reason === ApnsReason.BadDeviceToken && this.#guard.tripped) {
            this.#logger.error(
              'most APNs answers are BadDeviceToken: is the environment (sandbox / production) right? Devices are kept',
              {
                origin: this.origin,
              },
            );
            return { status: 'rejected', ...result, deactivateDevice: false };
          }
          return { status: 'rejected', ...result };
        }
        case 'refresh':
          // Expired again right after a fresh token: the clock or key is wrong, another token won't help.
          if (refreshed) return { status: 'rejected', reason: outcome.reason, deactivateDevice: false };
          refreshed = true;
          jwt = this.#tokens.replace(jwt);
          attempt--;
          continue;
        case 'retry': {
          const { retryAfterMs } = outcome;
          const delay = backoffDelay(attempt, this.#backoff, retryAfterMs);
          if (attempt >= this.#backoff.attempts || slept + delay > this.#retryBudgetMs) {
            this.#logger.warn('APNs asked to retry later', {
              ...log,
              status: res.status,
              reason: outcome.reason,
            });
            throw new TransportRetryableError(`APNs answered ${res.status} ${outcome.reason}`, {
              ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
            });
          }
          await this.#sleep(delay);
          slept += delay;
          // current(), never replace(): after TooManyProviderTokenUpdates a new token would make it worse.
          jwt = this.#tokens.current();
        }
      }
    }
  }

  /** Closes the connections once the requests in flight are answered. */
  async close(): Promise<void> {
    await this.#pool.close();
  }

  async #post(message: PushMessage, body: string, jwt: string): Promise<Http2Response> {
    const headers = apnsHeaders(message, {
      topic: this.#topic,
      nowMs: this.#clock.now(),
      defaultTtlSeconds: this.#defaultTtlSeconds,
    });
    try {
      return await this.#pool.request({
        method: 'POST',
        path: `/3/device/${message.token}`,
        // A fresh object from apnsHeaders: set in place rather than copied once more per push.
        headers: Object.assign(headers, { authorization: `bearer ${jwt}` }),
        body,
      });
    } catch (err) {
      const failure = sendFailure(err);
      this.#logger.warn('APNs request failed without an answer', {
        tenantId: message.tenantId,
        messageId: message.messageId,
        ambiguous: failure.ambiguous,
        ...(message.ambiguousRetry ? { ambiguousRetry: true } : {}),
      });
      throw failure;
    }
  }
}

/** A refusal for a message APNs would refuse anyway; undefined when it may be sent. */
function precheck(m: PushMessage): PushResult | undefined {
  if (m.platform !== Platform.Apns) {
    return { status: 'rejected', reason: 'platform_not_configured', deactivateDevice: false };
  }
  if (typeof m.token !== 'string' || !HEX_TOKEN.test(m.token)) {
    return { status: 'rejected', reason: 'BadDeviceToken', deactivateDevice: true };
  }
  if (Buffer.byteLength(m.collapseId ?? '', 'utf8') > APNS_MAX_COLLAPSE_ID_BYTES) {
    return { status: 'rejected', reason: 'collapse_id_too_long', deactivateDevice: false };
  }
  return undefined;
}

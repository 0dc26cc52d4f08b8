import { createSign } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { TransportRetryableError } from '../../../domain/errors.ts';
import { errorName } from '../../../lib/error-name.ts';
import { type Clock, systemClock } from '../../../ports/clock.ts';
import { type Logger, silentLogger } from '../../../ports/logger.ts';
import type { ServiceAccount } from './service-account.ts';

/** The OAuth2 scope that allows sending through FCM HTTP v1. */
export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
/** Lifetime asked for in the assertion; Google's maximum. */
const ASSERTION_LIFETIME_S = 3600;
/** A cached token is replaced this long before it runs out, so no send carries a dying one. */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** More than any token answer; a bigger body is not the endpoint we think it is. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** Options of {@link AccessTokenSource}. */
export interface AccessTokenSourceOptions {
  readonly serviceAccount: ServiceAccount;
  /** TLS trust for the token endpoint (tests); production uses the system CAs. */
  readonly ca?: string | Buffer;
  /** From request start to full answer. @default 10_000 */
  readonly requestTimeoutMs?: number;
  /** Stamps the assertion and times the cache. @default systemClock */
  readonly clock?: Clock;
  readonly logger?: Logger;
}

interface CachedToken {
  readonly token: string;
  /** Epoch ms after which the token is replaced. */
  readonly refreshAt: number;
  /** Epoch ms after which Google refuses it. */
  readonly expiresAt: number;
}

/**
 * OAuth2 access tokens for FCM, from the service account by the JWT-bearer grant (RFC 7523):
 * an RS256 assertion signed with the account's key, exchanged at its `token_uri`.
 *
 * One token is cached and shared until 5 minutes before it runs out. Fetches are single-flight:
 * however many sends need a token at once, one request goes out and all of them wait for it.
 * A failed fetch is a TransportRetryableError that is never ambiguous (no push has left yet);
 * while the old token has not actually expired, a failed refresh falls back to it.
 */
export class AccessTokenSource {
  readonly #account: ServiceAccount;
  readonly #ca: string | Buffer | undefined;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  #cached: CachedToken | undefined;
  #pending: Promise<string> | undefined;

  constructor(opts: AccessTokenSourceOptions) {
    this.#account = opts.serviceAccount;
    this.#ca = opts.ca;
    this.#timeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.#clock = opts.clock ?? systemClock;
    this.#logger = opts.logger ?? silentLogger;
  }

  /** A token good for at least a few more minutes; fetches one when needed. */
  get(): Promise<string> {
    const cached = this.#cached;
    if (cached !== undefined && this.#clock.now() < cached.refreshAt) return Promise.resolve(cached.token);
    this.#pending ??= this.#refresh().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  /**
   * Forgets `token` when it is still the cached one (FCM answered 401 to it). Sends that got the
   * same 401 concurrently all call this; only the first drops the cache, so one fetch follows.
   */
  invalidate(token: string): void {
    if (this.#cached?.token === token) this.#cached = undefined;
  }

  async #refresh(): Promise<string> {
    const started = this.#clock.now();
    try {
      const { token, expiresInS } = await this.#fetch(started);
      const lifetimeMs = expiresInS * 1000;
      // A short-lived token (not Google's usual hour) is refreshed at half its life instead.
      const margin = Math.min(REFRESH_MARGIN_MS, lifetimeMs / 2);
      this.#cached = { token, refreshAt: started + lifetimeMs - margin, expiresAt: started + lifetimeMs };
      this.#logger.debug('fcm access token fetched', { expiresInS });
      return token;
    } catch (err) {
      const old = this.#cached;
      if (old !== undefined && this.#clock.now() < old.expiresAt) {
        this.#logger.warn('fcm access token refresh failed, using the current one', {
          error: errorName(err),
        });
        return old.token;
      }
      throw err;
    }
  }

  async #fetch(nowMs: number): Promise<{ token: string; expiresInS: number }> {
    const form = new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion: signAssertion(this.#account, nowMs),
    }).toString();
    let answer: { status: number; body: string };
    try {
      answer = await postForm(new URL(this.#account.tokenUri), form, this.#ca, this.#timeoutMs);
    } catch (err) {
      throw new TransportRetryableError(`fcm token endpoint did not answer (${errorName(err)})`, {
        cause: err,
      });
    }
    const body = parseJson(answer.body);
    if (answer.status !== 200) {
      // OAuth2 error codes (invalid_grant, …) say what is wrong and carry no secret; the rest may.
      const code =
        typeof body?.error === 'string' && /^[a-z_]{1,64}$/.test(body.error) ? ` (${body.error})` : '';
      throw new TransportRetryableError(`fcm token endpoint answered ${answer.status}${code}`);
    }
    const token = body?.access_token;
    const expiresInS = body?.expires_in;
    const type = body?.token_type;
    if (
      typeof token !== 'string' ||
      token === '' ||
      typeof expiresInS !== 'number' ||
      !(expiresInS > 0) ||
      (type !== undefined && String(type).toLowerCase() !== 'bearer')
    ) {
      throw new TransportRetryableError('fcm token endpoint answered without a usable bearer token');
    }
    return { token, expiresInS };
  }
}

/**
 * The signed JWT the service account presents: RS256 with node:crypto, `kid` naming the key,
 * the FCM scope, audience the token endpoint, valid for an hour from `nowMs`.
 */
export function signAssertion(account: ServiceAccount, nowMs: number): string {
  const iat = Math.floor(nowMs / 1000);
  const header = { alg: 'RS256', typ: 'JWT', kid: account.privateKeyId };
  const claims = {
    iss: account.clientEmail,
    scope: FCM_SCOPE,
    aud: account.tokenUri,
    iat,
    exp: iat + ASSERTION_LIFETIME_S,
  };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256').update(input).sign(account.privateKey);
  return `${input}.${signature.toString('base64url')}`;
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** One POST over HTTP/1.1 (node:https, so `ca` applies), no connection kept: it runs once an hour. */
function postForm(
  url: URL,
  form: string,
  ca: string | Buffer | undefined,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  const client = url.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (err: Error | undefined, answer?: { status: number; body: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err === undefined) resolve(answer!);
      else reject(err);
    };
    const req = client.request(url, {
      method: 'POST',
      agent: false,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(Buffer.byteLength(form)),
        accept: 'application/json',
      },
      ca,
    });
    const timer = setTimeout(() => req.destroy(codedError('ETIMEDOUT', 'timeout')), timeoutMs);
    req.once('error', (err) => settle(err));
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) req.destroy(codedError('ETOOLARGE', 'answer too large'));
        else chunks.push(chunk);
      });
      res.once('error', (err) => settle(err));
      res.once('end', () =>
        settle(undefined, { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.once('close', () => settle(codedError('ECONNRESET', 'answer cut short')));
    });
    req.end(form);
  });
}

function codedError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

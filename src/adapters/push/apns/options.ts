import type { KeyObject } from 'node:crypto';
import { type FieldIssue, ValidationError } from '../../../domain/errors.ts';
import type { Clock } from '../../../ports/clock.ts';
import type { Logger } from '../../../ports/logger.ts';
import type { BackoffPolicy } from '../backoff.ts';
import { parseSigningKey } from './provider-token.ts';

/** Options of `ApnsTransport`. */
export interface ApnsTransportOptions {
  /** The .p8 file's PEM text (PKCS#8 EC P-256). A secret: never logged nor echoed in errors. */
  readonly signingKey: string;
  /** The key's id in the developer account, 10 characters (the JWT's `kid`). */
  readonly keyId: string;
  /** The developer team id, 10 characters (the JWT's `iss`). */
  readonly teamId: string;
  /** The app's bundle id → `apns-topic`. */
  readonly topic: string;
  /** api.push.apple.com or api.sandbox.push.apple.com. @default 'production' */
  readonly environment?: 'production' | 'sandbox';
  /** Overrides `environment` (tests, proxies), e.g. 'https://127.0.0.1:4431'. */
  readonly origin?: string;
  /** TLS trust for tests (the fake server's self-signed certificate). */
  readonly ca?: string | Buffer;
  /** HTTP/2 connections kept open to APNs. @default 2 */
  readonly connections?: number;
  /** `apns-expiration` when the message has no `expiresAt`. @default 86_400 (one day) */
  readonly defaultTtlSeconds?: number;
  /** Age at which the provider token is replaced, clamped to [20, 55] min. @default 50 min */
  readonly refreshAfterMs?: number;
  /** Retries of throttled (429) and failing (5xx) answers within one send. @default DEFAULT_BACKOFF */
  readonly backoff?: BackoffPolicy;
  /** Time one send may spend sleeping between retries before it hands the job back. @default 10_000 */
  readonly retryBudgetMs?: number;
  /** Injected so tests record the waits instead of waiting. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** From request start to full answer. @default 15_000 */
  readonly requestTimeoutMs?: number;
  /** For the JWT's `iat`, `apns-expiration` and Retry-After dates. @default systemClock */
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** Apple's hosts; port 443 (2197 is the documented alternative where 443 is blocked). */
export const APNS_ORIGINS = {
  production: 'https://api.push.apple.com',
  sandbox: 'https://api.sandbox.push.apple.com',
} as const;

const TEN_CHARS = /^[A-Za-z0-9]{10}$/;
const BUNDLE_ID = /^[A-Za-z0-9.-]+$/;

/** Checks the options; throws ValidationError listing every problem. Returns the parsed key. */
export function checkApnsOptions(opts: ApnsTransportOptions): KeyObject {
  const issues: FieldIssue[] = [];
  const issue = (path: string, message: string) => issues.push({ path, message });
  const key = typeof opts?.signingKey === 'string' ? parseSigningKey(opts.signingKey) : undefined;
  if (key === undefined) issue('signingKey', 'must be the PEM text of an EC P-256 private key (.p8 file)');
  if (typeof opts?.keyId !== 'string' || !TEN_CHARS.test(opts.keyId)) {
    issue('keyId', 'must be 10 letters or digits');
  }
  if (typeof opts?.teamId !== 'string' || !TEN_CHARS.test(opts.teamId)) {
    issue('teamId', 'must be 10 letters or digits');
  }
  if (typeof opts?.topic !== 'string' || !BUNDLE_ID.test(opts.topic)) issue('topic', 'must be a bundle id');
  const env = opts?.environment;
  if (env !== undefined && env !== 'production' && env !== 'sandbox') {
    issue('environment', "must be 'production' or 'sandbox'");
  }
  if (opts?.origin !== undefined && !isHttpsOrigin(opts.origin)) issue('origin', 'must be an https:// URL');
  const counts = { connections: [1, 64], defaultTtlSeconds: [0, 2_592_000] } as const;
  for (const [name, [min, max]] of Object.entries(counts)) {
    const value = opts?.[name as keyof typeof counts];
    if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= max)) {
      issue(name, `must be an integer in [${min}, ${max}]`);
    }
  }
  for (const name of ['refreshAfterMs', 'retryBudgetMs', 'requestTimeoutMs'] as const) {
    const value = opts?.[name];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) issue(name, 'must be a number ≥ 0');
  }
  if (opts?.requestTimeoutMs === 0) issue('requestTimeoutMs', 'must be above 0');
  const b = opts?.backoff;
  if (
    b !== undefined &&
    !(Number.isInteger(b.attempts) && b.attempts >= 1 && b.baseMs >= 0 && b.maxMs >= b.baseMs)
  ) {
    issue('backoff', 'needs attempts ≥ 1 and 0 ≤ baseMs ≤ maxMs');
  }
  if (issues.length > 0 || key === undefined) throw new ValidationError(issues);
  return key;
}

function isHttpsOrigin(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

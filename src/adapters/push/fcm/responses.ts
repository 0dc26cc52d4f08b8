import type { PushResult } from '../../../ports/transports.ts';
import { parseRetryAfter } from '../backoff.ts';
import type { Http2Response } from '../http2-pool.ts';

/** FCM's own error codes (google.firebase.fcm.v1.FcmError), as far as Fanout tells them apart. */
export const FcmErrorCode = {
  Unregistered: 'UNREGISTERED',
  InvalidArgument: 'INVALID_ARGUMENT',
  SenderIdMismatch: 'SENDER_ID_MISMATCH',
  QuotaExceeded: 'QUOTA_EXCEEDED',
  Unavailable: 'UNAVAILABLE',
  Internal: 'INTERNAL',
  ThirdPartyAuthError: 'THIRD_PARTY_AUTH_ERROR',
} as const;
export type FcmErrorCode = (typeof FcmErrorCode)[keyof typeof FcmErrorCode];

const FCM_ERROR_TYPE = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';
const BAD_REQUEST_TYPE = 'type.googleapis.com/google.rpc.BadRequest';
/**
 * The wait after a quota refusal (429) that names no Retry-After: FCM's ErrorCode reference asks
 * for exponential backoff "with a minimum initial delay of 1 minute" after QUOTA_EXCEEDED, so
 * trying again within the send would only spend more of the exhausted quota.
 */
export const FCM_QUOTA_RETRY_MS = 60_000;
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  FcmErrorCode.QuotaExceeded,
  FcmErrorCode.Unavailable,
  FcmErrorCode.Internal,
]);

/** What one FCM answer means for the send. */
export type FcmAnswer =
  /** Delivered to FCM, or refused for good: the send is over. */
  | { readonly kind: 'final'; readonly result: PushResult }
  /** The access token was refused: fetch another and send again. */
  | { readonly kind: 'unauthenticated' }
  /** Throttled or failing for now: back off and try again. */
  | {
      readonly kind: 'transient';
      readonly status: number;
      readonly reason: string;
      readonly retryAfterMs?: number;
    };

/** The parts of an FCM error body (google.rpc.Status) that decide what to do. */
export interface FcmErrorBody {
  readonly status?: string;
  readonly message?: string;
  /** From the FcmError detail. */
  readonly errorCode?: string;
  /** `field` of every google.rpc.BadRequest violation. */
  readonly violatedFields: readonly string[];
}

/**
 * Reads an FCM HTTP v1 answer (https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode).
 * Reasons are FCM's enum names, lower-cased: stable, and free of tokens and payloads.
 */
export function classifyFcmResponse(res: Http2Response, now: number): FcmAnswer {
  if (res.status === 200) {
    const name = parseObject(res.body)?.name;
    return {
      kind: 'final',
      result: { status: 'sent', ...(typeof name === 'string' ? { providerMessageId: name } : {}) },
    };
  }
  const error = parseFcmError(res.body);
  const code = error.errorCode;
  if (code === FcmErrorCode.Unregistered) return rejected('unregistered', true);
  // 401 too, but about the APNs certificate or key uploaded to Firebase, not our access token:
  // a new token would not help, and the device is fine.
  if (code === FcmErrorCode.ThirdPartyAuthError) return rejected('third_party_auth_error', false);
  if (res.status === 401) return { kind: 'unauthenticated' };
  // The token belongs to another Firebase project than our service account's. Almost always our
  // own misconfiguration (wrong key file for this app) rather than a dead device: keep the device,
  // so fixing the credentials brings its pushes back.
  if (code === FcmErrorCode.SenderIdMismatch) return rejected('sender_id_mismatch', false);
  if (res.status === 400 || code === FcmErrorCode.InvalidArgument || error.status === 'INVALID_ARGUMENT') {
    return aboutToken(error) ? rejected('invalid_token', true) : rejected('invalid_argument', false);
  }
  if (res.status === 429 || res.status >= 500 || (code !== undefined && TRANSIENT_CODES.has(code))) {
    const throttled = res.status === 429 || code === FcmErrorCode.QuotaExceeded;
    const retryAfterMs =
      parseRetryAfter(res.headers['retry-after'], now) ?? (throttled ? FCM_QUOTA_RETRY_MS : undefined);
    return {
      kind: 'transient',
      status: res.status,
      reason: reasonOf(error, res.status),
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  }
  return rejected(reasonOf(error, res.status), false);
}

/** The error body of an FCM answer; empty fields when it is not one (a proxy's HTML page). */
export function parseFcmError(body: string): FcmErrorBody {
  const error = parseObject(body)?.error;
  if (typeof error !== 'object' || error === null) return { violatedFields: [] };
  const e = error as Record<string, unknown>;
  let errorCode: string | undefined;
  const violatedFields: string[] = [];
  for (const detail of Array.isArray(e.details) ? e.details : []) {
    if (typeof detail !== 'object' || detail === null) continue;
    const d = detail as Record<string, unknown>;
    if (d['@type'] === FCM_ERROR_TYPE && typeof d.errorCode === 'string') errorCode = d.errorCode;
    if (d['@type'] === BAD_REQUEST_TYPE && Array.isArray(d.fieldViolations)) {
      for (const v of d.fieldViolations) {
        const field = (v as { field?: unknown } | null)?.field;
        if (typeof field === 'string') violatedFields.push(field);
      }
    }
  }
  return {
    ...(typeof e.status === 'string' ? { status: e.status } : {}),
    ...(typeof e.message === 'string' ? { message: e.message } : {}),
    ...(errorCode === undefined ? {} : { errorCode }),
    violatedFields,
  };
}

/**
 * Whether an INVALID_ARGUMENT is about the registration token (the device's fault: drop it) rather
 * than our payload (our fault: keep the device). FCM names the field in a BadRequest violation;
 * an answer without violations says so in its FcmError message instead ("The registration token
 * is not a valid FCM registration token").
 */
function aboutToken(error: FcmErrorBody): boolean {
  if (error.violatedFields.length > 0) return error.violatedFields.includes('message.token');
  return error.errorCode !== undefined && /registration token/i.test(error.message ?? '');
}

function rejected(reason: string, deactivateDevice: boolean): FcmAnswer {
  return { kind: 'final', result: { status: 'rejected', reason, deactivateDevice } };
}

/** FCM's error code, else the RPC status, lower-cased; `http_<status>` when neither is a plain name. */
function reasonOf(error: FcmErrorBody, status: number): string {
  for (const name of [error.errorCode, error.status]) {
    if (name !== undefined && /^[A-Z][A-Z0-9_]{0,63}$/.test(name)) return name.toLowerCase();
  }
  return `http_${status}`;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

import { importSPKI, jwtVerify } from 'jose';

/**
 * What the fake FCM checks and how it words its errors, after Google's documentation: the OAuth2
 * assertion (https://developers.google.com/identity/protocols/oauth2/service-account) and the
 * HTTP v1 errors (https://firebase.google.com/docs/reference/fcm/rest/v1/ErrorCode).
 */

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

/** An FCM error answer: its HTTP status and the details Google puts in the body. */
export interface FcmErrorSpec {
  readonly status: number;
  /** The FcmError detail's errorCode (UNREGISTERED, …); none when unset. */
  readonly errorCode?: string;
  /** The field a google.rpc.BadRequest detail names (message.token, …); none when unset. */
  readonly fieldViolation?: string;
  readonly message?: string;
}

const RPC_STATUS: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** The google.rpc.Status body FCM answers errors with. */
export function fcmErrorBody(spec: FcmErrorSpec): unknown {
  const details: unknown[] = [];
  if (spec.errorCode !== undefined) {
    details.push({
      '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError',
      errorCode: spec.errorCode,
    });
  }
  if (spec.fieldViolation !== undefined) {
    details.push({
      '@type': 'type.googleapis.com/google.rpc.BadRequest',
      fieldViolations: [
        { field: spec.fieldViolation, description: `Invalid value at '${spec.fieldViolation}'` },
      ],
    });
  }
  return {
    error: {
      code: spec.status,
      message: spec.message ?? 'Request contains an invalid argument.',
      status: RPC_STATUS[spec.status] ?? 'UNKNOWN',
      ...(details.length > 0 ? { details } : {}),
    },
  };
}

/** The assertion's `kid`, `iat` and `exp` when it is good, else why not. */
export async function verifyAssertion(
  assertion: string,
  expected: { publicKeyPem: string; issuer: string; audience: string; now: number },
): Promise<{ kid: string | undefined; iat: number; exp: number } | { refused: string }> {
  try {
    const key = await importSPKI(expected.publicKeyPem, 'RS256');
    const { payload, protectedHeader } = await jwtVerify(assertion, key, {
      algorithms: ['RS256'],
      issuer: expected.issuer,
      audience: expected.audience,
      typ: 'JWT',
      currentDate: new Date(expected.now),
      requiredClaims: ['iat', 'exp', 'scope'],
    });
    const iat = payload.iat!;
    const exp = payload.exp!;
    if (String(payload.scope).split(' ').indexOf(FCM_SCOPE) < 0) return { refused: 'scope' };
    if (exp - iat > 3600) return { refused: 'lifetime' };
    if (iat > expected.now / 1000 + 60) return { refused: 'iat in the future' };
    return { kid: protectedHeader.kid, iat, exp };
  } catch (err) {
    return { refused: (err as { code?: string }).code ?? 'assertion' };
  }
}

/**
 * The send body's shape as FCM validates it, for the fields Fanout sends: a 400 naming the first
 * bad field, or undefined when it is fine.
 */
export function checkSendBody(body: unknown): FcmErrorSpec | undefined {
  const bad = (field: string, message: string): FcmErrorSpec => ({
    status: 400,
    fieldViolation: field,
    message,
  });
  if (!isObject(body) || !isObject(body.message)) return bad('message', 'Message is not set.');
  const m = body.message;
  const targets = ['token', 'topic', 'condition'].filter((t) => m[t] !== undefined);
  if (targets.length !== 1) return bad('message', 'Exactly one of token, topic or condition must be set.');
  if (typeof m.token !== 'string' || m.token === '') {
    return bad('message.token', 'The registration token is not a valid FCM registration token');
  }
  if (m.data !== undefined) {
    if (!isObject(m.data)) return bad('message.data', 'Invalid value.');
    for (const [key, value] of Object.entries(m.data)) {
      if (typeof value !== 'string') return bad(`message.data[${key}].value`, 'Invalid value (TYPE_STRING).');
    }
  }
  if (m.notification !== undefined && !isObject(m.notification)) {
    return bad('message.notification', 'Invalid value.');
  }
  if (m.android !== undefined) {
    if (!isObject(m.android)) return bad('message.android', 'Invalid value.');
    const { ttl, collapse_key: collapseKey, priority } = m.android;
    if (ttl !== undefined && (typeof ttl !== 'string' || !/^\d+(\.\d{1,9})?s$/.test(ttl))) {
      return bad('message.android.ttl', 'Invalid duration.');
    }
    if (collapseKey !== undefined && (typeof collapseKey !== 'string' || collapseKey === '')) {
      return bad('message.android.collapse_key', 'Invalid value.');
    }
    if (priority !== undefined && priority !== 'high' && priority !== 'normal') {
      return bad('message.android.priority', 'Invalid value.');
    }
  }
  if (m.apns !== undefined) {
    if (!isObject(m.apns)) return bad('message.apns', 'Invalid value.');
    const headers = isObject(m.apns.headers) ? m.apns.headers : {};
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value !== 'string')
        return bad(`message.apns.headers[${name}]`, 'Invalid value (TYPE_STRING).');
    }
    // FCM hands the override to APNs, which takes a background push only at priority 5 and with
    // `content-available: 1` and no alert (Apple, "Pushing background updates to your App").
    if (headers['apns-push-type'] === 'background') {
      const payload = isObject(m.apns.payload) ? m.apns.payload : {};
      const aps = isObject(payload.aps) ? payload.aps : {};
      if (headers['apns-priority'] !== '5') return bad('message.apns.headers', 'Invalid APNs priority.');
      if (aps['content-available'] !== 1 || aps.alert !== undefined)
        return bad('message.apns.payload', 'Invalid background notification.');
    }
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

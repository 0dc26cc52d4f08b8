import { describe, expect, it } from 'vitest';
import { fcmErrorBody } from '../../../fakes/fake-fcm-rules.ts';
import { classifyFcmResponse } from '../../../src/adapters/push/fcm/responses.ts';

const NOW = Date.UTC(2030, 0, 1);

function answer(
  status: number,
  spec: { errorCode?: string; fieldViolation?: string; message?: string } = {},
  headers: Record<string, string> = {},
) {
  return classifyFcmResponse(
    { status, headers, body: JSON.stringify(fcmErrorBody({ status, ...spec })) },
    NOW,
  );
}

function rejected(reason: string, deactivateDevice: boolean) {
  return { kind: 'final', result: { status: 'rejected', reason, deactivateDevice } };
}

describe('FCM answers', () => {
  it('is sent on 200, with the message name as the provider id', () => {
    // Act
    const sent = classifyFcmResponse(
      { status: 200, headers: {}, body: '{"name":"projects/p/messages/0:123"}' },
      NOW,
    );
    // Assess
    expect(sent).toEqual({
      kind: 'final',
      result: { status: 'sent', providerMessageId: 'projects/p/messages/0:123' },
    });
  });

  it('deactivates the device on UNREGISTERED', () => {
    expect(answer(404, { errorCode: 'UNREGISTERED' })).toEqual(rejected('unregistered', true));
  });

  it('tells a bad token from a bad payload on INVALID_ARGUMENT', () => {
    // Act
    const tokenField = answer(400, { errorCode: 'INVALID_ARGUMENT', fieldViolation: 'message.token' });
    const tokenMessage = answer(400, {
      errorCode: 'INVALID_ARGUMENT',
      message: 'The registration token is not a valid FCM registration token',
    });
    const payloadField = answer(400, { fieldViolation: 'message.data[0].value' });
    const bare = answer(400);
    // Assess
    expect(tokenField).toEqual(rejected('invalid_token', true));
    expect(tokenMessage).toEqual(rejected('invalid_token', true));
    expect(payloadField).toEqual(rejected('invalid_argument', false));
    expect(bare).toEqual(rejected('invalid_argument', false));
  });

  it('keeps the device on SENDER_ID_MISMATCH and THIRD_PARTY_AUTH_ERROR', () => {
    expect(answer(403, { errorCode: 'SENDER_ID_MISMATCH' })).toEqual(rejected('sender_id_mismatch', false));
    expect(answer(401, { errorCode: 'THIRD_PARTY_AUTH_ERROR' })).toEqual(
      rejected('third_party_auth_error', false),
    );
  });

  it('asks for a new access token on a plain 401', () => {
    expect(answer(401)).toEqual({ kind: 'unauthenticated' });
  });

  it('is transient on 429 and 5xx, with Retry-After in seconds or as a date', () => {
    // Act
    const quota = answer(429, { errorCode: 'QUOTA_EXCEEDED' }, { 'retry-after': '30' });
    const dated = answer(503, {}, { 'retry-after': new Date(NOW + 5_000).toUTCString() });
    const gateway = classifyFcmResponse({ status: 502, headers: {}, body: '<html>Error 502</html>' }, NOW);
    // Assess
    expect(quota).toEqual({ kind: 'transient', status: 429, reason: 'quota_exceeded', retryAfterMs: 30_000 });
    expect(dated).toEqual({ kind: 'transient', status: 503, reason: 'unavailable', retryAfterMs: 5_000 });
    expect(gateway).toEqual({ kind: 'transient', status: 502, reason: 'http_502' });
  });

  it('waits at least a minute after a quota refusal without Retry-After, as FCM asks', () => {
    expect(answer(429, { errorCode: 'QUOTA_EXCEEDED' })).toEqual({
      kind: 'transient',
      status: 429,
      reason: 'quota_exceeded',
      retryAfterMs: 60_000,
    });
    expect(answer(429)).toMatchObject({ kind: 'transient', retryAfterMs: 60_000 });
  });

  it('rejects anything else with the error code or status, lower-cased, keeping the device', () => {
    expect(answer(403)).toEqual(rejected('permission_denied', false));
    expect(answer(404)).toEqual(rejected('not_found', false));
    expect(classifyFcmResponse({ status: 418, headers: {}, body: 'teapot' }, NOW)).toEqual(
      rejected('http_418', false),
    );
  });
});

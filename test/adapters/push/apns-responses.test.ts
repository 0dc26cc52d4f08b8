import { describe, expect, it } from 'vitest';
import { classifyApnsResponse } from '../../../src/adapters/push/apns/responses.ts';
import type { Http2Response } from '../../../src/adapters/push/http2-pool.ts';

const NOW = Date.UTC(2030, 0, 1);

function answer(status: number, body?: object | string, headers: Record<string, string> = {}): Http2Response {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  return { status, headers, body: text };
}

describe('classifyApnsResponse', () => {
  it('200 → sent, with the apns-id APNs echoed', () => {
    expect(classifyApnsResponse(answer(200, undefined, { 'apns-id': 'id-1' }), NOW)).toEqual({
      kind: 'sent',
      providerMessageId: 'id-1',
    });
  });

  it('410 Unregistered / ExpiredToken → deactivate, invalid since the timestamp', () => {
    expect(classifyApnsResponse(answer(410, { reason: 'Unregistered', timestamp: NOW - 5 }), NOW)).toEqual({
      kind: 'rejected',
      reason: 'Unregistered',
      deactivateDevice: true,
      invalidSince: NOW - 5,
    });
    expect(classifyApnsResponse(answer(410, { reason: 'ExpiredToken' }), NOW)).toEqual({
      kind: 'rejected',
      reason: 'ExpiredToken',
      deactivateDevice: true,
    });
  });

  it('400 BadDeviceToken → deactivate', () => {
    expect(classifyApnsResponse(answer(400, { reason: 'BadDeviceToken' }), NOW)).toMatchObject({
      kind: 'rejected',
      deactivateDevice: true,
    });
  });

  it.each(['DeviceTokenNotForTopic', 'TopicDisallowed', 'BadTopic', 'BadCollapseId', 'MissingTopic'])(
    '400 %s → rejected, device kept (our own misconfiguration would wipe every device)',
    (reason) => {
      expect(classifyApnsResponse(answer(400, { reason }), NOW)).toEqual({
        kind: 'rejected',
        reason,
        deactivateDevice: false,
      });
    },
  );

  it('403 ExpiredProviderToken → refresh; other 403s → rejected with the reason', () => {
    expect(classifyApnsResponse(answer(403, { reason: 'ExpiredProviderToken' }), NOW).kind).toBe('refresh');
    expect(classifyApnsResponse(answer(403, { reason: 'InvalidProviderToken' }), NOW)).toEqual({
      kind: 'rejected',
      reason: 'InvalidProviderToken',
      deactivateDevice: false,
    });
  });

  it('429 and 5xx → retry, with Retry-After in ms when given', () => {
    expect(
      classifyApnsResponse(answer(429, { reason: 'TooManyRequests' }, { 'retry-after': '3' }), NOW),
    ).toEqual({
      kind: 'retry',
      reason: 'TooManyRequests',
      retryAfterMs: 3_000,
    });
    expect(classifyApnsResponse(answer(503, { reason: 'Shutdown' }), NOW)).toEqual({
      kind: 'retry',
      reason: 'Shutdown',
    });
    expect(classifyApnsResponse(answer(500, { reason: 'InternalServerError' }), NOW).kind).toBe('retry');
    expect(classifyApnsResponse(answer(429, { reason: 'TooManyProviderTokenUpdates' }), NOW).kind).toBe(
      'retry',
    );
  });

  it('an answer without a usable body → reason http_<status>', () => {
    expect(classifyApnsResponse(answer(413, '<html>too large</html>'), NOW)).toEqual({
      kind: 'rejected',
      reason: 'http_413',
      deactivateDevice: false,
    });
    expect(classifyApnsResponse(answer(405, { reason: 42 }), NOW)).toMatchObject({ reason: 'http_405' });
    expect(classifyApnsResponse(answer(502, ''), NOW)).toEqual({ kind: 'retry', reason: 'http_502' });
  });
});

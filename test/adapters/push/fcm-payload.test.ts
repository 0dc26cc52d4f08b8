import { describe, expect, it } from 'vitest';
import { FCM_MAX_TTL_SECONDS, fcmMessage, fcmPayloadBytes } from '../../../src/adapters/push/fcm/payload.ts';
import type { PushMessage } from '../../../src/ports/transports.ts';

const NOW = Date.UTC(2030, 0, 1);

function push(extra: Partial<PushMessage> = {}): PushMessage {
  return {
    tenantId: 'acme',
    userId: 'alice',
    token: 'fcm-token-1',
    platform: 'fcm',
    title: 'Bob commented',
    body: 'Nice post',
    category: 'social',
    collapseId: '0123456789abcdef0123456789abcdef',
    messageId: '01234567-89ab-8def-8123-456789abcdef',
    data: { notificationId: 'n1', eventId: 'e1', type: 'comment', actorId: 'bob' },
    ...extra,
  };
}

describe('FCM payload', () => {
  it('renders the SNS-compatible shape plus APNs overrides carrying the same collapse id', () => {
    // Act
    const message = fcmMessage(push(), { defaultTtlSeconds: 3600, now: NOW });
    // Assess
    expect(message).toEqual({
      notification: { title: 'Bob commented', body: 'Nice post' },
      data: {
        notificationId: 'n1',
        eventId: 'e1',
        type: 'comment',
        actorId: 'bob',
        messageId: '01234567-89ab-8def-8123-456789abcdef',
      },
      android: {
        collapse_key: '0123456789abcdef0123456789abcdef',
        priority: 'normal',
        ttl: '3600s',
        notification: { tag: '0123456789abcdef0123456789abcdef' },
      },
      apns: {
        headers: {
          'apns-collapse-id': '0123456789abcdef0123456789abcdef',
          'apns-priority': '5',
          'apns-push-type': 'alert',
          'apns-expiration': String(NOW / 1000 + 3600),
        },
        payload: {
          aps: {
            alert: { title: 'Bob commented', body: 'Nice post' },
            'thread-id': 'social',
            category: 'social',
          },
        },
      },
    });
  });

  it('addresses the token only when asked (SNS sets the target itself)', () => {
    // Act
    const direct = fcmMessage(push(), { withToken: true, now: NOW });
    const viaSns = fcmMessage(push(), { now: NOW });
    // Assess
    expect(direct.token).toBe('fcm-token-1');
    expect('token' in viaSns).toBe(false);
  });

  it('wakes the device for mentions and critical messages, time-sensitive on iOS for critical', () => {
    // Act
    const mention = fcmMessage(push({ category: 'mention' }), { now: NOW });
    const critical = fcmMessage(push({ category: 'critical' }), { now: NOW });
    // Assess
    expect([mention.android.priority, mention.apns.headers['apns-priority']]).toEqual(['high', '10']);
    expect(mention.apns.payload.aps['interruption-level']).toBeUndefined();
    expect([critical.android.priority, critical.apns.headers['apns-priority']]).toEqual(['high', '10']);
    expect(critical.apns.payload.aps['interruption-level']).toBe('time-sensitive');
  });

  it('takes the lifetime from expiresAt, rounded up, within FCM bounds; 0 when already due', () => {
    // Act
    const soon = fcmMessage(push({ expiresAt: NOW + 89_500 }), { defaultTtlSeconds: 3600, now: NOW });
    const past = fcmMessage(push({ expiresAt: NOW - 1 }), { now: NOW });
    const far = fcmMessage(push({ expiresAt: NOW + 365 * 86_400_000 }), { now: NOW });
    const none = fcmMessage(push(), { now: NOW });
    // Assess
    expect([soon.android.ttl, soon.apns.headers['apns-expiration']]).toEqual([
      '90s',
      String(NOW / 1000 + 90),
    ]);
    expect([past.android.ttl, past.apns.headers['apns-expiration']]).toEqual(['0s', '0']);
    expect(far.android.ttl).toBe(`${FCM_MAX_TTL_SECONDS}s`);
    expect([none.android.ttl, none.apns.headers['apns-expiration']]).toEqual([undefined, undefined]);
  });

  it('counts the payload size as FCM does: UTF-8 bytes of title, body, data keys and values', () => {
    // Prepare
    const m = push({ title: 'é', body: 'ab', data: { k: 'v€' } });
    // Act
    const bytes = fcmPayloadBytes(m);
    // Assess: é 2, ab 2, k 1, v€ 4, messageId 9 + 36
    expect(bytes).toBe(2 + 2 + 1 + 4 + 9 + 36);
  });
});

import { describe, expect, it } from 'vitest';
import {
  apnsExpiration,
  apnsHeaders,
  apnsPayload,
  apnsPriority,
} from '../../../src/adapters/push/apns/payload.ts';
import type { Category } from '../../../src/domain/types.ts';
import type { PushMessage } from '../../../src/ports/transports.ts';

const NOW = Date.UTC(2030, 0, 1);

function message(extra: Partial<PushMessage> = {}): PushMessage {
  return {
    tenantId: 'acme',
    userId: 'alice',
    token: 'ab'.repeat(32),
    platform: 'apns',
    title: 'Bob commented',
    body: 'Nice post',
    category: 'social',
    collapseId: '0123456789abcdef0123456789abcdef',
    messageId: '01234567-89ab-8cde-8f01-23456789abcd',
    data: { notificationId: 'n1', eventId: 'e1', type: 'comment', actorId: 'bob' },
    ...extra,
  };
}

describe('apnsPayload', () => {
  it('puts the alert and grouping in aps and the ids at the top level', () => {
    expect(apnsPayload(message())).toEqual({
      aps: {
        alert: { title: 'Bob commented', body: 'Nice post' },
        'thread-id': 'social',
        category: 'social',
      },
      notificationId: 'n1',
      eventId: 'e1',
      type: 'comment',
      actorId: 'bob',
    });
  });

  it('marks critical notifications time-sensitive', () => {
    const aps = apnsPayload(message({ category: 'critical' })).aps as Record<string, unknown>;
    expect(aps['interruption-level']).toBe('time-sensitive');
  });

  it('never lets a data key replace aps', () => {
    const payload = apnsPayload(message({ data: { aps: 'x', eventId: 'e1' } }));
    expect(payload.aps).toMatchObject({ alert: { title: 'Bob commented' } });
    expect(payload.eventId).toBe('e1');
  });
});

describe('apnsPriority', () => {
  it.each([
    ['critical', '10'],
    ['mention', '10'],
    ['social', '5'],
    ['content', '5'],
  ] as const)('%s → %s', (category: Category, priority) => {
    expect(apnsPriority(message({ category }))).toBe(priority);
  });
});

describe('apnsExpiration', () => {
  it("is the message's expiry in epoch seconds, else now plus the default TTL", () => {
    expect(apnsExpiration(message({ expiresAt: NOW + 60_500 }), NOW, 86_400)).toBe(String(NOW / 1000 + 61));
    expect(apnsExpiration(message(), NOW, 3_600)).toBe(String(NOW / 1000 + 3_600));
  });

  it('is 0 (deliver now or never) for an expiry already past', () => {
    expect(apnsExpiration(message({ expiresAt: NOW - 1 }), NOW, 86_400)).toBe('0');
  });
});

describe('apnsHeaders', () => {
  it('carries topic, alert push type, priority, expiration, collapse id and apns-id', () => {
    expect(
      apnsHeaders(message({ category: 'mention' }), {
        topic: 'com.example',
        nowMs: NOW,
        defaultTtlSeconds: 60,
      }),
    ).toEqual({
      'apns-topic': 'com.example',
      'apns-push-type': 'alert',
      'apns-priority': '10',
      'apns-expiration': String(NOW / 1000 + 60),
      'apns-collapse-id': '0123456789abcdef0123456789abcdef',
      'apns-id': '01234567-89ab-8cde-8f01-23456789abcd',
      'content-type': 'application/json',
    });
  });

  it('leaves apns-id out when the message id is not a UUID', () => {
    const headers = apnsHeaders(message({ messageId: 'm-1' }), {
      topic: 't',
      nowMs: NOW,
      defaultTtlSeconds: 60,
    });
    expect(headers['apns-id']).toBeUndefined();
  });
});

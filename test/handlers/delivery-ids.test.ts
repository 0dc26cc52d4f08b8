import { describe, expect, it } from 'vitest';
import { notificationId } from '../../src/domain/ids.ts';
import { targetDigest } from '../../src/domain/keys.ts';
import { deliveryIds } from '../../src/handlers/delivery-ids.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('deliveryIds', () => {
  it('gives the same ids for the same notification and target, every time', () => {
    // Prepare
    const id = notificationId('event-1', 'alice', Date.UTC(2026, 0, 1));
    // Act
    const first = deliveryIds(id, targetDigest('token-a'));
    const again = deliveryIds(id, targetDigest('token-a'));
    // Assess
    expect(again).toEqual(first);
    expect(first.messageId).toMatch(UUID);
    expect(first.collapseId).toMatch(/^[0-9a-f]{32}$/);
  });

  // Expected bytes computed independently: the ULID's 128 bits, digest byte 0 XORed into byte 7 and
  // bytes 1-7 into bytes 9-15, then the UUID version and variant bits.
  it('keeps the values it gave for a ULID and a digest (ids of earlier attempts stay valid)', () => {
    // Act
    const ids = deliveryIds('01HF7YAT00FXBGA1ZRP68MNMQQ', '0123456789abcdef');
    // Assess
    expect(ids).toEqual({
      collapseId: '018bcfe568007f560524bdd618e11f18',
      messageId: '018bcfe5-6800-8f56-8524-bdd618e11f18',
    });
  });

  it('gives distinct targets of one notification distinct ids, even digests one bit apart', () => {
    // Prepare
    const id = notificationId('event-1', 'alice', Date.UTC(2026, 0, 1));
    const digests = ['0000000000000000'];
    for (let bit = 0; bit < 64; bit++) {
      const n = 1n << BigInt(bit);
      digests.push(n.toString(16).padStart(16, '0'));
    }
    // Act
    const ids = digests.map((d) => deliveryIds(id, d));
    // Assess
    expect(new Set(ids.map((i) => i.messageId)).size).toBe(digests.length);
    expect(new Set(ids.map((i) => i.collapseId)).size).toBe(digests.length);
  });

  it('gives distinct notifications to one target distinct ids that sort by notification time', () => {
    // Prepare
    const digest = targetDigest('token-a');
    const earlier = notificationId('event-1', 'alice', Date.UTC(2026, 0, 1));
    const later = notificationId('event-2', 'alice', Date.UTC(2026, 0, 1, 0, 0, 1));
    const sameTime = notificationId('event-3', 'alice', Date.UTC(2026, 0, 1));
    // Act
    const [a, b, c] = [earlier, later, sameTime].map((id) => deliveryIds(id, digest));
    // Assess
    expect(new Set([a!.messageId, b!.messageId, c!.messageId]).size).toBe(3);
    expect(a!.messageId < b!.messageId).toBe(true);
    expect(c!.messageId < b!.messageId).toBe(true);
  });

  it('hashes inputs that are not a ULID and a digest into valid, stable ids', () => {
    // Act
    const ids = deliveryIds('not-a-ulid', 'not-a-digest');
    const upper = deliveryIds('01HF7YAT00FXBGA1ZRP68MNMQQ', '0123456789ABCDEF');
    // Assess
    expect(ids.messageId).toMatch(UUID);
    expect(deliveryIds('not-a-ulid', 'not-a-digest')).toEqual(ids);
    expect(upper.messageId).toMatch(UUID);
    expect(upper).not.toEqual(deliveryIds('01HF7YAT00FXBGA1ZRP68MNMQQ', '0123456789abcdef'));
  });
});

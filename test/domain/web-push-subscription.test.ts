import { createECDH, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.ts';
import {
  MAX_ENDPOINT_LENGTH,
  parseWebPushSubscription,
  parseWebPushToken,
  webPushToken,
} from '../../src/domain/web-push-subscription.ts';

const p256dh = createECDH('prime256v1').generateKeys().toString('base64url');
const auth = randomBytes(16).toString('base64url');

function subscription(endpoint: string, keys: Record<string, unknown> = { p256dh, auth }) {
  return { endpoint, expirationTime: null, keys };
}

/** The issues a ValidationError lists, or [] when the value is taken. */
function issuesOf(value: unknown): { path: string; message: string }[] {
  try {
    parseWebPushSubscription(value);
    return [];
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    return [...err.issues];
  }
}

describe('web push subscriptions', () => {
  it('takes what a browser sends and keeps one canonical token, which parses back', () => {
    // Prepare
    const sent = subscription('https://push.example.com/wpush/v2/abc', { auth: `${auth}==`, p256dh });
    // Act
    const token = webPushToken(parseWebPushSubscription(sent));
    // Assess
    expect(JSON.parse(token)).toEqual({
      endpoint: 'https://push.example.com/wpush/v2/abc',
      keys: { p256dh, auth },
    });
    expect(parseWebPushToken(token)).toEqual(JSON.parse(token));
    expect(
      parseWebPushToken(JSON.stringify({ keys: { p256dh, auth }, endpoint: 'https://push.example.com/x' })),
    ).toBe(undefined);
  });

  it.each([
    ['http://push.example.com/x', 'must be an https:// URL (http:// only on a loopback host)'],
    ['http://127.evil.example/x', 'must be an https:// URL (http:// only on a loopback host)'],
    ['https://user:pw@push.example.com/x', 'must carry no credentials and no fragment'],
    ['/relative', 'must be an absolute URL'],
    [
      `https://push.example.com/${'a'.repeat(MAX_ENDPOINT_LENGTH)}`,
      `must be at most ${MAX_ENDPOINT_LENGTH} characters`,
    ],
  ])('refuses the endpoint %s', (endpoint, message) => {
    // Act / Assess
    expect(issuesOf(subscription(endpoint))).toEqual([{ path: 'endpoint', message }]);
  });

  it.each(['http://127.0.0.1:8080/push/1', 'http://localhost/push/1', 'http://[::1]:9/push/1'])(
    'takes plain http on the loopback host of %s (a local push service)',
    (endpoint) => {
      // Act / Assess
      expect(issuesOf(subscription(endpoint))).toEqual([]);
    },
  );

  it('checks the key lengths of RFC 8291 and that p256dh is a P-256 point', () => {
    // Prepare
    const notOnCurve = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]).toString('base64url');
    // Act / Assess
    expect(issuesOf(subscription('https://p.example/x', { p256dh: auth, auth: p256dh }))).toEqual([
      { path: 'keys.p256dh', message: 'must decode to 65 bytes' },
      { path: 'keys.auth', message: 'must decode to 16 bytes' },
    ]);
    expect(issuesOf(subscription('https://p.example/x', { p256dh: notOnCurve, auth }))).toEqual([
      { path: 'keys.p256dh', message: 'must be an uncompressed P-256 public key' },
    ]);
    expect(issuesOf({ endpoint: 'https://p.example/x', keys: { p256dh, auth }, extra: 1 })).toEqual([
      { path: 'extra', message: 'unknown field' },
    ]);
  });

  it('keeps the longest token under the 1 KiB a DynamoDB sort key holds', () => {
    // Prepare
    const endpoint = `https://push.example.com/${'a'.repeat(MAX_ENDPOINT_LENGTH - 25)}`;
    // Act
    const token = webPushToken(parseWebPushSubscription(subscription(endpoint)));
    // Assess
    expect(Buffer.byteLength(`d#${token}`)).toBeLessThanOrEqual(1_024);
  });
});

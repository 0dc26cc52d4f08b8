import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_LENGTH, redact, redactLine } from '../../src/cli/redact.ts';
import { newApiKey } from '../../src/http/auth.ts';

/** Secrets and addresses of every kind an error message of a library could quote. */
const SECRETS = [
  ['a Redis URL password', 'redis://default:s3cr3t-pass@10.0.0.7:6379', ['s3cr3t-pass', '10.0.0.7']],
  ['an SMTP URL password', 'smtps://mailer:hunter2@smtp.example.com:465/', ['hunter2']],
  ['a bearer token', 'Authorization: Bearer eyJhbGciOi.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJl', ['eyJhbGciOi']],
  ['an API key', newApiKey('acme'), ['fo_acme_']],
  ['an AWS access key id', 'AKIAIOSFODNN7EXAMPLE', ['AKIAIOSFODNN7EXAMPLE']],
  ['an AWS secret key', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', ['wJalrXUtnFEMI']],
  ['a password field', '{"password":"correct horse"}', ['correct']],
  ['a token query parameter', 'https://api.example.com/v1/x?token=abc123&sig=zzz', ['abc123', 'zzz']],
  ['an email address', 'to bob.smith+news@example.org failed', ['bob.smith', 'example.org']],
  ['an IPv4 address', 'connect ECONNREFUSED 192.168.1.20:5432', ['192.168.1.20']],
  ['an IPv6 address', 'connect ECONNREFUSED ::1:6379', ['::1']],
  ['a host and port', 'getaddrinfo ENOTFOUND cache.abc123.use1.cache.amazonaws.com:6379', ['amazonaws.com']],
  ['a device token', `BadDeviceToken ${'a1b2c3d4'.repeat(8)}`, ['a1b2c3d4a1b2']],
  ['a PEM key', '-----BEGIN PRIVATE KEY-----\nMIGTAgEAMBMG\n-----END PRIVATE KEY-----', ['MIGTAgEAMBMG']],
] as const;

describe('redact', () => {
  for (const [kind, text, leaks] of SECRETS) {
    it(`removes ${kind}`, () => {
      // Prepare, Act
      const out = redactLine(`request failed: ${text} (while sending)`);
      // Assess
      for (const leak of leaks) expect(out).not.toContain(leak);
      expect(out).toContain('request failed:');
    });
  }

  it('keeps the words of a message that holds no secret', () => {
    // Prepare, Act
    const out = redactLine('SQLITE_CANTOPEN: unable to open database file');
    // Assess
    expect(out).toBe('SQLITE_CANTOPEN: unable to open database file');
  });

  it('never lets a random token or API key through, wherever it sits in a message', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40 }),
        fc.uint8Array({ minLength: 18, maxLength: 48 }),
        fc.string({ maxLength: 40 }),
        (before, bytes, after) => {
          const token = Buffer.from(bytes).toString('base64url');
          const out = redact(`${before} ${token} ${after}`);
          return !out.includes(token) && !redact(`${before}${newApiKey('t1')}`).includes('fo_t1_');
        },
      ),
    );
  });

  it('prints one line of at most MAX_LENGTH characters', () => {
    // Prepare, Act
    const out = redactLine(`first line\nsecond ${'word '.repeat(200)}`);
    // Assess
    expect(out).not.toContain('\n');
    expect(out.length).toBeLessThanOrEqual(MAX_LENGTH);
  });
});

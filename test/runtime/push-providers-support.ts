import { expect } from 'vitest';
import { type FieldIssue, ValidationError } from '../../src/domain/errors.ts';
import type { ParseOptions, PushProvider } from '../../src/runtime/push/providers.ts';

/** Shared fixtures of the push providers document tests. */

/** Credential texts with sentinels that no message may ever contain. */
export const KEY_PEM = '-----BEGIN PRIVATE KEY-----\nSENTINEL-SIGNING-KEY\n-----END PRIVATE KEY-----\n';
export const ACCOUNT_JSON = '{"type":"service_account","private_key":"SENTINEL-ACCOUNT-KEY"}';
export const SECRETS = ['SENTINEL-SIGNING-KEY', 'SENTINEL-ACCOUNT-KEY', 'SENTINEL-FILE-CONTENT'];

/** The providers each mode can build. */
export const EMBEDDED: readonly PushProvider[] = ['apns', 'fcm', 'record'];
export const LAMBDA: readonly PushProvider[] = ['apns', 'fcm', 'sns'];
/** An SNS platform application. */
export const ARN = 'arn:aws:sns:us-east-2:123456789012:app/APNS/acme';

/** An in-memory file system; records every path read. */
export function files(contents: Record<string, string>): {
  readText: (path: string) => string;
  read: string[];
} {
  const read: string[] = [];
  return {
    read,
    readText: (path) => {
      read.push(path);
      const text = contents[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return text;
    },
  };
}

/** The embedded mode's parse options, reading no file unless `over` says so. */
export function options(over: Partial<ParseOptions> = {}): ParseOptions {
  return { allowed: EMBEDDED, readText: files({}).readText, ...over };
}

/** A valid direct APNs provider with an inline key; `over` changes or removes fields. */
export const apns = (over: Record<string, unknown> = {}) => ({
  provider: 'apns',
  keyId: 'ABC123DEFG',
  teamId: 'DEF123GHIJ',
  topic: 'com.example.app',
  signingKey: KEY_PEM,
  ...over,
});

/** The issues of the ValidationError `act` throws; fails when it throws anything else. */
export function issuesOf(act: () => unknown): readonly FieldIssue[] {
  try {
    act();
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    for (const secret of SECRETS) expect(err.message).not.toContain(secret);
    return err.issues;
  }
  throw new Error('expected a ValidationError');
}

/** The issues' paths, in order. */
export const paths = (issues: readonly FieldIssue[]) => issues.map((i) => i.path);

import { describe, expect, it } from 'vitest';
import { generateServiceAccount } from '../../../fakes/fake-fcm.ts';
import { parseServiceAccount } from '../../../src/adapters/push/fcm/service-account.ts';
import { ValidationError } from '../../../src/domain/errors.ts';

const file = JSON.parse(generateServiceAccount('https://oauth2.example.test').json) as Record<string, string>;

function parseError(json: string): ValidationError {
  try {
    parseServiceAccount(json);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('parsed');
}

describe('FCM service account', () => {
  it('reads the fields the client needs from a key file', () => {
    // Act
    const account = parseServiceAccount(JSON.stringify(file));
    // Assess
    expect(account).toEqual({
      projectId: 'fanout-test',
      clientEmail: file.client_email,
      privateKey: file.private_key,
      privateKeyId: file.private_key_id,
      tokenUri: 'https://oauth2.example.test/token',
    });
  });

  it('names every missing or empty field at once', () => {
    // Act
    const err = parseError(
      JSON.stringify({ ...file, type: 'authorized_user', client_email: '', token_uri: 1 }),
    );
    // Assess
    expect(err.issues.map((i) => i.path)).toEqual([
      'serviceAccount.type',
      'serviceAccount.client_email',
      'serviceAccount.token_uri',
    ]);
  });

  it('refuses a key that is not an RSA private key, without repeating it', () => {
    // Prepare
    const garbled = file.private_key!.replace(/[A-Za-z]{20}/, 'x');
    // Act
    const err = parseError(JSON.stringify({ ...file, private_key: garbled }));
    // Assess
    expect(err.issues).toEqual([
      { path: 'serviceAccount.private_key', message: 'must be an RSA private key in PEM' },
    ]);
    expect(err.message).not.toContain('PRIVATE KEY');
  });

  it('refuses a project id that cannot be a path segment and a token_uri that is not http(s)', () => {
    // Act
    const err = parseError(
      JSON.stringify({ ...file, project_id: 'a/../b', token_uri: 'file:///etc/passwd' }),
    );
    // Assess
    expect(err.issues.map((i) => i.path)).toEqual(['serviceAccount.project_id', 'serviceAccount.token_uri']);
  });

  it('refuses a plain-http token_uri anywhere but on this machine: the signed assertion travels to it', () => {
    // Act
    const remote = parseError(JSON.stringify({ ...file, token_uri: 'http://oauth2.example.test/token' }));
    const local = parseServiceAccount(JSON.stringify({ ...file, token_uri: 'http://127.0.0.1:9999/token' }));
    // Assess
    expect(remote.issues).toEqual([{ path: 'serviceAccount.token_uri', message: 'must be an https URL' }]);
    expect(local.tokenUri).toBe('http://127.0.0.1:9999/token');
  });

  it('refuses text that is not a JSON object, without quoting it', () => {
    // Act
    const notJson = parseError(`{"private_key": "-----BEGIN PRIVATE KEY-----\nMIIE`);
    const array = parseError('[]');
    // Assess
    expect(notJson.message).toBe('serviceAccount: must be a JSON object');
    expect(array.message).toBe('serviceAccount: must be a JSON object');
  });
});

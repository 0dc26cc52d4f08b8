import { generateKeyPairSync, randomUUID } from 'node:crypto';

/** Service-account key files for the fake FCM (see fake-fcm.ts). */

export const FAKE_PROJECT_ID = 'fanout-test';
export const FAKE_CLIENT_EMAIL = 'fanout@fanout-test.iam.gserviceaccount.com';

/** A service account key file for the fake, as Firebase's console hands it out. */
export interface FakeServiceAccount {
  /** The key file's JSON text. */
  readonly json: string;
  readonly publicKeyPem: string;
  readonly privateKeyId: string;
  readonly clientEmail: string;
  readonly projectId: string;
}

let sharedKey: { privateKeyPem: string; publicKeyPem: string } | undefined;

/** An RSA 2048 key pair; generated once per test file unless `fresh`, since RSA generation is slow. */
export function rsaKeyPair(fresh = false): { privateKeyPem: string; publicKeyPem: string } {
  if (!fresh && sharedKey !== undefined) return sharedKey;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const pair = { privateKeyPem: privateKey, publicKeyPem: publicKey };
  if (!fresh) sharedKey = pair;
  return pair;
}

/** A service account whose token_uri is `${origin}/token`; the shared key unless `freshKey`. */
export function generateServiceAccount(
  origin: string,
  opts: { readonly projectId?: string; readonly clientEmail?: string; readonly freshKey?: boolean } = {},
): FakeServiceAccount {
  const { privateKeyPem, publicKeyPem } = rsaKeyPair(opts.freshKey);
  const projectId = opts.projectId ?? FAKE_PROJECT_ID;
  const clientEmail = opts.clientEmail ?? FAKE_CLIENT_EMAIL;
  const privateKeyId = randomUUID().replaceAll('-', '');
  const json = JSON.stringify({
    type: 'service_account',
    project_id: projectId,
    private_key_id: privateKeyId,
    private_key: privateKeyPem,
    client_email: clientEmail,
    client_id: '100000000000000000000',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: `${origin}/token`,
  });
  return { json, publicKeyPem, privateKeyId, clientEmail, projectId };
}

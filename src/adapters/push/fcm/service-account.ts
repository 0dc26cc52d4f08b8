import { createPrivateKey } from 'node:crypto';
import { type FieldIssue, ValidationError } from '../../../domain/errors.ts';

/**
 * The parts of a Google service-account key file (Firebase console → Project settings → Service
 * accounts → Generate new private key) that the FCM HTTP v1 client uses.
 */
export interface ServiceAccount {
  readonly projectId: string;
  readonly clientEmail: string;
  /** PKCS#8 PEM of the RSA key that signs the OAuth2 assertion. */
  readonly privateKey: string;
  /** Id of that key, sent as the JWT `kid` so Google picks the right public key. */
  readonly privateKeyId: string;
  /** OAuth2 token endpoint, normally https://oauth2.googleapis.com/token. */
  readonly tokenUri: string;
}

const FIELDS = ['project_id', 'client_email', 'private_key', 'private_key_id', 'token_uri'] as const;

/**
 * Parses and checks a service-account key file. Throws a ValidationError naming the bad fields;
 * its messages never repeat a value, since the file's key is a secret and its email an address.
 */
export function parseServiceAccount(json: string): ServiceAccount {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    // The parser's message may quote part of the file, i.e. part of the key: do not keep it.
    throw new ValidationError([{ path: 'serviceAccount', message: 'must be a JSON object' }]);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ValidationError([{ path: 'serviceAccount', message: 'must be a JSON object' }]);
  }
  const file = raw as Record<string, unknown>;
  const issues: FieldIssue[] = [];
  if (file.type !== 'service_account') {
    issues.push({ path: 'serviceAccount.type', message: "must be 'service_account'" });
  }
  for (const field of FIELDS) {
    if (typeof file[field] !== 'string' || file[field] === '') {
      issues.push({ path: `serviceAccount.${field}`, message: 'must be a non-empty string' });
    }
  }
  if (issues.length > 0) throw new ValidationError(issues);
  const text = file as Record<(typeof FIELDS)[number], string>;
  // It goes into the send URL's path; older domain-scoped ids (example.com:app) have '.' and ':'.
  if (!/^[a-z][a-z0-9.:-]{0,98}[a-z0-9]$/.test(text.project_id)) {
    issues.push({ path: 'serviceAccount.project_id', message: 'must be a Google Cloud project id' });
  }
  if (!/^[^@\s]+@[^@\s]+$/.test(text.client_email)) {
    issues.push({ path: 'serviceAccount.client_email', message: 'must be an email address' });
  }
  if (!isRsaPrivateKey(text.private_key)) {
    issues.push({ path: 'serviceAccount.private_key', message: 'must be an RSA private key in PEM' });
  }
  if (!isTokenUrl(text.token_uri)) {
    issues.push({ path: 'serviceAccount.token_uri', message: 'must be an https URL' });
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return {
    projectId: text.project_id,
    clientEmail: text.client_email,
    privateKey: text.private_key,
    privateKeyId: text.private_key_id,
    tokenUri: text.token_uri,
  };
}

function isRsaPrivateKey(pem: string): boolean {
  if (!pem.includes('-----BEGIN')) return false;
  try {
    return createPrivateKey(pem).asymmetricKeyType === 'rsa';
  } catch {
    return false;
  }
}

/**
 * https: the signed assertion travels to it and is worth an access token for an hour. Plain http
 * only to this machine (a local token server in development).
 */
function isTokenUrl(value: string): boolean {
  try {
    const url = new URL(value);
    if (url.protocol === 'https:') return true;
    return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  } catch {
    return false;
  }
}

import { createECDH } from 'node:crypto';
import { ValidationError } from '../../../domain/errors.ts';

/**
 * The application server's identity to push services (VAPID, RFC 8292): a P-256 key pair, whose
 * public half a browser subscribes with (`applicationServerKey`) and whose private half signs a
 * short-lived JWT on every push, and a contact for the push service's operator.
 */
export interface VapidKeys {
  /** Uncompressed P-256 point (65 bytes), base64url without padding. */
  readonly publicKey: string;
  /** The private scalar (32 bytes), base64url without padding. */
  readonly privateKey: string;
  /** `mailto:` address or `https:` URL the push service can reach the sender at (the JWT's `sub`). */
  readonly subject: string;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A fresh key pair (the subject is the caller's). */
export function generateVapidKeyPair(): Pick<VapidKeys, 'publicKey' | 'privateKey'> {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    publicKey: ecdh.getPublicKey('base64url', 'uncompressed'),
    // getPrivateKey drops leading zero bytes: pad back to the 32 the format has.
    privateKey: Buffer.concat([Buffer.alloc(32), ecdh.getPrivateKey()])
      .subarray(-32)
      .toString('base64url'),
  };
}

/**
 * Throws ValidationError listing every problem (`publicKey`, `privateKey`, `subject`), never a
 * key's value: both keys base64url of the right length, the public key the private key's own
 * (a mismatch makes every push service refuse every push), the subject mailto: or https:.
 */
export function checkVapidKeys(keys: VapidKeys): void {
  const issues: { path: string; message: string }[] = [];
  const bytes = (path: 'publicKey' | 'privateKey', length: number): Buffer | undefined => {
    const value = keys?.[path];
    if (typeof value !== 'string' || !BASE64URL.test(value)) {
      issues.push({ path, message: 'must be base64url text without padding' });
      return undefined;
    }
    const decoded = Buffer.from(value, 'base64url');
    if (decoded.length !== length) {
      issues.push({ path, message: `must decode to ${length} bytes` });
      return undefined;
    }
    return decoded;
  };
  const publicKey = bytes('publicKey', 65);
  const privateKey = bytes('privateKey', 32);
  if (publicKey !== undefined && privateKey !== undefined) {
    const ecdh = createECDH('prime256v1');
    let derived: Buffer | undefined;
    try {
      ecdh.setPrivateKey(privateKey);
      derived = ecdh.getPublicKey(null, 'uncompressed');
    } catch {
      issues.push({ path: 'privateKey', message: 'is not a P-256 private key' });
    }
    if (derived !== undefined && !derived.equals(publicKey)) {
      issues.push({ path: 'publicKey', message: 'is not the public key of privateKey' });
    }
  }
  if (!isVapidSubject(keys?.subject)) {
    issues.push({ path: 'subject', message: 'must be a mailto: address or an https:// URL' });
  }
  if (issues.length > 0) throw new ValidationError(issues);
}

/** RFC 8292 §2.1: a `mailto:` or `https:` URI. */
export function isVapidSubject(subject: unknown): subject is string {
  if (typeof subject !== 'string') return false;
  try {
    const url = new URL(subject);
    if (url.protocol === 'mailto:') return url.pathname.includes('@');
    return url.protocol === 'https:' && url.hostname !== '';
  } catch {
    return false;
  }
}

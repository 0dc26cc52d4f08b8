import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';

/**
 * Compact signed tokens: `base64url(JSON claims) '.' base64url(HMAC-SHA256(key, context ‖ payload))`.
 * Stateless, so any process holding the key verifies them, and tamper-evident. Pure: no I/O, so
 * the domain may use it (unsubscribe links) as well as the HTTP layer (user tokens).
 */
export interface SignedTokens {
  /** The token of `claims` (any JSON value). */
  sign(claims: unknown): string;
  /**
   * The parsed claims of a genuine token; undefined for anything forged, altered or malformed.
   * The claims are only as well-formed as what was signed: callers check their shape.
   */
  verify(token: unknown): unknown;
}

/** Longer input is refused before any decoding: real tokens stay well below this. */
const MAX_TOKEN_LENGTH = 1024;
/** A payload, a dot, and exactly the 43 characters of a 32-byte MAC. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/;

/**
 * Tokens under `key`. `context` is MACed before the payload: it separates token kinds that could
 * otherwise share a key (a token of one kind never verifies as another).
 */
export function signedTokens(key: KeyObject | Uint8Array, context = ''): SignedTokens {
  // A KeyObject made once: a raw key would be converted again on every HMAC.
  const secret = key instanceof Uint8Array ? createSecretKey(key) : key;
  const mac = (payload: string): Buffer =>
    createHmac('sha256', secret).update(context).update(payload).digest();
  return {
    sign(claims) {
      const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
      return `${payload}.${mac(payload).toString('base64url')}`;
    },
    verify(token) {
      if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !TOKEN_PATTERN.test(token)) {
        return undefined;
      }
      const dot = token.indexOf('.');
      const payload = token.slice(0, dot);
      const macText = token.slice(dot + 1);
      const given = Buffer.from(macText, 'base64url');
      // 43 characters carry 258 bits for a 256-bit MAC: the last one's 2 spare bits are ignored by
      // the decoder, so 4 spellings decode to the same bytes. Only the canonical one (spare bits
      // zero, as `sign` writes it) is a token: one token, one spelling, whatever compares it.
      if (given.toString('base64url') !== macText) return undefined;
      const expected = mac(payload);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
      try {
        return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as unknown;
      } catch {
        return undefined;
      }
    },
  };
}

/** True when `text` has the shape of a signed token (no MAC checked). */
export function looksSigned(text: string): boolean {
  return TOKEN_PATTERN.test(text);
}

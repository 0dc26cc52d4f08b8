import { hash, randomFillSync } from 'node:crypto';
import { ValidationError } from './errors.ts';
import type { NotificationId } from './types.ts';

/**
 * ULIDs: 48-bit ms time + 80 random bits, Crockford base32, 26 chars. Sorting the strings sorts
 * by time, which gives newest-first pages and one cursor for a whole inbox.
 */

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const MAX_TIME = 2 ** 48 - 1;
const TWO_POW_40 = 2 ** 40;
const TWO_POW_20 = 2 ** 20;

/** 10 bits → 2 chars: encoding 80 random bits is 8 table look-ups, no per-character loop. */
const PAIRS: readonly string[] = Array.from(
  { length: 1024 },
  (_, i) => ALPHABET[i >>> 5]! + ALPHABET[i & 31]!,
);

/** char code → 5-bit value, -1 for anything outside the canonical (upper-case) alphabet. */
const DECODE = new Int8Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

function checkTime(timeMs: number): void {
  if (!Number.isInteger(timeMs) || timeMs < 0 || timeMs > MAX_TIME) {
    throw new ValidationError([{ path: 'timeMs', message: 'must be an integer epoch ms within 48 bits' }]);
  }
}

// Fan-out encodes the same event time once per follower: remember the last one.
let lastTimeMs = -1;
let lastTimePart = '';

function encodeTime(timeMs: number): string {
  if (timeMs === lastTimeMs) return lastTimePart;
  checkTime(timeMs);
  let rest = timeMs;
  let out = '';
  for (let i = 0; i < 10; i++) {
    const digit = rest % 32;
    out = ALPHABET[digit]! + out;
    rest = (rest - digit) / 32;
  }
  lastTimeMs = timeMs;
  lastTimePart = out;
  return out;
}

/** 80 bits given as h1 (32) ‖ h2 (32) ‖ top 16 bits of h3, as 16 chars. */
function encodeRandom(h1: number, h2: number, h3: number): string {
  return (
    PAIRS[h1 >>> 22]! +
    PAIRS[(h1 >>> 12) & 1023]! +
    PAIRS[(h1 >>> 2) & 1023]! +
    PAIRS[((h1 & 3) << 8) | (h2 >>> 24)]! +
    PAIRS[(h2 >>> 14) & 1023]! +
    PAIRS[(h2 >>> 4) & 1023]! +
    PAIRS[((h2 & 15) << 6) | (h3 >>> 26)]! +
    PAIRS[(h3 >>> 16) & 1023]!
  );
}

/** A 40-bit integer as 8 chars. */
function encode40(value: number): string {
  const hi = Math.floor(value / TWO_POW_20);
  const lo = value % TWO_POW_20;
  return PAIRS[hi >>> 10]! + PAIRS[hi & 1023]! + PAIRS[lo >>> 10]! + PAIRS[lo & 1023]!;
}

// The event id is hashed once with sha256 (cached for the last event: fan-out calls this once per
// follower of the same event); that digest keys a MurmurHash3 x86_128 of the recipient. A
// crypto hash per follower would cap fan-out at ~500k ids/s; the keyed 128-bit mix is
// collision-free in practice for the 80 bits kept, and a collision could only ever merge two
// notifications of the same event. NEVER change this function: stored ids depend on it, and a
// re-delivered event must map to the ids it produced before.
let seedEventId: string | undefined;
let seed1 = 0;
let seed2 = 0;
let seed3 = 0;
let seed4 = 0;

function seedFor(eventId: string): void {
  if (eventId === seedEventId) return;
  const digest = hash('sha256', eventId, 'buffer');
  seed1 = digest.readUInt32BE(0);
  seed2 = digest.readUInt32BE(4);
  seed3 = digest.readUInt32BE(8);
  seed4 = digest.readUInt32BE(12);
  seedEventId = eventId;
}

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  let x = h;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x;
}

/** Two UTF-16 code units from `i` as one 32-bit word (0 past the end). */
function word(s: string, i: number): number {
  // charCodeAt past the end is NaN, which `| 0` and `<<` turn into 0.
  return s.charCodeAt(i) | 0 | (s.charCodeAt(i + 1) << 16);
}

/** The random part of (seeded event, recipient): MurmurHash3 x86_128 over UTF-16LE code units. */
function recipientRandom(recipient: string): string {
  let h1 = seed1;
  let h2 = seed2;
  let h3 = seed3;
  let h4 = seed4;
  const n = recipient.length;
  const blocks = n - (n % 8);
  for (let i = 0; i < blocks; i += 8) {
    let k1 = word(recipient, i);
    let k2 = word(recipient, i + 2);
    let k3 = word(recipient, i + 4);
    let k4 = word(recipient, i + 6);
    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0;
  }
  const tail = n - blocks;
  if (tail > 6) h4 ^= Math.imul(rotl(Math.imul(word(recipient, blocks + 6), C4), 18), C1);
  if (tail > 4) h3 ^= Math.imul(rotl(Math.imul(word(recipient, blocks + 4), C3), 17), C4);
  if (tail > 2) h2 ^= Math.imul(rotl(Math.imul(word(recipient, blocks + 2), C2), 16), C3);
  if (tail > 0) h1 ^= Math.imul(rotl(Math.imul(word(recipient, blocks), C1), 15), C2);
  const len = n * 2;
  h1 ^= len;
  h2 ^= len;
  h3 ^= len;
  h4 ^= len;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  return encodeRandom(h1 >>> 0, h2 >>> 0, h3 >>> 0);
}

/** The ULID of notification (event, recipient): time = event time, random = hash(event id, recipient). */
export function notificationId(eventId: string, recipientId: string, timeMs: number): NotificationId {
  const time = encodeTime(timeMs);
  seedFor(eventId);
  return time + recipientRandom(recipientId);
}

/** Marker recipient for a celebrity pointer's id (one id per celebrity event). */
export const POINTER_RECIPIENT = '*';

/** True for a syntactically valid ULID (26 Crockford base32 chars, time within 48 bits). */
export function isUlid(id: string): boolean {
  if (typeof id !== 'string' || id.length !== 26) return false;
  // The first char carries only 3 bits of the 48-bit time.
  if (id.charCodeAt(0) > 0x37) return false;
  for (let i = 0; i < 26; i++) {
    const code = id.charCodeAt(i);
    if (code >= 128 || DECODE[code]! < 0) return false;
  }
  return true;
}

/** The 128 bits of a ULID as 16 bytes (time first), or undefined when `id` is not a ULID. */
export function ulidBytes(id: string): Uint8Array | undefined {
  if (!isUlid(id)) return undefined;
  const bytes = new Uint8Array(16);
  // 26 chars carry 130 bits; the first char's top 2 bits are always 0 in a ULID (isUlid checked).
  let acc = DECODE[id.charCodeAt(0)]!;
  let bits = 3;
  let out = 0;
  for (let i = 1; i < 26; i++) {
    acc = (acc << 5) | DECODE[id.charCodeAt(i)]!;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes[out++] = (acc >>> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  return bytes;
}

/** Epoch ms encoded in a ULID. Throws ValidationError when `id` is not a ULID. */
export function ulidTime(id: string): number {
  if (!isUlid(id)) throw new ValidationError([{ path: 'id', message: 'must be a ULID' }]);
  let time = 0;
  for (let i = 0; i < 10; i++) time = time * 32 + DECODE[id.charCodeAt(i)]!;
  return time;
}

/** The smallest ULID with this time: every id at or after `timeMs` compares greater or equal. */
export function minUlidAt(timeMs: number): NotificationId {
  return `${encodeTime(timeMs)}0000000000000000`;
}

/** The largest ULID with this time. */
export function maxUlidAt(timeMs: number): NotificationId {
  return `${encodeTime(timeMs)}ZZZZZZZZZZZZZZZZ`;
}

/** Random bytes drawn per refill: 10 per new millisecond. */
const POOL_IDS = 4096;

/**
 * A fast monotonic ULID generator (ids strictly increase even within one ms). Random bits are
 * drawn in bulk from a crypto source, not per character.
 */
export function createUlidGenerator(now: () => number = Date.now): () => string {
  const pool = new Uint8Array(POOL_IDS * 10);
  let poolAt = pool.length;
  let lastMs = Number.NEGATIVE_INFINITY;
  let timePart = '';
  // The 80 random bits as two 40-bit integers, incremented as one number within a millisecond.
  let hi = 0;
  let lo = 0;

  function freshRandom(): void {
    if (poolAt === pool.length) {
      randomFillSync(pool);
      poolAt = 0;
    }
    const b = pool;
    const i = poolAt;
    hi = b[i]! * 2 ** 32 + (b[i + 1]! * 2 ** 24 + ((b[i + 2]! << 16) | (b[i + 3]! << 8) | b[i + 4]!));
    lo = b[i + 5]! * 2 ** 32 + (b[i + 6]! * 2 ** 24 + ((b[i + 7]! << 16) | (b[i + 8]! << 8) | b[i + 9]!));
    poolAt = i + 10;
  }

  return () => {
    const t = now();
    if (t > lastMs) {
      checkTime(t);
      lastMs = t;
      timePart = encodeTime(t);
      freshRandom();
    } else {
      // Same millisecond, or the clock stepped back: stay on the last time and count up.
      lo += 1;
      if (lo === TWO_POW_40) {
        lo = 0;
        hi += 1;
        if (hi === TWO_POW_40) {
          throw new ValidationError([{ path: 'ulid', message: 'random part overflowed within one ms' }]);
        }
      }
    }
    return timePart + encode40(hi) + encode40(lo);
  };
}

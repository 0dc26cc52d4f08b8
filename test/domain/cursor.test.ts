import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCursorCodec } from '../../src/domain/cursor.ts';
import { InvalidCursorError, ValidationError } from '../../src/domain/errors.ts';
import { createUlidGenerator } from '../../src/domain/ids.ts';
import type { UserKey } from '../../src/domain/types.ts';

const SECRET = 'cursor-test-secret-0123456789';
const ALICE: UserKey = { tenantId: 'acme', userId: 'alice' };
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const nextId = createUlidGenerator(() => Date.UTC(2026, 4, 1, 12));

/** Asserts that decoding throws InvalidCursorError, and nothing else. */
function expectRejected(decode: () => unknown): void {
  let thrown: unknown;
  try {
    decode();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(InvalidCursorError);
}

describe('createCursorCodec', () => {
  it('decodes a cursor back to the id it was issued for', () => {
    // Prepare
    const codec = createCursorCodec(SECRET);
    const id = nextId();
    // Act
    const cursor = codec.encode(ALICE, id);
    // Assess
    expect(codec.decode(ALICE, cursor)).toBe(id);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('binds a scope: a cursor decodes under the scope it was issued for only', () => {
    // Prepare
    const codec = createCursorCodec(SECRET);
    const id = nextId();
    // Act
    const unread = codec.encode(ALICE, id, 'unread');
    const plain = codec.encode(ALICE, id);
    // Assess
    expect(codec.decode(ALICE, unread, 'unread')).toBe(id);
    expect(codec.decode(ALICE, plain)).toBe(id);
    expectRejected(() => codec.decode(ALICE, unread));
    expectRejected(() => codec.decode(ALICE, unread, 'archived'));
    expectRejected(() => codec.decode(ALICE, plain, 'unread'));
  });

  it('round-trips any ULID, for a secret given as bytes too', () => {
    const codec = createCursorCodec(new Uint8Array(32).fill(7));
    fc.assert(
      fc.property(fc.ulid(), (id) => {
        // Act
        const cursor = codec.encode(ALICE, id);
        // Assess
        expect(codec.decode(ALICE, cursor)).toBe(id);
      }),
    );
  });

  it('rejects every single-character change of a cursor', () => {
    // Prepare
    const codec = createCursorCodec(SECRET);
    const cursor = codec.encode(ALICE, nextId());
    const replacement = fc.constantFrom(...BASE64URL, '=', '+', '/', '.', ' ', '\n', 'é', '\u0000');
    fc.assert(
      fc.property(fc.nat({ max: cursor.length - 1 }), replacement, (at, char) => {
        fc.pre(cursor[at] !== char);
        // Act
        const tampered = cursor.slice(0, at) + char + cursor.slice(at + 1);
        // Assess
        expectRejected(() => codec.decode(ALICE, tampered));
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects every truncation and every extension of a cursor', () => {
    // Prepare
    const codec = createCursorCodec(SECRET);
    const cursor = codec.encode(ALICE, nextId());
    for (let length = 0; length < cursor.length; length++) {
      // Act, Assess
      expectRejected(() => codec.decode(ALICE, cursor.slice(0, length)));
    }
    expectRejected(() => codec.decode(ALICE, `${cursor}A`));
    expectRejected(() => codec.decode(ALICE, `${cursor}==`));
    expectRejected(() => codec.decode(ALICE, cursor.repeat(1000)));
  });

  it('rejects the cursor of another user of the same tenant', () => {
    // Prepare
    const codec = createCursorCodec(SECRET);
    const cursor = codec.encode({ tenantId: 'acme', userId: 'bob' }, nextId());
    // Act, Assess
    expectRejected(() => codec.decode(ALICE, cursor));
  });

  it('rejects the cursor of a user of the same name in another tenant', () => {
    // Prepare
    const codec = createCursorCodec(SECRET);
    const cursor = codec.encode({ tenantId: 'globex', userId: 'alice' }, nextId());
    // Act, Assess
    expectRejected(() => codec.decode(ALICE, cursor));
  });

  it('does not confuse users whose tenant and user ids concatenate alike', () => {
    // Prepare
    const codec = createCursorCodec(SECRET);
    const cursor = codec.encode({ tenantId: 'ac', userId: 'mealice' }, nextId());
    // Act, Assess
    expectRejected(() => codec.decode({ tenantId: 'acme', userId: 'alice' }, cursor));
  });

  it('rejects a cursor issued under another secret', () => {
    // Prepare
    const cursor = createCursorCodec('another-secret-of-16+').encode(ALICE, nextId());
    // Act, Assess
    expectRejected(() => createCursorCodec(SECRET).decode(ALICE, cursor));
  });

  it('rejects garbage and non-strings with InvalidCursorError only', () => {
    // Prepare
    const codec = createCursorCodec(SECRET);
    const junk = fc.oneof(
      fc.string(),
      fc.string({ unit: fc.constantFrom(...BASE64URL), minLength: 58, maxLength: 62 }),
      fc.anything(),
    );
    fc.assert(
      fc.property(junk, (input) => {
        // Act, Assess
        expectRejected(() => codec.decode(ALICE, input as string));
      }),
      { numRuns: 500 },
    );
  });

  it('rejects a well-formed cursor whose id is not a ULID, even with a valid length', () => {
    // Prepare: a version byte and 26 bytes that are not Crockford base32, with a made-up tag.
    const codec = createCursorCodec(SECRET);
    const bytes = Buffer.alloc(45, 0x61);
    bytes[0] = 1;
    // Act, Assess
    expectRejected(() => codec.decode(ALICE, bytes.toString('base64url')));
  });

  it('rejects a malformed user key with InvalidCursorError', () => {
    // Prepare
    const codec = createCursorCodec(SECRET);
    const cursor = codec.encode(ALICE, nextId());
    // Act, Assess
    expectRejected(() => codec.decode({ tenantId: 1n, userId: 'alice' } as unknown as UserKey, cursor));
  });

  it.each([
    ['a short string', 'short'],
    ['15 bytes', new Uint8Array(15)],
    ['an empty string', ''],
    ['a number', 42],
  ])('refuses %s as a secret', (_name, secret) => {
    // Act, Assess
    expect(() => createCursorCodec(secret as string)).toThrow(ValidationError);
  });

  it('refuses to encode an id that is not a ULID', () => {
    // Prepare
    const codec = createCursorCodec(SECRET);
    // Act, Assess
    expect(() => codec.encode(ALICE, 'not-a-ulid')).toThrow(ValidationError);
  });
});

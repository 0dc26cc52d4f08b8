import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.ts';
import {
  createUlidGenerator,
  isUlid,
  maxUlidAt,
  minUlidAt,
  notificationId,
  POINTER_RECIPIENT,
  ulidBytes,
  ulidTime,
} from '../../src/domain/ids.ts';

const MAX_TIME = 2 ** 48 - 1;
const time = fc.integer({ min: 0, max: MAX_TIME });
const id = fc.string({ minLength: 1, maxLength: 40 });

describe('notificationId', () => {
  it('gives the same id for the same event, recipient and time', () => {
    fc.assert(
      fc.property(id, id, id, time, (eventId, recipient, other, t) => {
        // Prepare: another event in between must not leak into the next id
        const first = notificationId(eventId, recipient, t);
        notificationId(other, other, t);
        // Act
        const again = notificationId(eventId, recipient, t);
        // Assess
        expect(again).toBe(first);
      }),
    );
  });

  it('keeps producing the ids it produced before, since stored ids depend on them', () => {
    expect(notificationId('evt-1', 'alice', 1_700_000_000_000)).toBe('01HF7YAT0062QBZN3ZRXDW3GP0');
    expect(notificationId('evt-1', 'bob', 1_700_000_000_000)).toBe('01HF7YAT008P2EWHGHYRJRXZQ6');
    expect(notificationId('e', 'user-with-a-longer-id-0123456789', 0)).toBe('0000000000Y28CFPBWYGQ78M6W');
  });

  it('gives distinct ids to distinct recipients of one event', () => {
    fc.assert(
      fc.property(
        id,
        fc.uniqueArray(fc.string({ maxLength: 24 }), { minLength: 2, maxLength: 200 }),
        time,
        (eventId, recipients, t) => {
          // Act
          const ids = recipients.map((r) => notificationId(eventId, r, t));
          // Assess
          expect(new Set(ids).size).toBe(recipients.length);
        },
      ),
    );
  });

  it('gives distinct ids to one recipient of distinct events', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(id, { minLength: 2, maxLength: 100 }),
        id,
        time,
        (eventIds, recipient, t) => {
          const ids = eventIds.map((e) => notificationId(e, recipient, t));
          expect(new Set(ids).size).toBe(eventIds.length);
        },
      ),
    );
  });

  it('tells apart recipients that differ only by a trailing NUL or across an 8-char block', () => {
    const t = 1_000;
    const ids = ['a', 'a\u0000', 'abcdefg', 'abcdefgh', 'abcdefghi', '', 'abcdefgh\u0000'].map((r) =>
      notificationId('evt', r, t),
    );
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('is a ULID whose time part round-trips', () => {
    fc.assert(
      fc.property(id, id, time, (eventId, recipient, t) => {
        const value = notificationId(eventId, recipient, t);
        expect(isUlid(value)).toBe(true);
        expect(ulidTime(value)).toBe(t);
      }),
    );
  });

  it('sorts by time: an earlier event time gives a smaller id', () => {
    fc.assert(
      fc.property(id, id, id, id, time, time, (e1, r1, e2, r2, t1, t2) => {
        fc.pre(t1 !== t2);
        const a = notificationId(e1, r1, t1);
        const b = notificationId(e2, r2, t2);
        expect(a < b).toBe(t1 < t2);
      }),
    );
  });

  it('gives the celebrity pointer of an event its own id, distinct from any follower id', () => {
    const pointer = notificationId('evt-9', POINTER_RECIPIENT, 5);
    expect(pointer).not.toBe(notificationId('evt-9', 'alice', 5));
    expect(notificationId('evt-9', POINTER_RECIPIENT, 5)).toBe(pointer);
  });

  it.each([-1, 1.5, 2 ** 48, Number.NaN, Number.POSITIVE_INFINITY])('rejects the time %s', (t) => {
    expect(() => notificationId('e', 'r', t)).toThrow(ValidationError);
  });
});

describe('minUlidAt and maxUlidAt', () => {
  it('bound every id of their millisecond and exclude the neighbours', () => {
    fc.assert(
      fc.property(id, id, fc.integer({ min: 1, max: MAX_TIME - 1 }), (eventId, recipient, t) => {
        const value = notificationId(eventId, recipient, t);
        expect(minUlidAt(t) <= value && value <= maxUlidAt(t)).toBe(true);
        expect(maxUlidAt(t - 1) < value).toBe(true);
        expect(minUlidAt(t + 1) > value).toBe(true);
        expect(ulidTime(minUlidAt(t))).toBe(t);
        expect(ulidTime(maxUlidAt(t))).toBe(t);
      }),
    );
  });
});

describe('isUlid and ulidTime', () => {
  it.each([
    ['too short', '01HF7YAT0062QBZN3ZRXDW3GP'],
    ['too long', '01HF7YAT0062QBZN3ZRXDW3GP00'],
    ['lower case', '01hf7yat0062qbzn3zrxdw3gp0'],
    ['an I', '01HF7YAT0062QBZN3ZRXDW3GPI'],
    ['an L', '01HF7YAT0062QBZN3ZRXDW3GPL'],
    ['an O', '01HF7YAT0062QBZN3ZRXDW3GPO'],
    ['a U', '01HF7YAT0062QBZN3ZRXDW3GPU'],
    ['a time beyond 48 bits', '81HF7YAT0062QBZN3ZRXDW3GP0'],
    ['a non-ASCII char', '01HF7YAT0062QBZN3ZRXDW3GPé'],
    ['empty', ''],
  ])('rejects %s', (_, value) => {
    expect(isUlid(value)).toBe(false);
    expect(() => ulidTime(value)).toThrow(ValidationError);
  });

  it('accepts the extremes of the time range', () => {
    expect(ulidTime('00000000000000000000000000')).toBe(0);
    expect(ulidTime('7ZZZZZZZZZZZZZZZZZZZZZZZZZ')).toBe(MAX_TIME);
  });
});

describe('createUlidGenerator', () => {
  it('strictly increases over 100k ids within one millisecond', () => {
    // Prepare
    const next = createUlidGenerator(() => 1_700_000_000_000);
    // Act
    const ids = Array.from({ length: 100_000 }, () => next());
    // Assess
    const firstOutOfOrder = ids.findIndex((v, i) => i > 0 && v <= ids[i - 1]!);
    expect(firstOutOfOrder).toBe(-1);
    expect(ids.every((v) => isUlid(v) && ulidTime(v) === 1_700_000_000_000)).toBe(true);
  });

  it('stays increasing when the clock moves forward and when it steps back', () => {
    // Prepare
    const times = [1_000, 1_000, 2_000, 1_500, 1_500, 2_001];
    let i = 0;
    const next = createUlidGenerator(() => times[i++]!);
    // Act
    const ids = times.map(() => next());
    // Assess
    for (let k = 1; k < ids.length; k++) expect(ids[k]! > ids[k - 1]!).toBe(true);
    expect(ids.map(ulidTime)).toEqual([1_000, 1_000, 2_000, 2_000, 2_000, 2_001]);
  });

  it('draws fresh random bits for each new millisecond', () => {
    let t = 0;
    const next = createUlidGenerator(() => ++t);
    const randomParts = Array.from({ length: 10_000 }, () => next().slice(10));
    expect(new Set(randomParts).size).toBe(randomParts.length);
  });

  it('rejects a clock outside the 48-bit range', () => {
    const next = createUlidGenerator(() => -5);
    expect(() => next()).toThrow(ValidationError);
  });
});

describe('ulidBytes', () => {
  it('gives the 48-bit time first, then the 80 random bits, and nothing for a non-ULID', () => {
    // Prepare
    const id = notificationId('evt-1', 'alice', 1_700_000_000_123);
    // Act
    const bytes = ulidBytes(id)!;
    // Assess
    expect(bytes).toHaveLength(16);
    expect(Buffer.from(bytes.subarray(0, 6)).readUIntBE(0, 6)).toBe(1_700_000_000_123);
    expect(ulidBytes(`${id.slice(0, 25)}U`)).toBeUndefined();
    expect(ulidBytes('8ZZZZZZZZZZZZZZZZZZZZZZZZZ')).toBeUndefined();
  });
});

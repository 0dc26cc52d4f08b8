import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.ts';
import { decodeEvent, encodeEvent, parseEvent } from '../../src/domain/event.ts';
import { deletionEvent, deletionEventId, retractedType } from '../../src/domain/retraction.ts';
import type { AuthorEvent } from '../../src/domain/types.ts';

const AT = Date.UTC(2026, 4, 1);

const original: AuthorEvent = {
  tenantId: 'acme',
  id: 'c1',
  type: 'comment',
  actorId: 'ana',
  objectId: 'post-1',
  recipients: ['owner'],
  data: { text: 'hello' },
  occurredAt: AT - 1000,
  acceptedAt: AT - 900,
};

describe('retraction rules', () => {
  it('names the retracted type by the un- prefix, or the type itself', () => {
    expect(retractedType('unlike')).toBe('like');
    expect(retractedType('like')).toBe('like');
    expect(retractedType('un')).toBe('un');
  });

  it("builds a deletion with the original's type, object, recipients and time, without its data", () => {
    // Act
    const deletion = deletionEvent(original, AT);
    // Assess
    expect(deletion).toEqual({
      tenantId: 'acme',
      id: 'c1!delete',
      type: 'comment',
      actorId: 'ana',
      objectId: 'post-1',
      recipients: ['owner'],
      occurredAt: AT - 1000,
      acceptedAt: AT,
      retracts: 'c1',
      retraction: 'delete',
    });
  });

  it('reads a deletion back from the log, also one of an event without an object', () => {
    // Prepare
    const { objectId: _o, ...post } = original;
    for (const event of [original, post]) {
      const deletion = deletionEvent(event, AT);
      // Act / Assess
      expect(decodeEvent(encodeEvent(deletion))).toEqual(deletion);
    }
  });

  it('refuses a deletion whose id is not the derived one, and the field in a caller body', () => {
    // Prepare
    const forged = { ...deletionEvent(original, AT), id: 'other' };
    // Act / Assess
    expect(() => decodeEvent(encodeEvent(forged))).toThrow(ValidationError);
    expect(deletionEventId('c1')).toBe('c1!delete');
    expect(() =>
      parseEvent(
        { id: 'x', type: 'comment', actorId: 'ana', retraction: 'delete', retracts: 'c1' },
        'acme',
        AT,
      ),
    ).toThrow(ValidationError);
    // A caller cannot choose a deletion's id either: '!' is outside the id alphabet
    expect(() => parseEvent({ id: 'c1!delete', type: 'comment', actorId: 'ana' }, 'acme', AT)).toThrow(
      ValidationError,
    );
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.ts';
import type { AuthorEvent } from '../../src/domain/types.ts';
import type { EventLogHarness } from './event-log.contract.ts';

function event(tenantId: string, id: string, extra: Partial<AuthorEvent> = {}): AuthorEvent {
  return {
    tenantId,
    id,
    type: 'post',
    actorId: 'alice',
    occurredAt: 1_700_000_000_000,
    acceptedAt: 1_700_000_000_000,
    ...extra,
  };
}

/**
 * `EventLog.lookup`: what `DELETE /v1/events/{id}` reads. Every field a retraction needs comes
 * back (`data` may be left out); ids never appended, and other tenants' events, are undefined.
 */
export function eventLogLookupContract(name: string, make: () => Promise<EventLogHarness>): void {
  describe(`EventLog contract (lookup): ${name}`, () => {
    let h: EventLogHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.close();
    });

    it('finds an appended event with what a retraction needs', async () => {
      // Prepare
      const posted = event('t1', 'e1', {
        type: 'like',
        objectId: 'post-1',
        recipients: ['owner'],
        data: { text: 'hi' },
      });
      await h.log.append([posted]);
      // Act
      const found = await h.log.lookup('t1', 'e1');
      // Assess
      const { data: _data, ...needed } = posted;
      expect(found).toMatchObject(needed);
    });

    it('finds nothing for an id never appended, nor for the same id of another tenant', async () => {
      // Prepare
      await h.log.append([event('t1', 'e1')]);
      // Act / Assess
      expect(await h.log.lookup('t1', 'e2')).toBeUndefined();
      expect(await h.log.lookup('t2', 'e1')).toBeUndefined();
    });

    it('answers the first event for an id appended twice', async () => {
      // Prepare
      await h.log.append([event('t1', 'e1', { type: 'post' })]);
      await h.log.append([event('t1', 'e1', { type: 'comment' })]);
      // Act / Assess
      expect((await h.log.lookup('t1', 'e1'))?.type).toBe('post');
    });

    it('refuses an empty tenant or id', async () => {
      await expect(h.log.lookup('', 'e1')).rejects.toBeInstanceOf(ValidationError);
      await expect(h.log.lookup('t1', '')).rejects.toBeInstanceOf(ValidationError);
    });
  });
}

import type { AuthorEvent } from './types.ts';

/**
 * Retraction: an event that takes back an earlier one of the same actor (an `unlike` of a `like`).
 * Pure rules; fan-out applies them (src/handlers/fanout.ts).
 */

/**
 * The type of the event a retracting event takes back: its own type without the `un` prefix
 * (`unlike` → `like`, `unfollow` → `follow`), or its own type when it has none (an event may retract
 * one of its own type). The retracted event's group key is computed from that type, the object and
 * the retracting event's time (the same group as long as a tenant's window has not turned over).
 */
export function retractedType(type: string): string {
  return type.startsWith('un') && type.length > 2 ? type.slice(2) : type;
}

/**
 * The id of the event that deletes `eventId` (`DELETE /v1/events/{id}`): derived, so a second
 * DELETE appends the same id and the log's idempotency makes it a no-op; `!` is outside the ids a
 * caller may choose, so it never meets one of theirs.
 */
export function deletionEventId(eventId: string): string {
  return `${eventId}!delete`;
}

/**
 * The event `DELETE /v1/events/{id}` appends for `original`: same tenant and actor (so the same
 * shard, after the original), the original's type, object, recipients and time (so fan-out names
 * the original's rows, pointer and group exactly), no data, and `retracts` the original's id.
 */
export function deletionEvent(original: AuthorEvent, acceptedAt: number): AuthorEvent {
  return {
    tenantId: original.tenantId,
    id: deletionEventId(original.id),
    type: original.type,
    actorId: original.actorId,
    ...(original.objectId === undefined ? {} : { objectId: original.objectId }),
    ...(original.recipients === undefined ? {} : { recipients: original.recipients }),
    occurredAt: original.occurredAt,
    acceptedAt,
    retracts: original.id,
    retraction: 'delete',
  };
}

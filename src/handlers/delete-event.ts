import { NotFoundError } from '../domain/errors.ts';
import { deletionEvent } from '../domain/retraction.ts';
import type { Clock } from '../ports/clock.ts';
import type { EventLog } from '../ports/event-log.ts';

/** What `DELETE /v1/events/{id}` needs. */
export interface DeleteEventDeps {
  readonly log: EventLog;
  readonly clock: Clock;
}

/** What a deletion did. */
export interface DeleteEventResult {
  readonly eventId: string;
  /** False when the event was deleted before: nothing new was appended. */
  readonly fresh: boolean;
}

/**
 * Retracts an event of the tenant, whatever its type: looks it up in the event log's idempotency
 * record (NotFoundError when the tenant never appended that id, or it is no longer remembered),
 * then appends its deletion (`deletionEvent`) to the same log, where it lands on the event's shard
 * after the event and is as durable as any event. Fan-out applies it (handlers/fanout.ts). A second
 * deletion appends the same id and is a no-op.
 */
export async function deleteEvent(
  tenantId: string,
  eventId: string,
  deps: DeleteEventDeps,
): Promise<DeleteEventResult> {
  const original = await deps.log.lookup(tenantId, eventId);
  if (original === undefined) throw new NotFoundError(`no event ${eventId}`);
  const [result] = await deps.log.append([deletionEvent(original, deps.clock.now())]);
  return { eventId, fresh: result?.fresh ?? false };
}

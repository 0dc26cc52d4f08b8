import type { EventRef } from '../../ports/inbox.ts';
import { requireText } from './input.ts';

/** Throws a ValidationError unless both parts of the event reference are non-empty strings. */
export function requireRef(ref: EventRef, path: string): void {
  requireText(ref?.eventId, `${path}.eventId`);
  requireText(ref?.actorId, `${path}.actorId`);
}

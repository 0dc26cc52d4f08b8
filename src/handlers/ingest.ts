import { type FieldIssue, ValidationError } from '../domain/errors.ts';
import { parseEvent } from '../domain/event.ts';
import type { AuthorEvent } from '../domain/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { AppendResult, EventLog } from '../ports/event-log.ts';

/** What the Event API needs to accept events. */
export interface IngestDeps {
  readonly log: EventLog;
  readonly clock: Clock;
}

/**
 * Validates every body (`parseEvent`) and appends them durably to the event log, in the order
 * given. All or nothing: one bad body throws a ValidationError naming each problem by its index,
 * and nothing is appended. Idempotent per (tenant, event id): the same id again returns the same
 * `eventId` with `fresh: false`, and causes no second fan-out.
 */
export async function ingestEvents(
  tenantId: string,
  bodies: readonly unknown[],
  deps: IngestDeps,
): Promise<AppendResult[]> {
  const acceptedAt = deps.clock.now();
  const events: AuthorEvent[] = [];
  const issues: FieldIssue[] = [];
  bodies.forEach((body, i) => {
    try {
      events.push(parseEvent(body, tenantId, acceptedAt));
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const prefix = bodies.length === 1 ? '' : `[${i}]`;
      for (const issue of err.issues)
        issues.push({ path: joinPath(prefix, issue.path), message: issue.message });
    }
  });
  if (issues.length > 0) throw new ValidationError(issues);
  if (events.length === 0) return [];
  return deps.log.append(events);
}

function joinPath(prefix: string, path: string): string {
  if (prefix === '') return path;
  if (path === '') return prefix;
  return path.startsWith('[') ? `${prefix}${path}` : `${prefix}.${path}`;
}

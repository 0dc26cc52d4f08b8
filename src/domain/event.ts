import { deletionEventId } from './retraction.ts';
import { isLive } from './ttl.ts';
import type { AuthorEvent } from './types.ts';
import { Issues, isJsonValue, isPlainObject, parseIsoDateTime, rejectUnknownKeys } from './validate.ts';

/** Limits the Event API enforces. */
export const EVENT_LIMITS = {
  idMaxLength: 128,
  typeMaxLength: 64,
  userIdMaxLength: 128,
  objectIdMaxLength: 256,
  maxRecipients: 1000,
  /** Bytes of JSON for `data`. */
  maxDataBytes: 4096,
  /** `occurredAt` may be at most this far in the future of acceptance (clock skew). */
  maxFutureSkewMs: 5 * 60 * 1000,
} as const;

const TYPE_PATTERN = /^[a-z][a-z0-9_.-]{0,63}$/;
const ID_PATTERN = /^[A-Za-z0-9._:@-]+$/;
const BODY_FIELDS: ReadonlySet<string> = new Set([
  'id',
  'type',
  'actorId',
  'objectId',
  'recipients',
  'data',
  'occurredAt',
  'retracts',
]);
/** Past this many raw entries the list is refused whole, without a message per entry. */
const RAW_RECIPIENTS_CAP = EVENT_LIMITS.maxRecipients * 4;

/** Valid ids for tenants, users and events: 1..128 of [A-Za-z0-9._:@-]. */
export function isValidId(value: unknown, maxLength: number = EVENT_LIMITS.idMaxLength): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= maxLength && ID_PATTERN.test(value);
}

function checkId(issues: Issues, path: string, value: unknown, maxLength: number): void {
  if (!isValidId(value, maxLength)) issues.add(path, `must be 1..${maxLength} of [A-Za-z0-9._:@-]`);
}

function checkType(issues: Issues, value: unknown): void {
  if (typeof value !== 'string' || !TYPE_PATTERN.test(value)) {
    issues.add('type', 'must match ^[a-z][a-z0-9_.-]{0,63}$');
  }
}

/** The data object as stored, or undefined after adding an issue. */
function checkData(issues: Issues, value: unknown): Record<string, unknown> | undefined {
  if (!isPlainObject(value) || !isJsonValue(value)) {
    issues.add('data', 'must be a JSON object');
    return undefined;
  }
  const json = JSON.stringify(value);
  if (Buffer.byteLength(json, 'utf8') > EVENT_LIMITS.maxDataBytes) {
    issues.add('data', `must be at most ${EVENT_LIMITS.maxDataBytes} bytes of JSON`);
    return undefined;
  }
  // A copy, so the accepted event does not change with the caller's object.
  return JSON.parse(json) as Record<string, unknown>;
}

/** Recipients de-duplicated in first-seen order, without the actor. */
function checkRecipients(issues: Issues, value: unknown, actorId: unknown): string[] {
  if (!Array.isArray(value)) {
    issues.add('recipients', 'must be an array of user ids');
    return [];
  }
  if (value.length > RAW_RECIPIENTS_CAP) {
    issues.add('recipients', `must hold at most ${EVENT_LIMITS.maxRecipients} users`);
    return [];
  }
  const unique = new Set<string>();
  value.forEach((r, i) => {
    if (isValidId(r, EVENT_LIMITS.userIdMaxLength)) {
      if (r !== actorId) unique.add(r);
    } else {
      issues.add(`recipients[${i}]`, `must be 1..${EVENT_LIMITS.userIdMaxLength} of [A-Za-z0-9._:@-]`);
    }
  });
  if (unique.size > EVENT_LIMITS.maxRecipients) {
    issues.add('recipients', `must hold at most ${EVENT_LIMITS.maxRecipients} users`);
  }
  return [...unique];
}

function checkOccurredAt(issues: Issues, value: unknown, acceptedAt: number): number {
  let at: number | undefined;
  if (typeof value === 'number') {
    at = Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  } else if (typeof value === 'string') {
    at = parseIsoDateTime(value);
  }
  if (at === undefined) {
    issues.add('occurredAt', 'must be an ISO-8601 date-time with offset, or epoch ms');
    return acceptedAt;
  }
  if (at > acceptedAt + EVENT_LIMITS.maxFutureSkewMs) {
    issues.add('occurredAt', 'is too far in the future');
  } else if (!isLive(at, acceptedAt)) {
    // Its notifications would be expired on arrival.
    issues.add('occurredAt', 'is older than the 90-day inbox retention');
  }
  return at;
}

/**
 * Validates an untrusted event body (`{id, type, actorId, objectId?, recipients?, data?,
 * occurredAt?}`, occurredAt as ISO-8601 string or epoch ms) into an AuthorEvent of `tenantId`.
 * Throws ValidationError listing every problem; never returns a partial event.
 * Recipients are de-duplicated and never include the actor.
 */
export function parseEvent(input: unknown, tenantId: string, acceptedAt: number): AuthorEvent {
  const issues: Issues = new Issues();
  checkId(issues, 'tenantId', tenantId, EVENT_LIMITS.idMaxLength);
  if (!isPlainObject(input)) issues.fail('body', 'must be a JSON object');
  rejectUnknownKeys(issues, input, BODY_FIELDS);
  checkId(issues, 'id', input.id, EVENT_LIMITS.idMaxLength);
  checkType(issues, input.type);
  checkId(issues, 'actorId', input.actorId, EVENT_LIMITS.userIdMaxLength);
  if (input.objectId !== undefined)
    checkId(issues, 'objectId', input.objectId, EVENT_LIMITS.objectIdMaxLength);
  const recipients =
    input.recipients === undefined ? [] : checkRecipients(issues, input.recipients, input.actorId);
  const data = input.data === undefined ? undefined : checkData(issues, input.data);
  const occurredAt =
    input.occurredAt === undefined ? acceptedAt : checkOccurredAt(issues, input.occurredAt, acceptedAt);
  checkRetracts(issues, input.retracts, input.id, input.objectId);
  issues.throwIfAny();
  return {
    tenantId,
    id: input.id as string,
    type: input.type as string,
    actorId: input.actorId as string,
    ...(input.objectId === undefined ? {} : { objectId: input.objectId as string }),
    ...(recipients.length === 0 ? {} : { recipients }),
    ...(data === undefined ? {} : { data }),
    occurredAt,
    acceptedAt,
    ...(input.retracts === undefined ? {} : { retracts: input.retracts as string }),
  };
}

/** `retracts`: an event id other than the event's own, and only with the object it was about. */
function checkRetracts(issues: Issues, retracts: unknown, id: unknown, objectId: unknown): void {
  if (retracts === undefined) return;
  checkId(issues, 'retracts', retracts, EVENT_LIMITS.idMaxLength);
  if (retracts === id) issues.add('retracts', 'must name another event than this one');
  if (objectId === undefined)
    issues.add('objectId', 'is required with retracts: the object of the retracted event');
}

const LOG_FIELDS: ReadonlySet<string> = new Set([...BODY_FIELDS, 'tenantId', 'acceptedAt', 'retraction']);
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Serialises an accepted event for the log. */
export function encodeEvent(event: AuthorEvent): Uint8Array {
  // Fixed key order, optional fields only when present: the same event always encodes the same.
  return encoder.encode(
    JSON.stringify({
      tenantId: event.tenantId,
      id: event.id,
      type: event.type,
      actorId: event.actorId,
      objectId: event.objectId,
      recipients: event.recipients,
      data: event.data,
      occurredAt: event.occurredAt,
      acceptedAt: event.acceptedAt,
      retracts: event.retracts,
      retraction: event.retraction,
    }),
  );
}

function isEpochMs(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Reads an event back from the log. Throws ValidationError on anything that is not one. */
export function decodeEvent(data: Uint8Array): AuthorEvent {
  const issues: Issues = new Issues();
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data));
  } catch {
    issues.fail('event', 'is not UTF-8 JSON');
  }
  if (!isPlainObject(parsed)) issues.fail('event', 'must be a JSON object');
  // Time windows were checked on acceptance; a replayed log entry may be old by now.
  rejectUnknownKeys(issues, parsed, LOG_FIELDS);
  checkId(issues, 'tenantId', parsed.tenantId, EVENT_LIMITS.idMaxLength);
  const deletion = parsed.retraction !== undefined;
  if (deletion) checkDeletion(issues, parsed);
  else checkId(issues, 'id', parsed.id, EVENT_LIMITS.idMaxLength);
  checkType(issues, parsed.type);
  checkId(issues, 'actorId', parsed.actorId, EVENT_LIMITS.userIdMaxLength);
  if (parsed.objectId !== undefined) {
    checkId(issues, 'objectId', parsed.objectId, EVENT_LIMITS.objectIdMaxLength);
  }
  const recipients =
    parsed.recipients === undefined ? [] : checkRecipients(issues, parsed.recipients, parsed.actorId);
  const eventData = parsed.data === undefined ? undefined : checkData(issues, parsed.data);
  if (!isEpochMs(parsed.occurredAt)) issues.add('occurredAt', 'must be epoch ms');
  if (!isEpochMs(parsed.acceptedAt)) issues.add('acceptedAt', 'must be epoch ms');
  if (!deletion) checkRetracts(issues, parsed.retracts, parsed.id, parsed.objectId);
  issues.throwIfAny();
  return {
    tenantId: parsed.tenantId as string,
    id: parsed.id as string,
    type: parsed.type as string,
    actorId: parsed.actorId as string,
    ...(parsed.objectId === undefined ? {} : { objectId: parsed.objectId as string }),
    ...(recipients.length === 0 ? {} : { recipients }),
    ...(eventData === undefined ? {} : { data: eventData }),
    occurredAt: parsed.occurredAt as number,
    acceptedAt: parsed.acceptedAt as number,
    ...(parsed.retracts === undefined ? {} : { retracts: parsed.retracts as string }),
    ...(deletion ? { retraction: 'delete' as const } : {}),
  };
}

/**
 * A deletion (`retraction: 'delete'`): it names the event it deletes, and its own id is the one
 * `deletionEventId` derives from that, which no caller's id can be.
 */
function checkDeletion(issues: Issues, parsed: Record<string, unknown>): void {
  if (parsed.retraction !== 'delete') issues.add('retraction', "must be 'delete'");
  if (!isValidId(parsed.retracts)) issues.add('retracts', 'must name the deleted event');
  else if (parsed.id !== deletionEventId(parsed.retracts))
    issues.add('id', 'must be the deletion id of retracts');
}

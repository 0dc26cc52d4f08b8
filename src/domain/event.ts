import type { AuthorEvent } from './types.ts';

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

/**
 * Validates an untrusted event body (`{id, type, actorId, objectId?, recipients?, data?,
 * occurredAt?}`, occurredAt as ISO-8601 string or epoch ms) into an AuthorEvent of `tenantId`.
 * Throws ValidationError listing every problem; never returns a partial event.
 * Recipients are de-duplicated and never include the actor.
 */
export function parseEvent(input: unknown, tenantId: string, acceptedAt: number): AuthorEvent {
  throw new Error(`not implemented ${input} ${tenantId} ${acceptedAt}`);
}

/** Serialises an accepted event for the log. */
export function encodeEvent(event: AuthorEvent): Uint8Array {
  throw new Error(`not implemented ${event}`);
}

/** Reads an event back from the log. Throws ValidationError on anything that is not one. */
export function decodeEvent(data: Uint8Array): AuthorEvent {
  throw new Error(`not implemented ${data}`);
}

/** Valid ids for tenants, users and events: 1..128 of [A-Za-z0-9._:@-]. */
export function isValidId(value: unknown, maxLength?: number): value is string {
  throw new Error(`not implemented ${value} ${maxLength}`);
}

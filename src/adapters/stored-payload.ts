/**
 * How every backend stores an event's free-form payload (`data`): as JSON text, or nothing when
 * there is none. The SQLite rows and the DynamoDB items share it, so a payload reads back the same
 * from either.
 */

/**
 * JSON of a free-form payload, or null when there is none. An empty object is stored as null:
 * most events carry no data, and skipping the stringify keeps the fan-out hot path lean.
 */
export function payloadJson(data: Readonly<Record<string, unknown>> | undefined): string | null {
  if (data === undefined || data === null) return null;
  for (const _ in data) return JSON.stringify(data);
  return null;
}

/** The payload back from its stored JSON; undefined when none was stored. */
export function parsePayload(json: unknown): Record<string, unknown> | undefined {
  return typeof json === 'string' ? (JSON.parse(json) as Record<string, unknown>) : undefined;
}

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

import type { Category, Channel, Outcome, Preferences } from './types.ts';

export type DeliveryDecision =
  | { readonly kind: 'send' }
  | { readonly kind: 'suppress'; readonly outcome: Outcome; readonly reason: string }
  | { readonly kind: 'defer'; readonly until: number };

/**
 * Decides one delivery before any I/O with the transport, in this order:
 * 1. consent (no preferences or no consent for the channel ⇒ suppressed_no_consent),
 * 2. the user's channel and category switches (⇒ suppressed_preference),
 * 3. for email, an address (⇒ suppressed_no_address),
 * 4. for push, quiet hours in the user's timezone (⇒ suppressed_quiet_hours or defer).
 * `critical` bypasses quiet hours, never consent.
 */
export function decideDelivery(
  prefs: Preferences | undefined,
  channel: Channel,
  category: Category,
  now: number,
): DeliveryDecision {
  throw new Error(`not implemented ${prefs} ${channel} ${category} ${now}`);
}

/** Validates untrusted preferences input (the PUT body) into Preferences; throws ValidationError. */
export function parsePreferences(input: unknown, tenantId: string, userId: string, now: number): Preferences {
  throw new Error(`not implemented ${input} ${tenantId} ${userId} ${now}`);
}

import type { Category, Channel } from './types.ts';

/** What an event type means for delivery: its category and the channels it is delivered on. */
export interface TypePolicy {
  readonly category: Category;
  readonly channels: readonly Channel[];
}

/**
 * Event type → category and channels. Types not listed are `social` on push only. Keep the
 * table small: tenants tune delivery through user preferences, not through types.
 */
export function typePolicy(type: string): TypePolicy {
  throw new Error(`not implemented ${type}`);
}

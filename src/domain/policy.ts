import { Category, Channel } from './types.ts';

/** What an event type means for delivery: its category and the channels it is delivered on. */
export interface TypePolicy {
  readonly category: Category;
  readonly channels: readonly Channel[];
}

const PUSH: readonly Channel[] = Object.freeze([Channel.Push]);
const PUSH_EMAIL: readonly Channel[] = Object.freeze([Channel.Push, Channel.Email]);

const CRITICAL: TypePolicy = Object.freeze({ category: Category.Critical, channels: PUSH_EMAIL });
const DEFAULT: TypePolicy = Object.freeze({ category: Category.Social, channels: PUSH });

const TABLE: ReadonlyMap<string, TypePolicy> = new Map<string, TypePolicy>([
  ['post', Object.freeze({ category: Category.Content, channels: PUSH })],
  ['comment', Object.freeze({ category: Category.Social, channels: PUSH_EMAIL })],
  ['like', DEFAULT],
  ['mention', Object.freeze({ category: Category.Mention, channels: PUSH_EMAIL })],
  ['follow', DEFAULT],
]);

/**
 * Event type → category and channels. Types not listed are `social` on push only; types under
 * `critical.` or `security.` are critical on push and email. Keep the table small: tenants tune
 * delivery through user preferences, not through types.
 */
export function typePolicy(type: string): TypePolicy {
  const listed = TABLE.get(type);
  if (listed !== undefined) return listed;
  if (type.startsWith('critical.') || type.startsWith('security.')) return CRITICAL;
  return DEFAULT;
}

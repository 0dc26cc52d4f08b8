/**
 * A fixture's fields replaced by `overrides`, where an override of `undefined` removes the field:
 * with exactOptionalPropertyTypes an optional field is absent, never `undefined`, so a test that
 * means "no email" leaves the field out, as a store would.
 */
export type Overrides<T> = { readonly [K in keyof T]?: T[K] | undefined };

export function withOverrides<T extends object>(fixture: T, overrides: Overrides<T>): T {
  const out: Record<string, unknown> = { ...fixture, ...overrides };
  for (const [key, value] of Object.entries(out)) if (value === undefined) delete out[key];
  return out as T;
}

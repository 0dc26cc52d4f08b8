import { parsePreferences } from './delivery.ts';
import type { Preferences } from './types.ts';
import { Issues, isPlainObject } from './validate.ts';

/**
 * Fields an end user may not patch. The email address is the tenant's record of where mail goes
 * (verified on its side); a user token that could point it anywhere would make the service mail
 * strangers.
 */
const TENANT_ONLY_FIELDS: readonly string[] = ['email'];

/**
 * Applies an end user's JSON merge patch (RFC 7396) to their stored preferences and validates the
 * result exactly like a tenant's write: an object merges key by key, `null` removes a key (its
 * default applies again), anything else replaces. A field the patch does not name keeps what the
 * tenant stored. Throws ValidationError and changes nothing on bad input.
 */
export function applyPreferencesPatch(
  current: Preferences | undefined,
  patch: unknown,
  user: { readonly tenantId: string; readonly userId: string },
  now: number,
): Preferences {
  // Annotated so that `issues.fail` (never) narrows `patch` below.
  const issues: Issues = new Issues();
  if (!isPlainObject(patch)) issues.fail('body', 'must be a JSON object');
  for (const field of TENANT_ONLY_FIELDS) {
    if (Object.hasOwn(patch, field)) issues.add(field, 'is set by the tenant, not through a user token');
  }
  issues.throwIfAny();
  const merged = mergePatch(current === undefined ? {} : bodyOf(current), patch);
  return parsePreferences(merged, user.tenantId, user.userId, now);
}

/** The stored record as a tenant would have written it: no key, no timestamp. */
function bodyOf(prefs: Preferences): Record<string, unknown> {
  const { tenantId: _t, userId: _u, updatedAt: _at, ...body } = prefs;
  return body;
}

/**
 * RFC 7396 merge. Built with `Object.fromEntries`, which defines own properties: a `__proto__`
 * key in the patch stays a plain (and then refused) field instead of reaching a prototype.
 */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const base = isPlainObject(target) ? target : {};
  const entries = new Map<string, unknown>(Object.entries(base));
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) entries.delete(key);
    else entries.set(key, mergePatch(entries.get(key), value));
  }
  return Object.fromEntries(entries);
}

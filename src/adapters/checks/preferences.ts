import { ValidationError } from '../../domain/errors.ts';
import type { Preferences } from '../../domain/types.ts';
import { isPlainObject } from '../../domain/validate.ts';
import { requireUser } from './input.ts';

/**
 * Argument checks of the PreferenceStore port, shared by its embedded and AWS adapters so both
 * refuse malformed preferences with the same paths and messages.
 */

/**
 * The shape the store relies on. The full rules (timezones, "HH:MM", known categories) live in
 * `parsePreferences`, which checks untrusted input before it gets here; this guards the store
 * against a caller that skipped it.
 */
export function validatePreferences(prefs: Preferences, path: string): void {
  if (!isPlainObject(prefs)) throw new ValidationError([{ path, message: 'must be an object' }]);
  requireUser(prefs, path);
  const issues: { path: string; message: string }[] = [];
  if (typeof prefs.timezone !== 'string' || prefs.timezone.length === 0) {
    issues.push({ path: `${path}.timezone`, message: 'must be a non-empty string' });
  }
  for (const key of ['consent', 'channels', 'categories'] as const) {
    if (!isPlainObject(prefs[key])) issues.push({ path: `${path}.${key}`, message: 'must be an object' });
  }
  if (typeof prefs.updatedAt !== 'number' || !Number.isFinite(prefs.updatedAt)) {
    issues.push({ path: `${path}.updatedAt`, message: 'must be a finite number' });
  }
  if (issues.length > 0) throw new ValidationError(issues);
}

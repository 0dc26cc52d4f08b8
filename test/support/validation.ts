import { type FieldIssue, ValidationError } from '../../src/domain/errors.ts';
import { SettingsError } from '../../src/lib/settings.ts';

/**
 * The issues of the ValidationError (or, from reading the environment, the SettingsError) `act`
 * throws, as field issues: a setting's path is its variable. Fails when it throws none (or another
 * error).
 */
export function issuesOf(act: () => unknown): readonly FieldIssue[] {
  try {
    act();
  } catch (err) {
    if (err instanceof ValidationError) return err.issues;
    if (err instanceof SettingsError)
      return err.issues.map((i) => ({ path: i.variable, message: i.message }));
    throw err;
  }
  throw new Error('expected a ValidationError or a SettingsError');
}

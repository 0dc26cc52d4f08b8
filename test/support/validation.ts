import { type FieldIssue, ValidationError } from '../../src/domain/errors.ts';

/** The issues of the ValidationError `act` throws; fails when it throws none (or another error). */
export function issuesOf(act: () => unknown): readonly FieldIssue[] {
  try {
    act();
  } catch (err) {
    if (err instanceof ValidationError) return err.issues;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

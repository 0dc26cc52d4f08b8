import { ValidationError } from '../../domain/errors.ts';
import { type AggregationPolicy, aggregationProblems } from '../../domain/grouping.ts';

/**
 * Argument checks of the Tenants port, shared by its embedded and AWS adapters so both refuse a
 * bad time with the same path and message.
 */

/** Throws a ValidationError unless `at` is a finite number (epoch ms). */
export function requireTime(at: unknown): void {
  if (typeof at !== 'number' || !Number.isFinite(at)) {
    throw new ValidationError([{ path: 'at', message: 'must be a finite number' }]);
  }
}

/** Throws a ValidationError unless `rules` is undefined or valid aggregation rules. */
export function requireAggregation(rules: unknown): asserts rules is AggregationPolicy | undefined {
  if (rules === undefined) return;
  const problems = aggregationProblems(rules);
  if (problems.length > 0) throw new ValidationError(problems);
}

/** The rules as stored: their JSON, or undefined. */
export function parseAggregation(json: unknown): AggregationPolicy | undefined {
  if (typeof json !== 'string') return undefined;
  return JSON.parse(json) as AggregationPolicy;
}

/** Hex digits of a key hash that name the key (`ApiKeyRecord.keyId`): 64 bits, unique in practice. */
export const KEY_ID_LENGTH = 16;

/** The id of the key whose SHA-256 (hex) is `apiKeyHash`. */
export function apiKeyId(apiKeyHash: string): string {
  return apiKeyHash.slice(0, KEY_ID_LENGTH);
}

/** Throws a ValidationError unless `keyId` is 16 lower-case hex digits. */
export function requireKeyId(keyId: unknown): asserts keyId is string {
  if (typeof keyId !== 'string' || !/^[0-9a-f]{16}$/.test(keyId)) {
    throw new ValidationError([{ path: 'keyId', message: 'must be 16 lower-case hex digits' }]);
  }
}

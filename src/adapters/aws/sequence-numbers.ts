import { ValidationError } from '../../domain/errors.ts';
import { requireText } from '../checks/input.ts';

/**
 * Positions in the event log, as the Kinesis event log and the DynamoDB checkpoints keep them:
 * input checks that match the embedded adapters' ValidationError cases, and the fixed-width order
 * key that lets one DynamoDB condition compare sequence numbers the way `compareSequence` does.
 */

/** Longest position we store: Kinesis sequence numbers have at most 129 digits. */
export const MAX_SEQUENCE_LENGTH = 1024;
const LENGTH_WIDTH = String(MAX_SEQUENCE_LENGTH).length;
/** What Kinesis accepts as a sequence number (`0|([1-9]\d{0,128})`). */
const KINESIS_SEQUENCE = /^(0|[1-9]\d{0,128})$/;

/** Throws a ValidationError unless `value` is a position we can store and compare. */
export function requirePosition(value: unknown, path: string): asserts value is string {
  requireText(value, path);
  if (value.length > MAX_SEQUENCE_LENGTH) {
    throw new ValidationError([{ path, message: `must be at most ${MAX_SEQUENCE_LENGTH} characters` }]);
  }
}

/** Throws a ValidationError unless `value` has the shape of a Kinesis sequence number. */
export function requireKinesisSequence(value: unknown, path: string): asserts value is string {
  if (typeof value !== 'string' || !KINESIS_SEQUENCE.test(value)) {
    throw new ValidationError([{ path, message: 'is not a sequence number of this log' }]);
  }
}

/**
 * A string whose plain lexicographic order is `compareSequence`'s order: the length, zero-padded to
 * a fixed width, then the value. DynamoDB compares strings byte by byte, so `orderKey(a) <
 * orderKey(b)` in a ConditionExpression holds exactly when `compareSequence(a, b) < 0` (for the
 * digit strings sequence numbers are; UTF-8 byte order and UTF-16 order differ only above U+FFFF).
 * Plain zero-padding of the value would not do: '0005' is longer, hence later, than '5'.
 */
export function orderKey(sequence: string): string {
  return `${String(sequence.length).padStart(LENGTH_WIDTH, '0')}:${sequence}`;
}

import { createHash } from 'node:crypto';
import type { Shard, _Record as StreamRecordEnvelope } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { ValidationError } from '../../domain/errors.ts';
import type { Preferences, UserKey } from '../../domain/types.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import type { PreferenceChange } from '../../ports/preferences.ts';

/**
 * The preferences table's stream as the PreferenceStore's change feed: records to changes, and
 * the feed's positions, `<sequence number, 40 digits>.<12 hex of sha256(shard id)>`. Fixed width,
 * so `compareSequence` orders positions like sequence numbers, which grow from a parent shard to
 * its children. The item's `doc` attribute (the Preferences as JSON) is each image's content.
 */

/** DynamoDB stream sequence numbers have 21 to 40 digits; padded, string order is numeric order. */
const SEQUENCE_DIGITS = 40;
const POSITION_PATTERN = /^(\d{40})\.([0-9a-f]{12})$/;
const EVENT_NAMES = new Set<string>(['INSERT', 'MODIFY', 'REMOVE']);

/**
 * One DynamoDB stream record of the preferences table, in the shape Lambda and EventBridge Pipes
 * deliver, as a PreferenceChange; undefined for records the feed skips (TTL deletions and other
 * event names, records without a usable key). Pass `shardId` when known: without it the position
 * still resumes `changes`, found by sequence number alone.
 */
export function preferenceChangeFromStreamRecord(
  record: DynamoDBRecord,
  shardId = '',
): PreferenceChange | undefined {
  const stream = record.dynamodb;
  const seconds = stream?.ApproximateCreationDateTime;
  return toChange({
    eventName: record.eventName,
    pk: stream?.Keys?.pk?.S,
    oldDoc: stream?.OldImage?.doc?.S,
    newDoc: stream?.NewImage?.doc?.S,
    sequence: stream?.SequenceNumber,
    shardId,
    at: typeof seconds === 'number' ? seconds * 1000 : systemClock.now(),
  });
}

/** A record of GetRecords (SDK shape) as a PreferenceChange; undefined when the feed skips it. */
export function changeFromSdkRecord(
  record: StreamRecordEnvelope,
  shardId: string,
  clock: Clock,
): PreferenceChange | undefined {
  const stream = record.dynamodb;
  return toChange({
    eventName: record.eventName,
    pk: stream?.Keys?.pk?.S,
    oldDoc: stream?.OldImage?.doc?.S,
    newDoc: stream?.NewImage?.doc?.S,
    sequence: stream?.SequenceNumber,
    shardId,
    at: stream?.ApproximateCreationDateTime?.getTime() ?? clock.now(),
  });
}

interface RawChange {
  readonly eventName: string | undefined;
  readonly pk: string | undefined;
  readonly oldDoc: string | undefined;
  readonly newDoc: string | undefined;
  readonly sequence: string | undefined;
  readonly shardId: string;
  readonly at: number;
}

function toChange(raw: RawChange): PreferenceChange | undefined {
  if (raw.eventName === undefined || !EVENT_NAMES.has(raw.eventName)) return undefined;
  if (raw.sequence === undefined || !/^\d{1,40}$/.test(raw.sequence)) return undefined;
  const user = userOfPartition(raw.pk);
  if (user === undefined) return undefined;
  return {
    sequence: position(BigInt(raw.sequence), raw.shardId),
    eventName: raw.eventName as PreferenceChange['eventName'],
    user,
    ...(raw.oldDoc === undefined ? {} : { oldImage: parseDoc(raw.oldDoc) }),
    ...(raw.newDoc === undefined ? {} : { newImage: parseDoc(raw.newDoc) }),
    at: raw.at,
  };
}

/** `tenant#user`; ids never contain `#`. */
function userOfPartition(pk: string | undefined): UserKey | undefined {
  if (pk === undefined) return undefined;
  const at = pk.indexOf('#');
  if (at <= 0 || at === pk.length - 1 || pk.indexOf('#', at + 1) !== -1) return undefined;
  return { tenantId: pk.slice(0, at), userId: pk.slice(at + 1) };
}

function position(sequence: bigint, shardId: string): string {
  return `${rawSequence(sequence).padStart(SEQUENCE_DIGITS, '0')}.${shardTag(shardId)}`;
}

/** The sequence number and shard tag of a position; ValidationError when it is not one. */
export function parsePosition(after: string): { sequence: bigint; tag: string } {
  const match = typeof after === 'string' ? POSITION_PATTERN.exec(after) : null;
  if (match === null) {
    throw new ValidationError([{ path: 'after', message: 'must be a position this feed returned' }]);
  }
  return { sequence: BigInt(match[1]!), tag: match[2]! };
}

/** A sequence number as DynamoDB writes it: DynamoDB Local's have 21 digits, AWS's at least that. */
export function rawSequence(sequence: bigint): string {
  return sequence.toString().padStart(21, '0');
}

function shardTag(shardId: string): string {
  return createHash('sha256').update(shardId).digest('hex').slice(0, 12);
}

/**
 * Where reading starts: the position's own shard after its sequence (`exact`), or, when that
 * shard is no longer listed (trimmed) or unknown, the first shard that may hold a later record,
 * read from its start with the covered records skipped.
 */
export function startingPoint(
  shards: readonly Shard[],
  from: { sequence: bigint; tag: string } | undefined,
): { index: number; afterSequence: bigint | undefined; exact: boolean } {
  if (from === undefined) return { index: 0, afterSequence: undefined, exact: false };
  const own = shards.findIndex((s) => shardTag(s.ShardId ?? '') === from.tag);
  if (own !== -1) return { index: own, afterSequence: from.sequence, exact: true };
  const later = shards.findIndex((s) => {
    const end = s.SequenceNumberRange?.EndingSequenceNumber;
    return end === undefined || BigInt(end) > from.sequence;
  });
  return { index: later === -1 ? shards.length : later, afterSequence: from.sequence, exact: false };
}

/** Parents before children; among shards ready at once, the lower starting sequence first. */
export function lineageOrder(shards: readonly Shard[]): Shard[] {
  const ids = new Set(shards.map((s) => s.ShardId));
  const done = new Set<string | undefined>();
  const pending = [...shards].sort((a, b) => compareBig(startOf(a), startOf(b)));
  const ordered: Shard[] = [];
  while (pending.length > 0) {
    const ready = pending.findIndex(
      (s) => s.ParentShardId === undefined || !ids.has(s.ParentShardId) || done.has(s.ParentShardId),
    );
    // A cycle cannot happen on a real stream; take the lowest start rather than loop forever.
    const [next] = pending.splice(ready === -1 ? 0 : ready, 1);
    ordered.push(next!);
    done.add(next!.ShardId);
  }
  return ordered;
}

function startOf(shard: Shard): bigint {
  const start = shard.SequenceNumberRange?.StartingSequenceNumber;
  return start === undefined ? 0n : BigInt(start);
}

function compareBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The Preferences of an item's or image's `doc`. */
export function parseDoc(doc: string): Preferences {
  return JSON.parse(doc) as Preferences;
}

import type { SQSRecord } from 'aws-lambda';
import { MAX_DIGEST_WINDOW_MS, MIN_DIGEST_WINDOW_MS } from '../domain/digest.ts';
import { isValidId } from '../domain/event.ts';
import { isUlid } from '../domain/ids.ts';
import { CATEGORIES, type Category, type Channel, type DeliveryJob } from '../domain/types.ts';
import { MAX_JOBS_PER_MESSAGE } from '../ports/delivery-queue.ts';

/**
 * Reads a delivery job from an SQS record. Anything that is not a well-formed job of this
 * channel is poison: `undefined`, and the caller lets the queue dead-letter it. A `tenant_id`
 * message attribute that disagrees with the body is poison too: a job never crosses tenants.
 */
export function parseJob(record: SQSRecord, channel: Channel): DeliveryJob | undefined {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    return undefined;
  }
  return checkJob(body, record, channel);
}

/** One job of a message: its own id (the message's, or the message's with `/index` for a packed one). */
export interface JobPart {
  readonly id: string;
  readonly job: DeliveryJob | undefined;
}

/**
 * The jobs of one SQS record. A message carries one job (a JSON object) or, packed by a queue
 * adapter to spend one SQS request on several jobs, a JSON array of 2 to
 * {@link MAX_JOBS_PER_MESSAGE} of them. Each element is checked as a job of its own: a poison
 * element is `undefined` beside well-formed siblings. A part's id is the message id for a single
 * job, `messageId/index` in a packed one: the dead-letter audit keys on it, so each job of a
 * packed message is audited once.
 */
export function parseJobs(record: SQSRecord, channel: Channel): JobPart[] {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    return [{ id: record.messageId, job: undefined }];
  }
  if (!Array.isArray(body) || body.length < 2 || body.length > MAX_JOBS_PER_MESSAGE) {
    return [{ id: record.messageId, job: checkJob(body, record, channel) }];
  }
  return body.map((element, i) => ({
    id: `${record.messageId}/${i}`,
    job: checkJob(element, record, channel),
  }));
}

/**
 * How many jobs these records carry (a packed message counts its jobs), for meters that report
 * work per job whatever the packing. Cheaper than parsing them: only array bodies are read.
 */
export function jobsIn(records: readonly Pick<SQSRecord, 'body'>[]): number {
  let n = 0;
  for (const record of records) {
    if (!record.body.startsWith('[')) {
      n++;
      continue;
    }
    try {
      const body: unknown = JSON.parse(record.body);
      n += Array.isArray(body) && body.length >= 2 && body.length <= MAX_JOBS_PER_MESSAGE ? body.length : 1;
    } catch {
      n++;
    }
  }
  return n;
}

function checkJob(body: unknown, record: SQSRecord, channel: Channel): DeliveryJob | undefined {
  if (!isRecord(body)) return undefined;
  const j = body;
  if (!isValidId(j.tenantId) || !isValidId(j.userId) || !isValidId(j.actorId)) return undefined;
  if (typeof j.notificationId !== 'string' || !isUlid(j.notificationId)) return undefined;
  if (j.channel !== channel) return undefined;
  if (!isValidId(j.eventId) || !isNonEmptyString(j.type)) return undefined;
  if (!CATEGORIES.includes(j.category as Category)) return undefined;
  if (!isTime(j.createdAt)) return undefined;
  if (j.notBefore !== undefined && !isTime(j.notBefore)) return undefined;
  if (j.providerDeferrals !== undefined && !isCount(j.providerDeferrals)) return undefined;
  if (j.objectId !== undefined && typeof j.objectId !== 'string') return undefined;
  if (j.data !== undefined && !isRecord(j.data)) return undefined;
  if (!isDigestValid(j)) return undefined;
  if (!isWithdrawalValid(j)) return undefined;
  const tenantAttribute = record.messageAttributes?.tenant_id?.stringValue;
  if (tenantAttribute !== undefined && tenantAttribute !== j.tenantId) return undefined;
  return body as unknown as DeliveryJob;
}

/** How many times the queue has delivered this record (1 on the first receive). */
export function receiveCount(record: SQSRecord): number {
  const n = Number(record.attributes?.ApproximateReceiveCount);
  return Number.isInteger(n) && n > 0 ? n : 1;
}

/** A job's digest fields: a group key and its window come together; a flush names its window. */
function isDigestValid(j: Record<string, unknown>): boolean {
  if (j.groupKey === undefined) return j.digestWindowMs === undefined && j.digestFlush === undefined;
  if (!isNonEmptyString(j.groupKey) || j.groupKey.length > 1024) return false;
  const w = j.digestWindowMs;
  if (typeof w !== 'number' || !Number.isInteger(w) || w < MIN_DIGEST_WINDOW_MS || w > MAX_DIGEST_WINDOW_MS)
    return false;
  return (
    j.digestFlush === undefined || (Number.isSafeInteger(j.digestFlush) && (j.digestFlush as number) >= 0)
  );
}

/** A withdrawal is `withdraw: true` on a push job of its own: never a digest's. */
function isWithdrawalValid(j: Record<string, unknown>): boolean {
  if (j.withdraw === undefined) return true;
  return (
    j.withdraw === true && j.channel === 'push' && j.groupKey === undefined && j.digestFlush === undefined
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 1000;
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

import { ValidationError } from '../../domain/errors.ts';
import { CAP_LIMITS } from '../../domain/frequency-cap.ts';
import type { CapRequest } from '../../ports/frequency-caps.ts';
import { requireArray, requireInteger, requireText, requireUser } from './input.ts';

/**
 * Argument checks of the FrequencyCaps port, shared by its adapters (SQLite, Redis, DynamoDB) so
 * all of them refuse the same input with the same path and message.
 */

/** Longest slot id: a delivery key (tenant, notification, channel) fits with room to spare. */
const MAX_SLOT_ID = 256;
/** Longest bucket name: `push:` and a category. */
const MAX_BUCKET_NAME = 64;

/** Throws a ValidationError unless every request names a user, a slot and 1..4 valid windows. */
export function checkCapRequests(requests: readonly CapRequest[]): void {
  requireArray(requests, 'requests');
  requests.forEach((request, i) => {
    const path = `requests[${i}]`;
    requireUser(request, path);
    requireText(request.slotId, `${path}.slotId`);
    if (request.slotId.length > MAX_SLOT_ID) {
      throw new ValidationError([
        { path: `${path}.slotId`, message: `must be at most ${MAX_SLOT_ID} chars` },
      ]);
    }
    requireArray(request.buckets, `${path}.buckets`);
    if (request.buckets.length === 0 || request.buckets.length > 4) {
      throw new ValidationError([{ path: `${path}.buckets`, message: 'must hold 1 to 4 windows' }]);
    }
    const names = new Set<string>();
    request.buckets.forEach((bucket, j) => {
      const at = `${path}.buckets[${j}]`;
      requireText(bucket?.name, `${at}.name`);
      if (bucket.name.length > MAX_BUCKET_NAME || names.has(bucket.name)) {
        throw new ValidationError([
          { path: `${at}.name`, message: 'must be a unique name of at most 64 chars' },
        ]);
      }
      names.add(bucket.name);
      requireInteger(bucket.limit, `${at}.limit`, 1, CAP_LIMITS.maxLimit);
      requireInteger(bucket.windowMs, `${at}.windowMs`, 1, CAP_LIMITS.maxWindowSeconds * 1000);
    });
  });
}

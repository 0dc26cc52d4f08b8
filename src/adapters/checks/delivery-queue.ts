import { ValidationError } from '../../domain/errors.ts';
import type { Channel, DeliveryJob } from '../../domain/types.ts';
import { requireText } from './input.ts';

/**
 * Argument checks of the DeliveryQueue port, shared by its embedded and AWS adapters so both
 * refuse a bad job with the same path and message.
 */

/** Throws a ValidationError unless job `i` names a user and a notification on `channel`. */
export function checkJob(job: DeliveryJob | undefined, i: number, channel: Channel): void {
  if (typeof job !== 'object' || job === null) {
    throw new ValidationError([{ path: `jobs[${i}]`, message: 'must be a delivery job' }]);
  }
  requireText(job.tenantId, `jobs[${i}].tenantId`);
  requireText(job.userId, `jobs[${i}].userId`);
  requireText(job.notificationId, `jobs[${i}].notificationId`);
  if (job.channel !== channel) {
    throw new ValidationError([{ path: `jobs[${i}].channel`, message: `must be '${channel}'` }]);
  }
}

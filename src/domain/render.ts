import type { DeliveryJob } from './types.ts';

/**
 * Default text of a notification. Per-locale templates arrive with the real transports; until
 * then one English rendering keeps push and email content in one place.
 */
export function renderPush(job: DeliveryJob): { title: string; body: string } {
  throw new Error(`not implemented ${job}`);
}

export function renderEmail(job: DeliveryJob): { subject: string; text: string; html: string } {
  throw new Error(`not implemented ${job}`);
}

import { ValidationError } from '../../domain/errors.ts';
import type { InboxStatus } from '../../ports/inbox.ts';

/** A page's tab, checked (`all` when absent): adapters are called from more than the HTTP routes. */
export function requireStatus(status: unknown): InboxStatus {
  if (status === undefined) return 'all';
  if (status === 'all' || status === 'unread' || status === 'archived') return status;
  throw new ValidationError([{ path: 'status', message: 'must be all, unread or archived' }]);
}

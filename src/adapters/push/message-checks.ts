import { ValidationError } from '../../domain/errors.ts';
import type { PushMessage } from '../../ports/transports.ts';

const FIELDS = ['tenantId', 'title', 'body', 'collapseId', 'messageId'] as const;
const WITHDRAWAL_FIELDS = ['tenantId', 'collapseId', 'messageId'] as const;

/**
 * The fields every push must have, whatever its provider: a message missing one is a bug upstream,
 * not a provider's answer, so it is thrown before anything is sent.
 */
export function checkPushMessage(m: PushMessage): void {
  // A withdrawal shows nothing: it has no text.
  const keys = m?.withdraw === true ? WITHDRAWAL_FIELDS : FIELDS;
  for (const key of keys) {
    if (typeof m?.[key] !== 'string' || m[key] === '') {
      throw new ValidationError([{ path: `message.${key}`, message: 'must be a non-empty string' }]);
    }
  }
}

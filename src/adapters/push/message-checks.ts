import { ValidationError } from '../../domain/errors.ts';
import type { PushMessage } from '../../ports/transports.ts';

/**
 * The fields every push must have, whatever its provider: a message missing one is a bug upstream,
 * not a provider's answer, so it is thrown before anything is sent.
 */
export function checkPushMessage(m: PushMessage): void {
  for (const key of ['tenantId', 'title', 'body', 'collapseId', 'messageId'] as const) {
    if (typeof m?.[key] !== 'string' || m[key] === '') {
      throw new ValidationError([{ path: `message.${key}`, message: 'must be a non-empty string' }]);
    }
  }
}

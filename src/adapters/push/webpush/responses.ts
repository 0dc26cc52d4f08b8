import type { PushResult } from '../../../ports/transports.ts';
import { parseRetryAfter } from '../backoff.ts';

/** What one push service answer means for the send. */
export type WebPushAnswer =
  /** Accepted, or refused for good: the send is over. */
  | { readonly kind: 'final'; readonly result: PushResult }
  /** Throttled or failing for now: back off and try again. */
  | {
      readonly kind: 'transient';
      readonly status: number;
      readonly retryAfterMs?: number;
    };

/**
 * Reads a push service's answer (RFC 8030 §5, §6; RFC 8292 §4). Reasons are stable words, never
 * the endpoint or the service's body.
 *
 * - 201 Created (and any 2xx) → sent.
 * - 404 Not Found / 410 Gone → the subscription expired or was unsubscribed: device removed.
 * - 413 → our payload is too large: refused for good, device kept.
 * - 400 / 401 / 403 → the request or our VAPID signature was refused (a wrong key, a bad subject):
 *   refused for good, device kept, so fixing the keys brings its pushes back.
 * - 429 / 5xx → throttled or failing: retried, honouring Retry-After.
 */
export function classifyWebPushResponse(
  status: number,
  retryAfter: string | undefined,
  now: number,
): WebPushAnswer {
  // `Location` names the message at the push service, under a URL that can carry the
  // subscription's own id: it is not kept, as the endpoint is not.
  if (status >= 200 && status < 300) return { kind: 'final', result: { status: 'sent' } };
  if (status === 404 || status === 410) return rejected(status === 410 ? 'gone' : 'not_found', true);
  if (status === 413) return rejected('payload_too_large', false);
  if (status === 401 || status === 403) return rejected('vapid_rejected', false);
  if (status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(retryAfter, now);
    return { kind: 'transient', status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  }
  return rejected(status === 400 ? 'bad_request' : `http_${status}`, false);
}

function rejected(reason: string, deactivateDevice: boolean): WebPushAnswer {
  return { kind: 'final', result: { status: 'rejected', reason, deactivateDevice } };
}

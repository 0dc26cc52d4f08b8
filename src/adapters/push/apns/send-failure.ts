import { TransportRetryableError } from '../../../domain/errors.ts';
import { Http2RequestError } from '../http2-pool.ts';

/**
 * A request that got no answer, as the pipeline's retryable error. Ambiguous unless the pool
 * knows the request never left (connect failure, refused stream, still queued): a timeout or a
 * connection lost after the request was written may have delivered the notification. An error
 * that is not the pool's is taken as ambiguous too, the safe side (the re-send carries the same
 * apns-collapse-id, so the device shows one copy).
 */
export function sendFailure(err: unknown): TransportRetryableError {
  if (err instanceof TransportRetryableError) return err;
  if (err instanceof Http2RequestError) {
    const what = err.sent ? 'may have reached APNs' : 'did not reach APNs';
    return new TransportRetryableError(`APNs request ${what} (${err.code})`, {
      ambiguous: err.sent,
      cause: err,
    });
  }
  return new TransportRetryableError('APNs request failed', { ambiguous: true, cause: err });
}

/**
 * What may be logged or reported about an error: its class and, when it has one, its code
 * (`StoreUnavailableError:STORE_UNAVAILABLE`, `Error:ECONNREFUSED`). Never its message: messages
 * may quote payloads, tokens, addresses or credentials.
 *
 * For the name an AWS SDK error carries, to decide on it, see `awsErrorName` in
 * `adapters/aws/errors.ts`: that one matches exception names, this one only describes.
 */
export function errorName(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${err.name}:${code}` : err.name;
  }
  return typeof err;
}

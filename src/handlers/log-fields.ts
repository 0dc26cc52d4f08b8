/**
 * What a handler may log about an error: its class and code. Messages may quote payloads,
 * tokens or addresses, so they never reach the log.
 */
export function errorName(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${err.name}:${code}` : err.name;
  }
  return typeof err;
}

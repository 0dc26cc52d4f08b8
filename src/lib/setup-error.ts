/**
 * A problem with the machine, not with Fanout or its input: a tool missing, a service not
 * running, a port taken, a directory absent. The CLI prints `message` (the cause, one line) and
 * `todo` (what to do about it) instead of a stack. Both are written by us, so they may name the
 * local port or directory involved; they never quote a secret.
 */
export class SetupError extends Error {
  /** What the user can do about it, one line. */
  readonly todo: string;
  constructor(message: string, todo: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SetupError';
    this.todo = todo;
  }
}

/** The `code` of a Node system error (`ENOENT`, `EADDRINUSE`, …), if it is one. */
export function systemErrorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A listen that failed because the port is taken. */
export function portInUse(
  port: number,
  host: string,
  what: string,
  todo: string,
  cause: unknown,
): SetupError {
  return new SetupError(`port ${port} on ${host} (${what}) is in use by another process`, todo, { cause });
}

/**
 * An error with the step of the command it happened in ("opening the data file", "listening on
 * 127.0.0.1:8080"), so a failure report can say where it failed without a stack.
 */
export class StepError extends Error {
  readonly step: string;
  constructor(step: string, cause: unknown) {
    super(`${step} failed`, { cause });
    this.name = 'StepError';
    this.step = step;
  }
}

/**
 * Runs one step of a command. A failure comes out as a StepError naming it, unless it already
 * names a step (the innermost step is the most precise) or is a signal's abort.
 */
export async function step<T>(name: string, run: () => Promise<T> | T): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof StepError) throw err;
    if (err instanceof Error && err.name === 'AbortError') throw err;
    throw new StepError(name, err);
  }
}

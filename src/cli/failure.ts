import { FanoutError } from '../domain/errors.ts';
import { errorName } from '../lib/error-name.ts';
import { SetupError } from '../lib/setup-error.ts';
import type { Colours } from './colour.ts';
import { redact, redactLine } from './redact.ts';
import { StepError } from './step.ts';

/**
 * What `fanout <command>` prints when it fails: the cause in one line, the step it failed in, and
 * what to do. Ours (SetupError, FanoutError) are printed as written; the message of any other
 * error goes through `redactLine`, as does the stack printed at `--log-level debug`, so neither
 * carries a token, a key, a credential or an address.
 */
export function describeFailure(command: string, err: unknown, debug: boolean, c?: Colours): string {
  const step = err instanceof StepError ? err.step : undefined;
  const cause = err instanceof StepError ? err.cause : err;
  const where = step === undefined ? '' : ` while ${step}`;
  const red = c?.red ?? String;
  const yellow = c?.yellow ?? String;
  const lines = [`${red(`fanout: ${command} failed${where}:`)} ${causeLine(cause)}`];
  if (cause instanceof SetupError) lines.push(`  ${yellow('what to do:')} ${cause.todo}`);
  else if (debug) lines.push(...stackLines(cause));
  else lines.push(`  ${yellow('run it again with --log-level debug for the stack')}`);
  return `${lines.join('\n')}\n`;
}

function causeLine(err: unknown): string {
  if (err instanceof SetupError) return err.message;
  if (err instanceof FanoutError) return `${err.name} (${err.code}): ${redactLine(err.message)}`;
  if (err instanceof Error) {
    const message = redactLine(err.message);
    const name = errorName(err);
    if (message === '') return name;
    return name === 'Error' ? message : `${message} (${name})`;
  }
  return typeof err;
}

/** The stack and the chain of causes, redacted. */
function stackLines(err: unknown): string[] {
  const lines: string[] = [];
  let current: unknown = err;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    const stack = current.stack ?? `${current.name}: ${current.message}`;
    lines.push(
      ...redact(depth === 0 ? stack : `caused by: ${stack}`)
        .split('\n')
        .map((l) => `  ${l}`),
    );
    current = current.cause;
  }
  return lines;
}

/** Whether the command line or the environment asks for debug logs. */
export function wantsDebug(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  const i = args.indexOf('--log-level');
  if (i >= 0) return args[i + 1] === 'debug';
  if (args.includes('--log-level=debug')) return true;
  return env.FANOUT_LOG_LEVEL === 'debug';
}

import { type ParseArgsConfig, parseArgs } from 'node:util';
import { SettingsError } from '../lib/settings.ts';
import { type RuntimeConfig, readRuntimeConfig } from '../runtime/config.ts';
import { UsageError } from './usage.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** What every command gets from `main`. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Draw progress bars (stderr is a terminal). */
  readonly stderrIsTTY: boolean;
  /** Aborted by SIGINT or SIGTERM; `reason` names the signal. */
  readonly signal: AbortSignal;
}

/** Flags that override one environment variable each (see docs/configuration.md). */
export const CONFIG_FLAGS: Readonly<Record<string, string>> = {
  'data-dir': 'FANOUT_DATA_DIR',
  shards: 'FANOUT_SHARDS',
  'celebrity-threshold': 'FANOUT_CELEBRITY_THRESHOLD',
  'tier-hysteresis': 'FANOUT_TIER_HYSTERESIS',
  dedup: 'FANOUT_DEDUP',
  'push-rate': 'FANOUT_PUSH_RATE',
  'email-rate': 'FANOUT_EMAIL_RATE',
  'delivery-batch': 'FANOUT_DELIVERY_BATCH',
  'delivery-concurrency': 'FANOUT_DELIVERY_CONCURRENCY',
  'log-level': 'FANOUT_LOG_LEVEL',
  profile: 'FANOUT_PROFILE',
  'unread-mode': 'FANOUT_UNREAD_MODE',
};

/** parseArgs options for the given config flags, plus --help. */
export function configOptions(flags: readonly string[]): Options {
  const options: Options = { help: { type: 'boolean', short: 'h' } };
  for (const flag of flags) options[flag] = { type: 'string' };
  return options;
}

/** Parses argv strictly; unknown flags and bad values are usage errors (exit 2). */
export function parse(args: readonly string[], options: Options, allowPositionals = false) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** The runtime config from the environment, with any config flag given overriding its variable. */
export function configFrom(values: Readonly<Record<string, unknown>>, env: CliIo['env']): RuntimeConfig {
  const merged: Record<string, string | undefined> = { ...env };
  for (const [flag, name] of Object.entries(CONFIG_FLAGS)) {
    const value = values[flag];
    if (typeof value === 'string') merged[name] = value;
  }
  try {
    return readRuntimeConfig(merged);
  } catch (err) {
    if (err instanceof SettingsError) throw new UsageError(`invalid configuration: ${settingsProblems(err)}`);
    throw err;
  }
}

/** A SettingsError as the CLI words it: `VARIABLE: problem; …`. */
export function settingsProblems(err: SettingsError): string {
  return err.issues.map((i) => `${i.variable}: ${i.message}`).join('; ');
}

/** A channel positional: push or email. */
export function channelArg(value: string | undefined, command: string): 'push' | 'email' {
  if (value === 'push' || value === 'email') return value;
  throw new UsageError(
    `${command}: expected a channel, push or email${value === undefined ? '' : `, not '${value}'`}`,
  );
}

/** A whole number flag within [min, max]. */
export function intFlag(value: unknown, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be an integer from ${min} to ${max}`);
  }
  return n;
}

/** Exit code of a run stopped by a signal: 128 + its number, as shells report it. */
export function signalExitCode(signal: AbortSignal): number {
  return signal.reason === 'SIGTERM' ? 143 : 130;
}

/**
 * The one way Fanout reads its environment (in the spirit of Powertools'
 * EnvironmentVariablesService): an entry point describes its variables as a table of rules, and
 * `readSettings` reads them all, in order, and throws one SettingsError that names every bad
 * variable at once. Only entry points call it (the CLI's `readRuntimeConfig`, the Lambda
 * functions' `readLambdaEnv` and `readAuthorizerEnv`); adapters receive what it read.
 *
 * One reading rule everywhere: a value is trimmed, and an empty value is the same as an unset one.
 * A setting that reads as undefined is left out of the result rather than set to `undefined`, so
 * the result fits interfaces whose optional properties are `x?: T`.
 */

/** The process environment, or any record like it. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** One problem with one variable. */
export interface SettingIssue {
  readonly variable: string;
  readonly message: string;
}

/** The environment is incomplete or has bad values; `issues` names each variable, in reading order. */
export class SettingsError extends Error {
  readonly issues: readonly SettingIssue[];
  constructor(issues: readonly SettingIssue[], subject = 'the environment') {
    super(`${subject} is incomplete: ${issues.map((i) => `${i.variable} ${i.message}`).join('; ')}`);
    this.name = 'SettingsError';
    this.issues = issues;
  }
}

/** What a rule sees: the variables' text and where to report a problem. */
export interface SettingsReader {
  /** The variable's value, trimmed; undefined when unset or empty. */
  text(variable: string): string | undefined;
  /** Records a problem; reading goes on, so every problem is reported together. */
  report(variable: string, message: string): void;
}

/** A rule: reads one setting (from one variable, or a few that belong together). */
export type Setting<T> = (reader: SettingsReader) => T;

/** A table of rules, by the name of the setting each one fills. */
export type SettingsSpec = Readonly<Record<string, Setting<unknown>>>;

type ValueOf<R> = R extends Setting<infer T> ? T : never;
/** What a table reads: a setting that may read as undefined is an optional property. */
export type Settings<S extends SettingsSpec> = {
  readonly [K in keyof S as undefined extends ValueOf<S[K]> ? never : K]: ValueOf<S[K]>;
} & {
  readonly [K in keyof S as undefined extends ValueOf<S[K]> ? K : never]?: Exclude<ValueOf<S[K]>, undefined>;
};

/**
 * Reads every setting of `spec` from `env`. Throws a SettingsError naming every bad variable;
 * `subject` opens its message ("the fanout function's environment is incomplete: …").
 */
export function readSettings<S extends SettingsSpec>(
  env: Environment,
  spec: S,
  subject?: string,
): Settings<S> {
  const issues: SettingIssue[] = [];
  const reader: SettingsReader = {
    text(variable) {
      const value = env[variable]?.trim();
      return value === undefined || value === '' ? undefined : value;
    },
    report(variable, message) {
      issues.push({ variable, message });
    },
  };
  const settings = group(spec)(reader);
  if (issues.length > 0) throw new SettingsError(issues, subject);
  return settings;
}

/** A nested table: its settings as one object (undefined ones left out). */
export function group<S extends SettingsSpec>(spec: S): Setting<Settings<S>> {
  return (reader) => {
    const out: Record<string, unknown> = {};
    for (const [name, setting] of Object.entries(spec)) {
      const value = setting(reader);
      if (value !== undefined) out[name] = value;
    }
    return out as Settings<S>;
  };
}

/** Options every rule of one variable takes. */
interface Presence {
  /** Report 'is not set' when the variable is missing. @default false */
  readonly required?: boolean;
  /** Report 'must be set with <variable>' when this one is missing and that one is set. */
  readonly requiredWith?: string;
}

/** The variable's text; a required one missing is reported. */
function present(reader: SettingsReader, variable: string, opts: Presence): string | undefined {
  const value = reader.text(variable);
  if (value === undefined && opts.required === true) reader.report(variable, 'is not set');
  else if (
    value === undefined &&
    opts.requiredWith !== undefined &&
    reader.text(opts.requiredWith) !== undefined
  ) {
    reader.report(variable, `must be set with ${opts.requiredWith}`);
  }
  return value;
}

/** Free text. */
export function text(variable: string, opts?: Presence): Setting<string | undefined>;
export function text(variable: string, opts: Presence & { readonly default: string }): Setting<string>;
export function text(
  variable: string,
  opts: Presence & { readonly default?: string } = {},
): Setting<string | undefined> {
  return (reader) => present(reader, variable, opts) ?? opts.default;
}

/** Text that must be set: reported as 'is not set' otherwise (and read as ''). */
export function required(variable: string): Setting<string> {
  return (reader) => present(reader, variable, { required: true }) ?? '';
}

/** A whole number in [min, max]; anything else is reported and reads as the default. */
export function integer(
  variable: string,
  opts: { readonly default: number; readonly min: number; readonly max: number },
): Setting<number>;
export function integer(
  variable: string,
  opts: { readonly min: number; readonly max: number },
): Setting<number | undefined>;
export function integer(
  variable: string,
  opts: { readonly default?: number; readonly min: number; readonly max: number },
): Setting<number | undefined> {
  return (reader) => {
    const raw = reader.text(variable);
    if (raw === undefined) return opts.default;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < opts.min || n > opts.max) {
      reader.report(variable, `must be an integer from ${opts.min} to ${opts.max}`);
      return opts.default;
    }
    return n;
  };
}

/** A number in [min, below); anything else is reported and reads as the default. */
export function fraction(
  variable: string,
  opts: { readonly default: number; readonly min: number; readonly below: number },
): Setting<number> {
  return (reader) => {
    const raw = reader.text(variable);
    if (raw === undefined) return opts.default;
    const n = Number(raw);
    if (!(n >= opts.min && n < opts.below)) {
      reader.report(variable, `must be a number in [${opts.min}, ${opts.below})`);
      return opts.default;
    }
    return n;
  };
}

/** One of `values`; anything else is reported and reads as the default. */
export function oneOf<const V extends string>(
  variable: string,
  values: readonly V[],
  opts: { readonly default: NoInfer<V> },
): Setting<V> {
  return (reader) => {
    const raw = reader.text(variable);
    if (raw === undefined) return opts.default;
    if ((values as readonly string[]).includes(raw)) return raw as V;
    reader.report(variable, `must be ${choices(values)}`);
    return opts.default;
  };
}

/** `'a' or 'b'`, `'a', 'b' or 'c'`, and past three `one of a, b, c, d`. */
function choices(values: readonly string[]): string {
  if (values.length > 3) return `one of ${values.join(', ')}`;
  const quoted = values.map((v) => `'${v}'`);
  return quoted.length === 1 ? quoted[0]! : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)}`;
}

/** true / false (also 1 / 0, in any case). @default false */
export function flag(variable: string): Setting<boolean> {
  return (reader) => {
    const raw = reader.text(variable)?.toLowerCase();
    if (raw === undefined || raw === 'false' || raw === '0') return false;
    if (raw === 'true' || raw === '1') return true;
    reader.report(variable, "must be 'true' or 'false'");
    return false;
  };
}

/**
 * A URL with one of `protocols` (`['https:', 'http:']`); `message` replaces the default wording.
 * A required one reads as '' when missing (and is reported).
 */
export function url(
  variable: string,
  protocols: readonly string[],
  opts: Presence & { readonly required: true; readonly message?: string },
): Setting<string>;
export function url(
  variable: string,
  protocols: readonly string[],
  opts?: Presence & { readonly message?: string },
): Setting<string | undefined>;
export function url(
  variable: string,
  protocols: readonly string[],
  opts: Presence & { readonly message?: string } = {},
): Setting<string | undefined> {
  return (reader) => {
    const value = present(reader, variable, opts);
    if (value === undefined) return opts.required === true ? '' : undefined;
    if (!protocols.includes(protocolOf(value) ?? '')) {
      reader.report(variable, opts.message ?? `must be a ${protocols.join(' or ')} URL`);
    }
    return value;
  };
}

function protocolOf(value: string): string | undefined {
  try {
    return new URL(value).protocol;
  } catch {
    return undefined;
  }
}

/** Text that matches `shape`; `message` says what it must be. */
export function pattern(
  variable: string,
  shape: RegExp,
  message: string,
  opts: Presence = {},
): Setting<string | undefined> {
  return (reader) => {
    const value = present(reader, variable, opts);
    if (value !== undefined && !shape.test(value)) reader.report(variable, message);
    return value;
  };
}

/** An HMAC key: at least `minBytes` bytes of UTF-8, or it is guessable offline. */
export function secret(
  variable: string,
  opts: Presence & { readonly required: true; readonly minBytes: number },
): Setting<string>;
export function secret(
  variable: string,
  opts: Presence & { readonly minBytes: number },
): Setting<string | undefined>;
export function secret(
  variable: string,
  opts: Presence & { readonly minBytes: number },
): Setting<string | undefined> {
  return (reader) => {
    const value = present(reader, variable, opts);
    if (value !== undefined && Buffer.byteLength(value, 'utf8') < opts.minBytes) {
      reader.report(variable, `must be at least ${opts.minBytes} bytes`);
    }
    return value ?? (opts.required === true ? '' : undefined);
  };
}

/**
 * Variables that only mean something together: all of `names` set, or none. A partial set (or one
 * of `implies`, which only qualify the set) reports each missing name, saying it "must be set
 * with the other `<label>` variables". Reads as the values by name, or undefined when none is set.
 */
export function allOrNone<const N extends string>(
  names: readonly N[],
  opts: { readonly label: string; readonly implies?: readonly string[] },
): Setting<Readonly<Record<N, string>> | undefined> {
  return (reader) => {
    const values = names.map((name) => [name, reader.text(name)] as const);
    const missing = values.filter(([, value]) => value === undefined).map(([name]) => name);
    if (missing.length === 0) return Object.fromEntries(values) as Record<N, string>;
    const started =
      missing.length < names.length || (opts.implies ?? []).some((n) => reader.text(n) !== undefined);
    for (const name of started ? missing : []) {
      reader.report(name, `must be set with the other ${opts.label} variables`);
    }
    return undefined;
  };
}

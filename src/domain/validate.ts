import { type FieldIssue, ValidationError } from './errors.ts';

/**
 * Small helpers shared by the validators of untrusted input (events, preferences, audit lines):
 * collect every issue, then throw one ValidationError.
 */
export class Issues {
  readonly list: FieldIssue[] = [];

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  /** Adds a last issue and throws: for input too broken to look further into. */
  fail(path: string, message: string): never {
    this.add(path, message);
    throw new ValidationError(this.list);
  }

  /** Throws ValidationError when any issue was added. */
  throwIfAny(): void {
    if (this.list.length > 0) throw new ValidationError(this.list);
  }
}

/** A JSON-style object: not null, not an array, no class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Reports every own key of `obj` not in `allowed` as an unknown field under `prefix`. */
export function rejectUnknownKeys(
  issues: Issues,
  obj: Record<string, unknown>,
  allowed: ReadonlySet<string>,
  prefix = '',
): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.has(key)) issues.add(joinPath(prefix, key), 'unknown field');
  }
}

/** `a.b` for a path under a prefix, `b` at the top. */
export function joinPath(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}

const MAX_JSON_DEPTH = 32;

/**
 * True when `value` is made only of what JSON can carry (plain objects, arrays, strings, finite
 * numbers, booleans, null), nested at most 32 deep: it survives a JSON round trip unchanged.
 */
export function isJsonValue(value: unknown, depth = 0): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (depth >= MAX_JSON_DEPTH) return false;
  if (Array.isArray(value)) return value.every((v) => isJsonValue(v, depth + 1));
  if (isPlainObject(value)) return Object.values(value).every((v) => isJsonValue(v, depth + 1));
  return false;
}

const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Epoch ms of an ISO-8601 / RFC 3339 date-time with an explicit offset, or undefined. Stricter
 * than Date.parse, which accepts 30 February and times without a zone.
 */
export function parseIsoDateTime(value: string): number | undefined {
  const m = ISO_8601.exec(value);
  if (m === null) return undefined;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) return undefined;
  let offsetMin = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, ms);
  return utc.getTime() - offsetMin * 60_000;
}

import {
  CATEGORIES,
  Category as Categories,
  type Category,
  type Preferences,
  type TenantId,
} from './types.ts';
import { Issues, isPlainObject, joinPath, rejectUnknownKeys } from './validate.ts';

/**
 * Frequency caps: at most `limit` pushes to one user in any rolling `windowSeconds`, over every
 * push (`push`) and per category (`categories`). A tenant sets defaults; a user's preferences
 * override them rule by rule. `critical` is never capped.
 */

/** At most `limit` pushes in any rolling window of `windowSeconds`. */
export interface CapRule {
  readonly limit: number;
  readonly windowSeconds: number;
}

/** The caps of one tenant or one user. An absent rule means "not capped" (or "the default"). */
export interface FrequencyCapPolicy {
  /** Over every push of the user, whatever its category. */
  readonly push?: CapRule;
  /** Per category; `critical` is refused, it always goes out. */
  readonly categories?: Readonly<Partial<Record<Category, CapRule>>>;
}

/** The tenants' defaults: one for every tenant, and per tenant rules that replace it rule by rule. */
export interface CapDefaults {
  readonly default?: FrequencyCapPolicy;
  readonly tenants?: Readonly<Record<TenantId, FrequencyCapPolicy>>;
}

/** One rolling window a push must fit in: what the FrequencyCaps port counts. */
export interface CapBucket {
  /** `push`, or `push:<category>`: unique per user. */
  readonly name: string;
  readonly limit: number;
  readonly windowMs: number;
}

/** Bounds of a rule: a window up to 7 days (what a store keeps), up to 1,000 pushes per window. */
export const CAP_LIMITS = {
  maxLimit: 1_000,
  minWindowSeconds: 1,
  maxWindowSeconds: 7 * 24 * 60 * 60,
} as const;

/** The audit reason of a push held back by a cap. */
export const FREQUENCY_CAP_REASON = 'frequency_cap';

/** No caps at all: what a deployment without a defaults document runs with. */
export const NO_CAP_DEFAULTS: CapDefaults = Object.freeze({});

const NO_BUCKETS: readonly CapBucket[] = Object.freeze([]);

/**
 * The windows a push of `category` to this user must fit in: the user's rule where they set one,
 * else their tenant's, else the default. Empty for `critical`, and when nothing caps the push.
 */
export function capBuckets(
  defaults: CapDefaults,
  tenantId: TenantId,
  prefs: Pick<Preferences, 'frequencyCaps'> | undefined,
  category: Category,
): readonly CapBucket[] {
  if (category === Categories.Critical) return NO_BUCKETS;
  const user = prefs?.frequencyCaps;
  const tenant = Object.hasOwn(defaults.tenants ?? {}, tenantId) ? defaults.tenants?.[tenantId] : undefined;
  const all = defaults.default;
  const push = user?.push ?? tenant?.push ?? all?.push;
  const perCategory =
    user?.categories?.[category] ?? tenant?.categories?.[category] ?? all?.categories?.[category];
  if (push === undefined && perCategory === undefined) return NO_BUCKETS;
  const buckets: CapBucket[] = [];
  if (push !== undefined) buckets.push(bucket('push', push));
  if (perCategory !== undefined) buckets.push(bucket(`push:${category}`, perCategory));
  return buckets;
}

function bucket(name: string, rule: CapRule): CapBucket {
  return { name, limit: rule.limit, windowMs: rule.windowSeconds * 1000 };
}

const POLICY_FIELDS: ReadonlySet<string> = new Set(['push', 'categories']);
const RULE_FIELDS: ReadonlySet<string> = new Set(['limit', 'windowSeconds']);
const CAPPABLE: readonly Category[] = CATEGORIES.filter((c) => c !== Categories.Critical);
const CATEGORY_KEYS: ReadonlySet<string> = new Set(CATEGORIES);

/**
 * Checks an untrusted policy (a preferences body's `frequencyCaps`, an entry of the defaults
 * document) into a FrequencyCapPolicy, adding every problem under `path` to `issues`.
 */
export function checkCapPolicy(issues: Issues, path: string, value: unknown): FrequencyCapPolicy | undefined {
  if (!isPlainObject(value)) {
    issues.add(path, 'must be an object {push?, categories?}');
    return undefined;
  }
  rejectUnknownKeys(issues, value, POLICY_FIELDS, path);
  const push = value.push === undefined ? undefined : checkRule(issues, joinPath(path, 'push'), value.push);
  let categories: Partial<Record<Category, CapRule>> | undefined;
  if (value.categories !== undefined) {
    const at = joinPath(path, 'categories');
    if (!isPlainObject(value.categories)) {
      issues.add(at, 'must be an object of category → {limit, windowSeconds}');
    } else {
      rejectUnknownKeys(issues, value.categories, CATEGORY_KEYS, at);
      if (value.categories[Categories.Critical] !== undefined) {
        issues.add(joinPath(at, Categories.Critical), 'critical pushes are never capped');
      }
      categories = {};
      for (const category of CAPPABLE) {
        const rule = value.categories[category];
        if (rule === undefined) continue;
        const checked = checkRule(issues, joinPath(at, category), rule);
        if (checked !== undefined) categories[category] = checked;
      }
    }
  }
  return {
    ...(push === undefined ? {} : { push }),
    ...(categories === undefined ? {} : { categories }),
  };
}

function checkRule(issues: Issues, path: string, value: unknown): CapRule | undefined {
  if (!isPlainObject(value)) {
    issues.add(path, 'must be an object {limit, windowSeconds}');
    return undefined;
  }
  rejectUnknownKeys(issues, value, RULE_FIELDS, path);
  const { limit, windowSeconds } = value;
  let valid = true;
  if (!isIntegerIn(limit, 1, CAP_LIMITS.maxLimit)) {
    issues.add(joinPath(path, 'limit'), `must be an integer from 1 to ${CAP_LIMITS.maxLimit}`);
    valid = false;
  }
  if (!isIntegerIn(windowSeconds, CAP_LIMITS.minWindowSeconds, CAP_LIMITS.maxWindowSeconds)) {
    issues.add(
      joinPath(path, 'windowSeconds'),
      `must be an integer from ${CAP_LIMITS.minWindowSeconds} to ${CAP_LIMITS.maxWindowSeconds}`,
    );
    valid = false;
  }
  return valid ? { limit: limit as number, windowSeconds: windowSeconds as number } : undefined;
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

const DEFAULTS_FIELDS: ReadonlySet<string> = new Set(['default', 'tenants']);

/**
 * Parses the defaults document (`{"default": policy, "tenants": {"<tenant>": policy}}`, JSON);
 * throws one ValidationError naming every problem.
 */
export function parseCapDefaults(text: string): CapDefaults {
  const issues: Issues = new Issues();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    issues.fail('frequencyCaps', 'must be JSON');
  }
  if (!isPlainObject(value)) issues.fail('frequencyCaps', 'must be an object {default?, tenants?}');
  rejectUnknownKeys(issues, value, DEFAULTS_FIELDS, 'frequencyCaps');
  const all =
    value.default === undefined ? undefined : checkCapPolicy(issues, 'frequencyCaps.default', value.default);
  let tenants: Record<TenantId, FrequencyCapPolicy> | undefined;
  if (value.tenants !== undefined) {
    if (!isPlainObject(value.tenants)) {
      issues.add('frequencyCaps.tenants', 'must be an object of tenant id → policy');
    } else {
      tenants = {};
      for (const [tenantId, policy] of Object.entries(value.tenants)) {
        const checked = checkCapPolicy(issues, `frequencyCaps.tenants.${tenantId}`, policy);
        if (checked !== undefined) tenants[tenantId] = checked;
      }
    }
  }
  issues.throwIfAny();
  return {
    ...(all === undefined ? {} : { default: all }),
    ...(tenants === undefined ? {} : { tenants }),
  };
}

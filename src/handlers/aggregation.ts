import { type AggregationPolicy, DEFAULT_AGGREGATION, effectiveAggregation } from '../domain/grouping.ts';
import type { Clock } from '../ports/clock.ts';
import type { Tenants } from '../ports/tenants.ts';

/** Where fan-out learns a tenant's aggregation rules. */
export interface AggregationRules {
  /** The rules in force for the tenant: the default with its own on top. */
  policyFor(tenantId: string): Promise<AggregationPolicy>;
}

/** Every tenant on `DEFAULT_AGGREGATION`. */
export const defaultAggregationRules: AggregationRules = {
  policyFor: async () => DEFAULT_AGGREGATION,
};

/**
 * The rules stored with each tenant's record, read once a minute per tenant per process: a change
 * applies to events fanned out from then on (an event fanned out again gets the group key of the
 * rules in force then, so a change to a type's rules while its events are retried can put an
 * actor in two groups). A failed read throws: fan-out retries the record rather than guess.
 */
export class TenantAggregationRules implements AggregationRules {
  readonly #tenants: Tenants;
  readonly #clock: Clock;
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { policy: AggregationPolicy; until: number }>();

  constructor(tenants: Tenants, clock: Clock, ttlMs = 60_000) {
    this.#tenants = tenants;
    this.#clock = clock;
    this.#ttlMs = ttlMs;
  }

  async policyFor(tenantId: string): Promise<AggregationPolicy> {
    const now = this.#clock.now();
    const cached = this.#cache.get(tenantId);
    if (cached !== undefined && cached.until > now) return cached.policy;
    const policy = effectiveAggregation((await this.#tenants.get(tenantId))?.aggregation);
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(tenantId, { policy, until: now + this.#ttlMs });
    return policy;
  }
}

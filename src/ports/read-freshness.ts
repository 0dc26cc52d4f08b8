/**
 * How fresh a read must be. `latest` (the default): it reflects every write completed before it.
 * `recent`: it may miss writes of about the last second; DynamoDB serves it as an eventually
 * consistent read at half the price of a strongly consistent one. The embedded adapters always
 * read the latest. The caller chooses, since only it knows whether a write it or its user just
 * made must show (read-modify-write, read-after-write, a copy kept for minutes without a way to
 * be told of a change).
 */
export type ReadFreshness = 'latest' | 'recent';

/** Options of a read that may ask for less than the latest. */
export interface FreshnessOptions {
  /** @default 'latest' */
  readonly freshness?: ReadFreshness;
}

import type { EmbeddedDb } from '../adapters/embedded/db.ts';
import { storeStep } from '../adapters/embedded/store-step.ts';
import type { AuditEntry } from '../domain/audit-types.ts';
import { type Channel, Outcome } from '../domain/types.ts';

/**
 * Totals of one channel, counted as distinct deliveries: a decision repeated after a crash (the
 * job came back before it was acked) counts once, so an interrupted and resumed run ends with the
 * same totals as an uninterrupted one.
 */
export interface ChannelTotals {
  /** Distinct jobs (notification, user) with at least one decision. */
  jobs: number;
  /** Distinct (notification, user, target) sent. */
  sent: number;
  suppressedQuietHours: number;
  suppressedNoConsent: number;
  suppressedPreference: number;
  suppressedFrequencyCap: number;
  suppressedNoAddress: number;
  /** Distinct jobs held back by quiet hours (they go out when the window ends). */
  deferred: number;
  /**
   * Distinct jobs not sent on their own: pushes of an aggregated group folded into the group's
   * digest push or with nothing new to show (src/domain/digest.ts), emails held for the user's
   * digest (the digest's own decisions count as theirs).
   */
  digested: number;
  /** Distinct targets whose re-delivered job the dedup store caught. */
  duplicate: number;
  /** Distinct (notification, user, target) the provider rejected for good. */
  failed: number;
  /**
   * Distinct (notification, user, target) with an attempt whose outcome is unknown (it may have
   * reached the provider); each is then re-sent as an ambiguous retry with the same ids.
   */
  unknown: number;
  /** Distinct jobs that failed every receive and went to the dead-letter queue. */
  deadLettered: number;
  /** Distinct due digests that had nothing to send. */
  skipped: number;
  /** Distinct jobs not sent because their event was retracted first. */
  retracted: number;
  /** Distinct (notification, user, device) sent a withdrawal of a retracted notification's push. */
  withdrawn: number;
  /** Distinct (notification, user, device) a withdrawal skipped: the original never reached it. */
  notShown: number;
}

/** What the audit log says about one tenant. */
export interface AuditTotals {
  readonly records: number;
  readonly channels: Readonly<Record<Channel, ChannelTotals>>;
  /** Distinct push targets the provider rejected (their devices are deactivated). */
  readonly devicesRejected: number;
}

const emptyTotals = (): ChannelTotals => ({
  jobs: 0,
  sent: 0,
  suppressedQuietHours: 0,
  suppressedNoConsent: 0,
  suppressedPreference: 0,
  suppressedFrequencyCap: 0,
  suppressedNoAddress: 0,
  deferred: 0,
  digested: 0,
  duplicate: 0,
  failed: 0,
  unknown: 0,
  deadLettered: 0,
  skipped: 0,
  retracted: 0,
  withdrawn: 0,
  notShown: 0,
});

type Counted = Exclude<keyof ChannelTotals, 'jobs'>;

/** Outcome → the counter it feeds, and whether it is counted per job or per target. */
const COUNTERS: Readonly<Record<Outcome, { readonly field: Counted; readonly perTarget: boolean }>> = {
  [Outcome.Sent]: { field: 'sent', perTarget: true },
  [Outcome.SuppressedQuietHours]: { field: 'suppressedQuietHours', perTarget: false },
  [Outcome.SuppressedNoConsent]: { field: 'suppressedNoConsent', perTarget: false },
  [Outcome.SuppressedPreference]: { field: 'suppressedPreference', perTarget: false },
  [Outcome.SuppressedNoAddress]: { field: 'suppressedNoAddress', perTarget: false },
  [Outcome.SuppressedFrequencyCap]: { field: 'suppressedFrequencyCap', perTarget: false },
  [Outcome.Deferred]: { field: 'deferred', perTarget: false },
  [Outcome.Digested]: { field: 'digested', perTarget: false },
  [Outcome.Duplicate]: { field: 'duplicate', perTarget: true },
  [Outcome.Failed]: { field: 'failed', perTarget: true },
  [Outcome.Unknown]: { field: 'unknown', perTarget: true },
  [Outcome.DeadLettered]: { field: 'deadLettered', perTarget: false },
  [Outcome.Skipped]: { field: 'skipped', perTarget: false },
  [Outcome.Retracted]: { field: 'retracted', perTarget: false },
  [Outcome.Withdrawn]: { field: 'withdrawn', perTarget: true },
  [Outcome.NotShown]: { field: 'notShown', perTarget: true },
};

/** Counts one tenant's decisions in the audit log, each distinct delivery once. */
export async function auditTotals(
  records: AsyncIterable<AuditEntry>,
  tenantId: string,
): Promise<AuditTotals> {
  const seen = { push: new Set<string>(), email: new Set<string>() } as Record<Channel, Set<string>>;
  const channels = { push: emptyTotals(), email: emptyTotals() } as Record<Channel, ChannelTotals>;
  const rejected = new Set<string>();
  let count = 0;
  for await (const r of records) {
    count++;
    if (r.tenantId !== tenantId) continue;
    const totals = channels[r.channel];
    const keys = seen[r.channel];
    if (totals === undefined || keys === undefined) continue;
    const job = `${r.notificationId}|${r.userId}`;
    if (!keys.has(job)) {
      keys.add(job);
      totals.jobs++;
    }
    const counter = COUNTERS[r.outcome];
    if (counter === undefined) continue;
    const key = `${counter.field}|${job}${counter.perTarget ? `|${r.target ?? ''}` : ''}`;
    if (keys.has(key)) continue;
    keys.add(key);
    totals[counter.field]++;
    if (r.channel === 'push' && r.outcome === Outcome.Failed && r.target !== undefined)
      rejected.add(r.target);
  }
  return { records: count, channels, devicesRejected: rejected.size };
}

/** Row counts of one tenant read from the embedded stores' tables. */
export interface StoreCounts {
  /** Events in the log. */
  readonly events: number;
  /** Fan-out-on-write inbox rows. */
  readonly inboxRows: number;
  /** Celebrity-event pointers. */
  readonly celebrityPointers: number;
}

/** Counts straight from SQLite: these tables are the stores' durable state. */
export function storeCounts(db: EmbeddedDb, tenantId: string): StoreCounts {
  const count = (table: string): number =>
    storeStep(`count ${table}`, () => {
      const row = db.sqlite
        .prepare(`SELECT count(*) AS n FROM ${table} WHERE tenant_id = ?`)
        .get(tenantId) as {
        n: number;
      };
      return Number(row.n);
    });
  return {
    events: count('event_log'),
    inboxRows: count('inbox_rows'),
    celebrityPointers: count('celebrity_pointers'),
  };
}

/**
 * Events the fan-out consumer has checkpointed past, for progress bars. Knows the embedded event
 * log's layout (shard index, integer sequence) and the checkpoint table.
 */
export function fannedOutEvents(db: EmbeddedDb, consumer = 'fanout'): number {
  return storeStep('count fanned-out events', () => {
    const row = db.sqlite
      .prepare(
        `SELECT count(*) AS n FROM event_log e
         JOIN checkpoints c ON c.consumer = ? AND c.shard_id = 'shardId-' || printf('%012d', e.shard)
         WHERE e.seq <= CAST(c.sequence AS INTEGER)`,
      )
      .get(consumer) as { n: number };
    return Number(row.n);
  });
}

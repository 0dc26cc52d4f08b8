import type { CursorCodec } from '../domain/cursor.ts';
import type { TierPolicy } from '../domain/tier.ts';
import type { Channel } from '../domain/types.ts';
import type { AuditSink } from './audit-sink.ts';
import type { CelebrityFeed } from './celebrity-feed.ts';
import type { Clock } from './clock.ts';
import type { DedupStore } from './dedup-store.ts';
import type { DeliveryQueue } from './delivery-queue.ts';
import type { Devices } from './devices.ts';
import type { DigestSchedule } from './digest-schedule.ts';
import type { Checkpoints, EventLog } from './event-log.ts';
import type { FollowerGraph } from './follower-graph.ts';
import type { FrequencyCaps } from './frequency-caps.ts';
import type { Inbox } from './inbox.ts';
import type { Logger } from './logger.ts';
import type { PreferenceCache, PreferenceStore } from './preferences.ts';
import type { RequestBuckets } from './request-buckets.ts';
import type { Tenants } from './tenants.ts';
import type { EmailTransport, PushTransport } from './transports.ts';

/**
 * Every port the pipeline needs, whatever adapters fill them. A profile (embedded, local-aws)
 * builds one of these in one place; the pipeline and the CLI take it as it is.
 */
export interface Ports {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly log: EventLog;
  readonly checkpoints: Checkpoints;
  readonly graph: FollowerGraph;
  readonly inbox: Inbox;
  readonly feed: CelebrityFeed;
  readonly queues: Readonly<Record<Channel, DeliveryQueue>>;
  readonly dedup: DedupStore;
  /** Rolling-window push counters per user, for frequency caps. */
  readonly frequencyCaps: FrequencyCaps;
  /** Pending email digests by due time (hourly and daily email cadences). */
  readonly digestSchedule: DigestSchedule;
  readonly preferences: PreferenceStore;
  readonly preferenceCache: PreferenceCache;
  readonly devices: Devices;
  readonly tenants: Tenants;
  readonly push: PushTransport;
  readonly email: EmailTransport;
  readonly audit: AuditSink;
  readonly cursors: CursorCodec;
  readonly tierPolicy: TierPolicy;
  /**
   * The HTTP API's request-limit buckets, where processes share them (Redis in AWS). Undefined: the
   * API keeps them in its own memory, right for one process.
   */
  readonly requestBuckets?: RequestBuckets;
  /** Releases connections and files. */
  close(): Promise<void>;
}

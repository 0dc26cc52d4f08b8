import type { Channel, DeliveryJob, Outcome, Preferences } from '../domain/types.ts';
import type { AuditSink } from '../ports/audit-sink.ts';
import type { Clock } from '../ports/clock.ts';
import type { DedupStore } from '../ports/dedup-store.ts';
import type { DeliveryQueue } from '../ports/delivery-queue.ts';
import type { Inbox } from '../ports/inbox.ts';
import type { Logger } from '../ports/logger.ts';
import type { PreferenceCache, PreferenceStore } from '../ports/preferences.ts';

/*
 * The seam between the channel-neutral delivery batch (`deliver.ts`) and each channel's consumer
 * (`push-consumer.ts`, `email-consumer.ts`): what a consumer needs, and what a channel supplies.
 */

/** What every delivery consumer needs, whatever its channel. */
export interface DeliveryDeps {
  /** This channel's own queue, for deferrals. */
  readonly queue: DeliveryQueue;
  readonly preferences: PreferenceStore;
  readonly preferenceCache: PreferenceCache;
  readonly dedup: DedupStore;
  readonly audit: AuditSink;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** Receives before the DLQ, as the queue's redrive policy says. @default 4 */
  readonly maxReceiveCount?: number;
  /** Dedup lease for an in-flight send. @default 60_000 */
  readonly leaseMs?: number;
  /**
   * Where retracted events' tombstones are (the inbox): a job of a retracted event is not sent but
   * audited `retracted`. One call per tenant and batch. Absent: no job is checked.
   */
  readonly retractions?: Pick<Inbox, 'retractedAmong'>;
}

/** One address a job goes to: a device, an email address. */
export interface DeliveryTarget {
  /** `targetDigest` of the token or address: what keys and audit records carry, never the raw value. */
  readonly digest: string;
}

/** Why a job that may be sent has nowhere to go. */
export interface NoTarget {
  readonly outcome: Outcome;
  readonly reason: string;
}

/**
 * What `admit` says of one job: send (undefined); send, and confirm these dedup keys the channel
 * claimed for it once its sends are confirmed (`hold`: push digest slots); held back (audited);
 * not decided (`error`: retry); or come back at `deferUntil` (epoch ms), acked meanwhile.
 */
export type Admission =
  | NoTarget
  | { readonly error: unknown }
  | { readonly hold: readonly string[] }
  | { readonly deferUntil: number }
  | undefined;

/** One job whose preferences allow a send, asking where it goes. */
export interface TargetRequest {
  readonly job: DeliveryJob;
  readonly prefs: Preferences;
  /** How many times the queue has delivered the job (1 on the first receive). */
  readonly attempt?: number;
}

export type SendOutcome =
  | { readonly status: 'sent' }
  | {
      readonly status: 'rejected';
      readonly reason: string;
      /**
       * Work the rejection calls for (deactivating a dead device token), run only once the
       * decision is audited and confirmed: done earlier, a crash before the audit append would
       * turn the redelivered job's `failed` into `suppressed_no_address` and lose the record.
       */
      readonly afterAudit?: () => Promise<void>;
    };

/** What differs between channels: where a job goes, and how one send is made. */
export interface ChannelDriver<T extends DeliveryTarget> {
  readonly channel: Channel;
  targets(job: DeliveryJob, prefs: Preferences): Promise<readonly T[] | NoTarget>;
  /**
   * `targets` of many jobs in one call, one answer per job in order: a batch then reads its
   * addresses once (one query for thousands of jobs) instead of once per job. Optional; a throw
   * fails every job asked about.
   */
  targetsMany?(requests: readonly TargetRequest[]): Promise<(readonly T[] | NoTarget)[]>;
  /**
   * The channel's last check of jobs that may be sent and have targets, before their dedup claim:
   * one answer per request in order, undefined to send, why the job is held back (audited as
   * such), or an error to retry the job with nothing sent. Push uses it for frequency caps.
   * Optional; a throw fails (retries) every job asked about.
   */
  admit?(requests: readonly TargetRequest[]): Promise<Admission[]>;
  /**
   * Sends to one target. `ambiguousRetry`: a previous attempt may have reached the provider; the
   * message carries the same deterministic ids so the provider or the device collapses it.
   * Throws TransportRetryableError to ask for a retry.
   */
  send(job: DeliveryJob, target: T, ambiguousRetry: boolean): Promise<SendOutcome>;
}
